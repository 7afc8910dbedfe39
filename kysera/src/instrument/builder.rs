//! [`QueryMonitorBuilder`]: what a [`QueryMonitor`] records and where it sends it.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::buffer::RecentQueries;
use super::event::QueryRecord;
use super::jsonl::JsonLines;
use super::profiler::Profiler;
use super::redact::Redaction;
use super::{QueryMonitor, Shared, SlowQueries};
use crate::error::{Error, Result};

/// Recent queries kept by default.
pub const DEFAULT_BUFFER_CAPACITY: usize = 1_000;
/// Longest SQL text kept per buffered query by default, in bytes.
pub const DEFAULT_BUFFER_SQL_LIMIT: usize = 8 * 1024;
/// Distinct statements the profiler tracks by default.
pub const DEFAULT_MAX_STATEMENTS: usize = 500;

/// Settings of a [`QueryMonitor`]; start from [`QueryMonitor::builder`].
///
/// By default a monitor keeps the last [`DEFAULT_BUFFER_CAPACITY`] queries, profiles every
/// statement, shows every bind parameter, has no slow-query callback and writes no file.
#[must_use]
pub struct QueryMonitorBuilder {
    redaction: Redaction,
    slow: Option<SlowQueries>,
    buffer_capacity: usize,
    buffer_sql_limit: usize,
    profiler: bool,
    max_statements: usize,
    json_lines: Option<PathBuf>,
    tracing: bool,
}

impl std::fmt::Debug for QueryMonitorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryMonitorBuilder")
            .field("redaction", &self.redaction)
            .field("slow_threshold", &self.slow.as_ref().map(|s| s.threshold))
            .field("buffer_capacity", &self.buffer_capacity)
            .field("profiler", &self.profiler)
            .field("json_lines", &self.json_lines)
            .field("tracing", &self.tracing)
            .finish()
    }
}

impl Default for QueryMonitorBuilder {
    fn default() -> Self {
        QueryMonitorBuilder {
            redaction: Redaction::default(),
            slow: None,
            buffer_capacity: DEFAULT_BUFFER_CAPACITY,
            buffer_sql_limit: DEFAULT_BUFFER_SQL_LIMIT,
            profiler: true,
            max_statements: DEFAULT_MAX_STATEMENTS,
            json_lines: None,
            tracing: false,
        }
    }
}

impl QueryMonitorBuilder {
    /// Which bind parameters are hidden (default: none).
    pub fn redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// Calls `callback` with every query that took `threshold` or longer (and marks it
    /// `slow`). It runs on the thread that ran the query, right after it: keep it short.
    pub fn slow_queries(
        mut self,
        threshold: Duration,
        callback: impl Fn(&QueryRecord) + Send + Sync + 'static,
    ) -> Self {
        self.slow = Some(SlowQueries {
            threshold,
            callback: Arc::new(callback),
        });
        self
    }

    /// Keeps the last `capacity` queries for [`QueryMonitor::recent`] (0 keeps none).
    pub fn buffer(mut self, capacity: usize) -> Self {
        self.buffer_capacity = capacity;
        self
    }

    /// Cuts the SQL (and error message) of a buffered query to `bytes`, so the buffer's size
    /// has a bound; bind values are cut to 256 bytes and to 64 per query. The file and
    /// `tracing` outputs and the slow-query callback always get the whole query.
    pub fn buffer_sql_limit(mut self, bytes: usize) -> Self {
        self.buffer_sql_limit = bytes;
        self
    }

    /// Turns the profiler on (the default) or off.
    pub fn profiler(mut self, on: bool) -> Self {
        self.profiler = on;
        self
    }

    /// How many distinct normalised statements the profiler tracks; later ones are counted
    /// together under [`OTHER_STATEMENTS`](super::OTHER_STATEMENTS). At least 1.
    pub fn max_statements(mut self, n: usize) -> Self {
        self.max_statements = n;
        self
    }

    /// Appends one JSON line per query to the file at `path` (created if missing).
    pub fn json_lines(mut self, path: impl Into<PathBuf>) -> Self {
        self.json_lines = Some(path.into());
        self
    }

    /// Emits a `tracing` event per query (target `kysera::query`).
    #[cfg(feature = "tracing")]
    pub fn tracing(mut self, on: bool) -> Self {
        self.tracing = on;
        self
    }

    /// The monitor; fails when the JSON-lines file cannot be opened or a setting is out of
    /// range.
    pub fn build(self) -> Result<QueryMonitor> {
        if self.profiler && self.max_statements == 0 {
            return Err(Error::InvalidArgument(
                "max_statements must be at least 1 when the profiler is on".into(),
            ));
        }
        let json_lines = match &self.json_lines {
            Some(path) => Some(Mutex::new(JsonLines::open(path)?)),
            None => None,
        };
        let buffer = (self.buffer_capacity > 0).then(|| {
            Mutex::new(RecentQueries::new(
                self.buffer_capacity,
                self.buffer_sql_limit,
            ))
        });
        let profiler = self
            .profiler
            .then(|| Mutex::new(Profiler::new(self.max_statements)));
        Ok(QueryMonitor {
            shared: Arc::new(Shared {
                redaction: self.redaction,
                slow: self.slow,
                buffer,
                profiler,
                json_lines,
                tracing: self.tracing,
                sequence: AtomicU64::new(0),
            }),
        })
    }
}
