//! A position's values: read from a row, written into and read back from a cursor, each
//! typed by its column's [`SqlKind`] so that it binds with the column's own SQL type.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::Value;

use crate::json::{FromJson, ToJson};
use crate::model::SqlKind;

/// One value of a keyset position, typed by the kind of its column.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum KeyValue {
    /// SQL NULL (in a nullable column).
    Null,
    /// A `SMALLINT`.
    SmallInt(i16),
    /// An `INTEGER`.
    Integer(i32),
    /// A `BIGINT`.
    BigInt(i64),
    /// A `REAL`.
    Float(f32),
    /// A `DOUBLE PRECISION`.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// Text.
    Text(String),
    /// A timestamp without time zone.
    Timestamp(NaiveDateTime),
    /// A date.
    Date(NaiveDate),
    /// A time of day.
    Time(NaiveTime),
    /// Bytes.
    Binary(Vec<u8>),
    /// A UUID.
    #[cfg(feature = "uuid")]
    Uuid(crate::sql_types::UuidValue),
}

/// The tag a value of `kind` carries in a cursor; `None` for kinds that cannot order a
/// keyset (JSON has no order on PostgreSQL; `Other` cannot be bound).
pub(crate) fn tag(kind: SqlKind) -> Option<&'static str> {
    Some(match kind {
        SqlKind::SmallInt => "i2",
        SqlKind::Integer => "i4",
        SqlKind::BigInt => "i8",
        SqlKind::Float => "f4",
        SqlKind::Double => "f8",
        SqlKind::Bool => "b",
        SqlKind::Text => "t",
        SqlKind::Timestamp => "ts",
        SqlKind::Date => "d",
        SqlKind::Time => "tm",
        SqlKind::Binary => "by",
        #[cfg(feature = "uuid")]
        SqlKind::Uuid => "u",
        #[cfg(not(feature = "uuid"))]
        SqlKind::Uuid => return None,
        SqlKind::Json | SqlKind::Other => return None,
    })
}

impl KeyValue {
    /// True for SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, KeyValue::Null)
    }

    /// Reads a column of `kind` from its JSON form as [`JsonFields::to_json`] writes it.
    ///
    /// [`JsonFields::to_json`]: crate::json::JsonFields::to_json
    pub(crate) fn from_row(kind: SqlKind, value: &Value) -> Result<Self, String> {
        if value.is_null() {
            return Ok(KeyValue::Null);
        }
        Ok(match kind {
            SqlKind::SmallInt => KeyValue::SmallInt(i16::from_json(value)?),
            SqlKind::Integer => KeyValue::Integer(i32::from_json(value)?),
            SqlKind::BigInt => KeyValue::BigInt(i64::from_json(value)?),
            SqlKind::Float => KeyValue::Float(f32::from_json(value)?),
            SqlKind::Double => KeyValue::Double(f64::from_json(value)?),
            SqlKind::Bool => KeyValue::Bool(bool::from_json(value)?),
            SqlKind::Text => KeyValue::Text(String::from_json(value)?),
            SqlKind::Timestamp => KeyValue::Timestamp(NaiveDateTime::from_json(value)?),
            SqlKind::Date => KeyValue::Date(NaiveDate::from_json(value)?),
            SqlKind::Time => KeyValue::Time(NaiveTime::from_json(value)?),
            SqlKind::Binary => KeyValue::Binary(Vec::<u8>::from_json(value)?),
            #[cfg(feature = "uuid")]
            SqlKind::Uuid => KeyValue::Uuid(crate::sql_types::UuidValue::from_json(value)?),
            #[cfg(not(feature = "uuid"))]
            SqlKind::Uuid => return Err("UUID columns need kysera's `uuid` feature".into()),
            SqlKind::Json | SqlKind::Other => {
                return Err(format!("a {kind:?} column cannot order a keyset"))
            }
        })
    }

    /// The cursor form: `null`, or `[tag, value]`. Floats travel as their bit patterns, so
    /// the position is exact; bytes as base64url.
    pub(crate) fn to_tagged(&self) -> Value {
        let (tag, value) = match self {
            KeyValue::Null => return Value::Null,
            KeyValue::SmallInt(v) => ("i2", Value::from(*v)),
            KeyValue::Integer(v) => ("i4", Value::from(*v)),
            KeyValue::BigInt(v) => ("i8", Value::from(*v)),
            KeyValue::Float(v) => ("f4", Value::from(v.to_bits())),
            KeyValue::Double(v) => ("f8", Value::from(v.to_bits())),
            KeyValue::Bool(v) => ("b", Value::from(*v)),
            KeyValue::Text(v) => ("t", Value::from(v.as_str())),
            KeyValue::Timestamp(v) => ("ts", v.to_json()),
            KeyValue::Date(v) => ("d", v.to_json()),
            KeyValue::Time(v) => ("tm", v.to_json()),
            KeyValue::Binary(v) => ("by", Value::from(URL_SAFE_NO_PAD.encode(v))),
            #[cfg(feature = "uuid")]
            KeyValue::Uuid(v) => ("u", v.to_json()),
        };
        Value::Array(vec![Value::from(tag), value])
    }

    /// Reads the cursor form back for a column of `kind`; the tag must be that kind's, and
    /// NULL is accepted only for a nullable column.
    pub(crate) fn from_tagged(
        kind: SqlKind,
        nullable: bool,
        value: &Value,
    ) -> Result<Self, String> {
        if value.is_null() {
            return if nullable {
                Ok(KeyValue::Null)
            } else {
                Err("NULL for a column that is not nullable".into())
            };
        }
        let expected =
            tag(kind).ok_or_else(|| format!("a {kind:?} column cannot order a keyset"))?;
        let (found, inner) = match value.as_array().map(Vec::as_slice) {
            Some([Value::String(found), inner]) => (found.as_str(), inner),
            _ => return Err(format!("expected [tag, value], got {value}")),
        };
        if found != expected {
            return Err(format!(
                "tagged `{found}`, but the column holds `{expected}` values"
            ));
        }
        Ok(match kind {
            SqlKind::Float => {
                let bits = inner
                    .as_u64()
                    .and_then(|b| u32::try_from(b).ok())
                    .ok_or_else(|| format!("expected the bits of a REAL, got {inner}"))?;
                KeyValue::Float(f32::from_bits(bits))
            }
            SqlKind::Double => {
                let bits = inner
                    .as_u64()
                    .ok_or_else(|| format!("expected the bits of a DOUBLE, got {inner}"))?;
                KeyValue::Double(f64::from_bits(bits))
            }
            SqlKind::Binary => {
                let text = inner
                    .as_str()
                    .ok_or_else(|| format!("expected base64url bytes, got {inner}"))?;
                KeyValue::Binary(
                    URL_SAFE_NO_PAD
                        .decode(text)
                        .map_err(|_| "bytes are not base64url".to_string())?,
                )
            }
            _ => Self::from_row(kind, inner)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_exactly() {
        let at = NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_nano_opt(3, 4, 5, 123_456_789)
            .unwrap();
        let cases = [
            (SqlKind::SmallInt, KeyValue::SmallInt(-7)),
            (SqlKind::Integer, KeyValue::Integer(i32::MIN)),
            (SqlKind::BigInt, KeyValue::BigInt(i64::MAX)),
            (SqlKind::Float, KeyValue::Float(0.1)),
            (SqlKind::Double, KeyValue::Double(0.1 + 0.2)),
            (SqlKind::Bool, KeyValue::Bool(true)),
            (SqlKind::Text, KeyValue::Text("é\"'".into())),
            (SqlKind::Timestamp, KeyValue::Timestamp(at)),
            (SqlKind::Date, KeyValue::Date(at.date())),
            (SqlKind::Time, KeyValue::Time(at.time())),
            (SqlKind::Binary, KeyValue::Binary(vec![0, 255, 1])),
            (SqlKind::Text, KeyValue::Null),
        ];
        for (kind, value) in cases {
            let back = KeyValue::from_tagged(kind, true, &value.to_tagged()).unwrap();
            assert_eq!(back, value, "{kind:?}");
        }
    }

    #[test]
    fn mismatches_are_refused() {
        let int = KeyValue::BigInt(5).to_tagged();
        assert!(KeyValue::from_tagged(SqlKind::Text, false, &int).is_err());
        assert!(KeyValue::from_tagged(SqlKind::BigInt, false, &Value::Null).is_err());
        assert!(
            KeyValue::from_tagged(SqlKind::SmallInt, false, &serde_json::json!(["i2", 70000]))
                .is_err()
        );
        assert!(
            KeyValue::from_tagged(SqlKind::Float, false, &serde_json::json!(["f4", u64::MAX]))
                .is_err()
        );
        assert!(KeyValue::from_tagged(SqlKind::BigInt, false, &serde_json::json!(5)).is_err());
        assert!(
            KeyValue::from_tagged(SqlKind::Json, true, &serde_json::json!(["t", "x"])).is_err()
        );
        assert!(KeyValue::from_tagged(
            SqlKind::Timestamp,
            false,
            &serde_json::json!(["ts", "yesterday"])
        )
        .is_err());
    }
}
