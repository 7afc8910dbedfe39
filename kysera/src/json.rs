//! Column values as JSON: how audit rows record values and plugins see and change them.
//!
//! [`ToJson`] and [`FromJson`] cover the types the derive maps to SQL. Generated code calls
//! them through [`Json`] and [`FromJsonTag`] so that a field of any other type still compiles:
//! it is recorded as `"<type name>"` and cannot be restored from JSON (a runtime error).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Number, Value};

/// Column name → value.
pub type JsonMap = Map<String, Value>;

/// A value with a JSON form.
pub trait ToJson {
    /// The JSON form.
    fn to_json(&self) -> Value;
}

/// A value that can be read from its JSON form.
pub trait FromJson: Sized {
    /// Reads the value; the error says what was expected.
    fn from_json(value: &Value) -> Result<Self, String>;
}

/// A struct whose fields convert to and from a JSON object keyed by column name.
pub trait JsonFields: Sized {
    /// The fields as `{column: value}`; for an Update struct only the fields it sets.
    fn to_json(&self) -> JsonMap;
    /// Reads the struct back; missing optional fields are `None`.
    fn from_json(values: &JsonMap) -> crate::Result<Self>;
}

macro_rules! json_int {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Value {
                Value::Number(Number::from(*self))
            }
        }
        impl FromJson for $t {
            fn from_json(value: &Value) -> Result<Self, String> {
                value
                    .as_i64()
                    .and_then(|v| <$t>::try_from(v).ok())
                    .ok_or_else(|| format!("expected an integer fitting {}, got {value}", stringify!($t)))
            }
        }
    )*};
}
json_int!(i16, i32, i64);

macro_rules! json_float {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Value {
                Number::from_f64(f64::from(*self)).map(Value::Number).unwrap_or(Value::Null)
            }
        }
        impl FromJson for $t {
            fn from_json(value: &Value) -> Result<Self, String> {
                value.as_f64().map(|v| v as $t).ok_or_else(|| format!("expected a number, got {value}"))
            }
        }
    )*};
}
json_float!(f32, f64);

impl ToJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}
impl FromJson for bool {
    fn from_json(value: &Value) -> Result<Self, String> {
        value
            .as_bool()
            .ok_or_else(|| format!("expected a boolean, got {value}"))
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}
impl FromJson for String {
    fn from_json(value: &Value) -> Result<Self, String> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("expected a string, got {value}"))
    }
}

impl ToJson for Value {
    fn to_json(&self) -> Value {
        self.clone()
    }
}
impl FromJson for Value {
    fn from_json(value: &Value) -> Result<Self, String> {
        Ok(value.clone())
    }
}

/// Hyphenated text, as SQLite and MySQL store it.
#[cfg(feature = "uuid")]
impl ToJson for crate::sql_types::UuidValue {
    fn to_json(&self) -> Value {
        Value::String(self.to_string())
    }
}
#[cfg(feature = "uuid")]
impl FromJson for crate::sql_types::UuidValue {
    fn from_json(value: &Value) -> Result<Self, String> {
        let text = value
            .as_str()
            .ok_or_else(|| format!("expected a UUID string, got {value}"))?;
        text.parse()
            .map_err(|e| format!("expected a UUID, got {text:?}: {e}"))
    }
}

impl ToJson for Vec<u8> {
    fn to_json(&self) -> Value {
        Value::Array(
            self.iter()
                .map(|b| Value::Number(Number::from(*b)))
                .collect(),
        )
    }
}
impl FromJson for Vec<u8> {
    fn from_json(value: &Value) -> Result<Self, String> {
        let items = value
            .as_array()
            .ok_or_else(|| format!("expected an array of bytes, got {value}"))?;
        items
            .iter()
            .map(|b| {
                b.as_u64()
                    .and_then(|b| u8::try_from(b).ok())
                    .ok_or_else(|| format!("expected a byte, got {b}"))
            })
            .collect()
    }
}

macro_rules! json_chrono {
    ($($t:ty => $format:literal),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Value {
                Value::String(self.format($format).to_string())
            }
        }
        impl FromJson for $t {
            fn from_json(value: &Value) -> Result<Self, String> {
                let text = value.as_str().ok_or_else(|| format!("expected a date/time string, got {value}"))?;
                <$t>::parse_from_str(text, $format).map_err(|e| format!("`{text}`: {e}"))
            }
        }
    )*};
}
json_chrono!(NaiveDateTime => "%Y-%m-%dT%H:%M:%S%.f", NaiveDate => "%Y-%m-%d", NaiveTime => "%H:%M:%S%.f");

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToJson::to_json)
    }
}
impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: &Value) -> Result<Self, String> {
        if value.is_null() {
            Ok(None)
        } else {
            T::from_json(value).map(Some)
        }
    }
}

/// Autoref dispatch for generated code: `(&Json(&v)).json()` uses [`ToJson`] when `v` has it.
pub struct Json<'a, T: ?Sized>(pub &'a T);

/// Picked when the value implements [`ToJson`].
pub trait ViaToJson {
    /// The JSON form.
    fn json(&self) -> Value;
}
impl<T: ToJson + ?Sized> ViaToJson for Json<'_, T> {
    fn json(&self) -> Value {
        self.0.to_json()
    }
}

/// Picked otherwise: the type's name stands in for the value.
pub trait ViaTypeName {
    /// `"<type name>"`.
    fn json(&self) -> Value;
}
impl<T: ?Sized> ViaTypeName for &Json<'_, T> {
    fn json(&self) -> Value {
        Value::String(format!("<{}>", std::any::type_name::<T>()))
    }
}

/// Autoref dispatch for generated code: `(&FromJsonTag::<T>::new()).read(v)`.
pub struct FromJsonTag<T>(std::marker::PhantomData<fn() -> T>);

impl<T> FromJsonTag<T> {
    /// The tag for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        FromJsonTag(std::marker::PhantomData)
    }
}

/// Picked when the type implements [`FromJson`].
pub trait ViaFromJson<T> {
    /// Reads the value.
    fn read(&self, value: &Value) -> Result<T, String>;
}
impl<T: FromJson> ViaFromJson<T> for FromJsonTag<T> {
    fn read(&self, value: &Value) -> Result<T, String> {
        T::from_json(value)
    }
}

/// Picked otherwise: the type cannot be read from JSON.
pub trait ViaUnreadable<T> {
    /// Always an error naming the type.
    fn read(&self, value: &Value) -> Result<T, String>;
}
impl<T> ViaUnreadable<T> for &FromJsonTag<T> {
    fn read(&self, _value: &Value) -> Result<T, String> {
        Err(format!(
            "`{}` cannot be read from JSON",
            std::any::type_name::<T>()
        ))
    }
}

/// Reads field `column` of `values` for generated `from_json`: `Ok(None)` when absent.
pub fn field<T>(
    values: &JsonMap,
    column: &str,
    read: impl FnOnce(&Value) -> Result<T, String>,
) -> crate::Result<Option<T>> {
    match values.get(column) {
        None => Ok(None),
        Some(value) => read(value)
            .map(Some)
            .map_err(|e| crate::Error::InvalidArgument(format!("column `{column}`: {e}"))),
    }
}

/// Like [`field`], for a field that must be present.
pub fn required<T>(
    values: &JsonMap,
    column: &str,
    read: impl FnOnce(&Value) -> Result<T, String>,
) -> crate::Result<T> {
    field(values, column, read)?
        .ok_or_else(|| crate::Error::InvalidArgument(format!("column `{column}` is missing")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let at = NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_micro_opt(1, 2, 3, 456)
            .unwrap();
        assert_eq!(NaiveDateTime::from_json(&at.to_json()).unwrap(), at);
        assert_eq!(Option::<i32>::from_json(&Value::Null).unwrap(), None);
        assert_eq!(
            i16::from_json(&Value::from(70000)).unwrap_err(),
            "expected an integer fitting i16, got 70000"
        );
        assert_eq!(
            Vec::<u8>::from_json(&vec![1u8, 2].to_json()).unwrap(),
            vec![1, 2]
        );
    }

    #[test]
    // The borrows select the impl: that is the mechanism under test.
    #[allow(clippy::needless_borrow)]
    fn autoref_falls_back_for_other_types() {
        struct Opaque;
        let known = (&Json(&5i64)).json();
        assert_eq!(known, Value::from(5));
        let unknown = (&Json(&Opaque)).json();
        assert!(unknown.as_str().unwrap().contains("Opaque"));
        let read: Result<Opaque, String> = (&FromJsonTag::<Opaque>::new()).read(&Value::Null);
        assert!(read.is_err());
    }
}
