//! [`QueryRecord`]: one executed statement as the instrumentation records it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::error::BackendKind;

/// How a statement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded.
    Ok,
    /// It failed; the database's (or Diesel's) message.
    Error(String),
}

impl Outcome {
    /// True when the statement succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    /// The error message, when it failed.
    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Ok => None,
            Outcome::Error(message) => Some(message),
        }
    }
}

/// The text shown instead of a hidden bind parameter.
pub const REDACTED: &str = "<redacted>";

/// One executed statement: its SQL as sent, its bind parameters, how long it took, how many
/// rows it returned or changed (where kysera knows), and how it ended.
///
/// ```
/// use std::time::Duration;
/// use kysera::instrument::QueryRecord;
/// use kysera::BackendKind;
///
/// let record = QueryRecord::new(BackendKind::Sqlite, "SELECT 1", Duration::from_micros(12))
///     .with_rows(1);
/// assert_eq!(record.rows, Some(1));
/// assert!(record.outcome.is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueryRecord {
    /// Position in the monitor's stream of records, from 0; assigned when recorded.
    pub sequence: u64,
    /// When the statement started (wall clock, UTC).
    pub started_at: DateTime<Utc>,
    /// The backend that ran it.
    pub backend: BackendKind,
    /// The SQL as sent to the database, with its placeholders (`?` or `$1`).
    pub sql: String,
    /// The bind parameters in order, each as Diesel formats it (`42`, `"ada"`, `None`), or
    /// [`REDACTED`] where the redaction policy hides it.
    pub binds: Vec<String>,
    /// Time from sending the statement to having read its last row.
    pub duration: Duration,
    /// Rows returned (reads, `RETURNING`) or affected (writes without `RETURNING`); `None`
    /// where kysera does not see the result (see the module documentation).
    pub rows: Option<u64>,
    /// Success or the error message.
    pub outcome: Outcome,
    /// True when the duration reached the monitor's slow-query threshold.
    pub slow: bool,
}

impl QueryRecord {
    /// A successful statement that started now, without binds and with unknown rows.
    pub fn new(backend: BackendKind, sql: impl Into<String>, duration: Duration) -> Self {
        QueryRecord {
            sequence: 0,
            started_at: Utc::now(),
            backend,
            sql: sql.into(),
            binds: Vec::new(),
            duration,
            rows: None,
            outcome: Outcome::Ok,
            slow: false,
        }
    }

    /// The same record with these bind parameters.
    pub fn with_binds(mut self, binds: Vec<String>) -> Self {
        self.binds = binds;
        self
    }

    /// The same record with a row count.
    pub fn with_rows(mut self, rows: u64) -> Self {
        self.rows = Some(rows);
        self
    }

    /// The same record, failed with `message`.
    pub fn with_error(mut self, message: impl Into<String>) -> Self {
        self.outcome = Outcome::Error(message.into());
        self
    }

    /// The same record with its start time.
    pub fn with_started_at(mut self, started_at: DateTime<Utc>) -> Self {
        self.started_at = started_at;
        self
    }

    /// The duration in microseconds, with fractions.
    pub fn duration_us(&self) -> f64 {
        self.duration.as_secs_f64() * 1e6
    }
}

/// One JSON object per record: `seq`, `ts` (RFC 3339), `backend`, `sql`, `binds`,
/// `duration_us`, `rows` (or null), `outcome` (`"ok"` or `"error"`), `error` (or null),
/// `slow`.
impl Serialize for QueryRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("QueryRecord", 10)?;
        s.serialize_field("seq", &self.sequence)?;
        s.serialize_field("ts", &self.started_at)?;
        s.serialize_field("backend", &self.backend)?;
        s.serialize_field("sql", &self.sql)?;
        s.serialize_field("binds", &self.binds)?;
        s.serialize_field("duration_us", &self.duration_us())?;
        s.serialize_field("rows", &self.rows)?;
        s.serialize_field("outcome", if self.outcome.is_ok() { "ok" } else { "error" })?;
        s.serialize_field("error", &self.outcome.error())?;
        s.serialize_field("slow", &self.slow)?;
        s.end()
    }
}
