//! Date-time values given as text (fixtures, and any tool that writes rows from files), in
//! the one form each backend stores.
//!
//! SQLite has no date-time type: it stores the text it is given and compares it as text, so
//! `2024-01-01T12:00` sorts after `2024-01-01 13:00` (`T` > ` `). Repositories write through
//! Diesel, whose SQLite encoding is `%F %T%.f`; everything else that writes a date-time must
//! write exactly that, or comparisons between the two go wrong. The other backends parse the
//! text into a typed value, so the same canonical text serves them too (PostgreSQL's
//! `timestamptz` gets an explicit UTC offset).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

/// Diesel's text encodings on SQLite (`diesel::sqlite::types::date_and_time::chrono`).
const TIMESTAMP_FORMAT: &str = "%F %T%.f";
const DATE_FORMAT: &str = "%F";
const TIME_FORMAT: &str = "%T%.f";

/// The kind of date-time a column holds, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Temporal {
    /// A date and time without a zone (`TIMESTAMP`, `DATETIME`).
    Timestamp,
    /// A point in time (`timestamp with time zone`): given in UTC.
    TimestampTz,
    /// A date.
    Date,
    /// A time of day.
    Time,
}

impl Temporal {
    /// The kind of a declared type (lower case, as the catalogs give it), if it is one.
    pub(crate) fn of_declared_type(data_type: &str) -> Option<Temporal> {
        let t = data_type.trim();
        if t.starts_with("timestamp") || t.starts_with("datetime") {
            let zoned = t.contains("with time zone") || t == "timestamptz";
            Some(if zoned {
                Temporal::TimestampTz
            } else {
                Temporal::Timestamp
            })
        } else if t == "date" {
            Some(Temporal::Date)
        } else if t.starts_with("time") {
            Some(Temporal::Time)
        } else {
            None
        }
    }

    /// `text` in the canonical form, or why it is not a value of this kind.
    ///
    /// Date-times are read in ISO 8601 / RFC 3339 forms, with a space or a `T`, optional
    /// fractional seconds, and an optional `Z` or offset, which is converted to UTC.
    pub(crate) fn canonical(self, text: &str) -> Result<String, String> {
        let text = text.trim();
        match self {
            Temporal::Timestamp => parse_timestamp(text)
                .map(|t| t.format(TIMESTAMP_FORMAT).to_string())
                .ok_or_else(|| format!("`{text}` is not a date-time (e.g. 2024-01-31 12:00:00)")),
            Temporal::TimestampTz => parse_timestamp(text)
                .map(|t| format!("{}+00:00", t.format(TIMESTAMP_FORMAT)))
                .ok_or_else(|| format!("`{text}` is not a date-time (e.g. 2024-01-31T12:00:00Z)")),
            Temporal::Date => NaiveDate::parse_from_str(text, DATE_FORMAT)
                .map(|d| d.format(DATE_FORMAT).to_string())
                .map_err(|_| format!("`{text}` is not a date (e.g. 2024-01-31)")),
            Temporal::Time => ["%T%.f", "%R"]
                .iter()
                .find_map(|f| NaiveTime::parse_from_str(text, f).ok())
                .map(|t| t.format(TIME_FORMAT).to_string())
                .ok_or_else(|| format!("`{text}` is not a time of day (e.g. 12:30:00)")),
        }
    }
}

/// A date-time in UTC from the common text forms.
fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    if let Ok(zoned) = DateTime::parse_from_rfc3339(text) {
        return Some(zoned.naive_utc());
    }
    const ZONED: [&str; 2] = ["%F %T%.f%:z", "%F %T%.f%#z"];
    if let Some(zoned) = ZONED
        .iter()
        .find_map(|f| DateTime::parse_from_str(text, f).ok())
    {
        return Some(zoned.naive_utc());
    }
    const NAIVE: [&str; 4] = ["%F %T%.f", "%FT%T%.f", "%F %R", "%FT%R"];
    NAIVE
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, DATE_FORMAT)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_becomes_diesels_sqlite_text() {
        let t = Temporal::Timestamp;
        for given in [
            "2024-01-01T10:00:00",
            "2024-01-01 10:00:00",
            "2024-01-01T10:00",
            "2024-01-01T12:00:00+02:00",
            "2024-01-01 09:00:00-01:00",
            "2024-01-01T10:00:00Z",
        ] {
            assert_eq!(
                t.canonical(given).unwrap(),
                "2024-01-01 10:00:00",
                "{given}"
            );
        }
        assert_eq!(t.canonical("2024-01-01").unwrap(), "2024-01-01 00:00:00");
        assert_eq!(
            t.canonical("2024-01-01T10:00:00.25").unwrap(),
            "2024-01-01 10:00:00.250"
        );
        assert_eq!(
            Temporal::TimestampTz
                .canonical("2024-01-01T12:00:00+02:00")
                .unwrap(),
            "2024-01-01 10:00:00+00:00"
        );
        assert_eq!(
            Temporal::Date.canonical("2024-01-31").unwrap(),
            "2024-01-31"
        );
        assert_eq!(Temporal::Time.canonical("12:30").unwrap(), "12:30:00");
        assert!(t.canonical("yesterday").is_err());
        assert!(Temporal::Date.canonical("2024-02-30").is_err());
    }

    #[test]
    fn declared_types() {
        use Temporal::*;
        for (declared, kind) in [
            ("timestamp", Some(Timestamp)),
            ("timestamp without time zone", Some(Timestamp)),
            ("timestamp with time zone", Some(TimestampTz)),
            ("datetime(6)", Some(Timestamp)),
            ("date", Some(Date)),
            ("time", Some(Time)),
            ("time without time zone", Some(Time)),
            ("text", None),
            ("bigint", None),
        ] {
            assert_eq!(Temporal::of_declared_type(declared), kind, "{declared}");
        }
    }
}
