//! Query instrumentation: every statement a connection runs, with its SQL, bind parameters
//! (redactable), duration, rows and outcome; slow-query callbacks; a bounded buffer of recent
//! queries; a per-statement profiler; JSON-lines output and `tracing` events.
//!
//! Build a [`QueryMonitor`] and attach it to a pool with
//! [`Database::with_instrumentation`](crate::Database::with_instrumentation) (or to one
//! connection with [`Conn::with_instrumentation`](crate::Conn::with_instrumentation)):
//!
//! ```
//! use std::time::Duration;
//! use diesel::sql_types::Text;
//! use kysera::instrument::{QueryMonitor, Redaction};
//! use kysera::Database;
//!
//! # fn main() -> kysera::Result<()> {
//! let monitor = QueryMonitor::builder()
//!     .slow_queries(Duration::from_millis(100), |q| eprintln!("slow: {} ({:?})", q.sql, q.duration))
//!     .redaction(Redaction::default().hide_columns(["password_hash"]))
//!     .build()?;
//! let db = Database::connect("sqlite::memory:")?.with_instrumentation(monitor.clone());
//! let conn = db.conn()?;
//! conn.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")?;
//! conn.execute(diesel::sql_query("INSERT INTO t (name) VALUES (?)").bind::<Text, _>("ada"))?;
//!
//! let last = monitor.recent().pop().expect("recorded");
//! assert_eq!(last.sql, "INSERT INTO t (name) VALUES (?)");
//! assert_eq!(last.binds, [r#""ada""#]);
//! assert_eq!(last.rows, Some(1));
//! let report = monitor.profile();
//! assert_eq!(report.most_frequent(1)[0].count, 1);
//! # Ok(()) }
//! ```
//!
//! # How statements are observed
//!
//! The monitor is fed by Diesel's instrumentation (`InstrumentationEvent::StartQuery` and
//! `FinishQuery`), so it sees every statement the connection sends: repository calls, Diesel
//! code run through [`Conn::with_connection`](crate::Conn::with_connection), migrations, and
//! the transaction control Diesel issues (`BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT ...`).
//! The duration runs from sending the statement to having read its last row. The SQL is
//! Diesel's text with placeholders (`?` on SQLite and MySQL, `$1` on PostgreSQL) and the
//! binds are Diesel's `Debug` forms of the values.
//!
//! # Rows
//!
//! Diesel does not report row counts. Kysera knows them where it holds the result: the rows
//! a repository call or [`Conn::load`](crate::Conn::load)/[`Conn::first`](crate::Conn::first)
//! returned, and the count [`Conn::execute`](crate::Conn::execute) or a repository delete
//! affected (a `COUNT(*)` or `EXISTS` reads one row). The count is attached only when that
//! call ran exactly one statement, so it always belongs to its query. `rows` is `None` for:
//! statements run through `with_connection` or `batch_execute`, transaction control, failed
//! statements, and calls that run several statements in one go (on MySQL, a write and the
//! `SELECT` that reads the written rows back).
//!
//! # Cost
//!
//! A connection without a monitor (and without plugins) has no Diesel instrumentation
//! installed at all: no event is raised, nothing is formatted, and a repository call costs
//! one `Option` check more than before. With a monitor, Diesel formats each statement once
//! (SQL and binds) and the record goes to the enabled outputs. Measured in
//! `benches/benches/instrumentation.rs` on a primary-key lookup (see `benches/README.md`):
//! about 1.2 µs per query with the buffer and the profiler (SQLite: 1.8 µs → 3.0 µs, the
//! cheapest query there is; PostgreSQL: 2 to 5 µs on a 20 to 110 µs round trip), about
//! 1 µs more with the JSON-lines file.
//!
//! SQLite reports a statement whose rows fail to load (an `INSERT ... RETURNING` that breaks
//! a constraint) as finished without error; for calls that go through kysera (repositories,
//! [`Conn::load`](crate::Conn::load), [`Conn::execute`](crate::Conn::execute)) the call's
//! error is attached to its statement, but Diesel code run through `with_connection` keeps
//! Diesel's verdict.
//!
//! # Memory
//!
//! The buffer holds a fixed number of records, each cut to a fixed size
//! ([`QueryMonitorBuilder::buffer_sql_limit`]); the profiler keeps per statement a fixed-size
//! histogram ([`ProfileReport`] percentiles are within 6.25 %) and tracks at most
//! [`QueryMonitorBuilder::max_statements`] distinct statements, counting the rest under
//! [`OTHER_STATEMENTS`]. Neither grows with the number of queries.

mod bind_columns;
mod buffer;
mod builder;
mod capture;
mod event;
mod histogram;
mod jsonl;
mod lexer;
mod normalize;
pub(crate) mod observer;
mod profiler;
mod redact;
pub(crate) mod rows;
#[cfg(feature = "tracing")]
mod tracing_events;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use builder::{
    QueryMonitorBuilder, DEFAULT_BUFFER_CAPACITY, DEFAULT_BUFFER_SQL_LIMIT, DEFAULT_MAX_STATEMENTS,
};
pub use event::{Outcome, QueryRecord, REDACTED};
pub use normalize::normalize as normalize_statement;
pub use profiler::{ProfileReport, StatementProfile, OTHER_STATEMENTS};
pub use redact::{BindParam, Redaction};

use buffer::RecentQueries;
use jsonl::JsonLines;
use profiler::Profiler;

/// Records queries: the handle given to a [`Database`](crate::Database) or
/// [`Conn`](crate::Conn), and the place to read what was recorded. Cheap to clone; clones
/// share everything (buffer, profiler, file).
#[derive(Clone)]
pub struct QueryMonitor {
    shared: Arc<Shared>,
}

/// What every clone of a monitor shares.
struct Shared {
    redaction: Redaction,
    slow: Option<SlowQueries>,
    buffer: Option<Mutex<RecentQueries>>,
    profiler: Option<Mutex<Profiler>>,
    json_lines: Option<Mutex<JsonLines>>,
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    tracing: bool,
    sequence: AtomicU64,
}

/// The slow-query threshold and what to call past it.
struct SlowQueries {
    threshold: Duration,
    callback: Arc<dyn Fn(&QueryRecord) + Send + Sync>,
}

/// Sizes of what a monitor holds, to check it stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MonitorStats {
    /// Queries recorded since the monitor was built.
    pub recorded: u64,
    /// Queries in the buffer now.
    pub buffered: usize,
    /// The most the buffer holds.
    pub buffer_capacity: usize,
    /// Distinct statements the profiler tracks now.
    pub statements: usize,
    /// Bytes held by the buffer and the profiler (their tables, texts and histograms).
    pub heap_bytes: usize,
}

impl std::fmt::Debug for QueryMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryMonitor")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Locks `m`; a panic elsewhere while it was held leaves data that is still consistent
/// (every update is a few field writes), so a poisoned lock is used as is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl QueryMonitor {
    /// Settings for a new monitor.
    pub fn builder() -> QueryMonitorBuilder {
        QueryMonitorBuilder::default()
    }

    /// Records one query: applies the redaction policy, numbers it, calls the slow-query
    /// callback if it is slow, and hands it to the profiler, the file, `tracing` and the
    /// buffer. Connections call this for every statement; call it yourself to record
    /// statements run elsewhere.
    pub fn record(&self, mut record: QueryRecord) {
        let shared = &*self.shared;
        shared.redaction.apply(&record.sql, &mut record.binds);
        record.sequence = shared.sequence.fetch_add(1, Ordering::Relaxed);
        if let Some(slow) = &shared.slow {
            if record.duration >= slow.threshold {
                record.slow = true;
                (slow.callback)(&record);
            }
        }
        if let Some(profiler) = &shared.profiler {
            lock(profiler).record(&record);
        }
        if let Some(out) = &shared.json_lines {
            lock(out).write(&record);
        }
        #[cfg(feature = "tracing")]
        if shared.tracing {
            tracing_events::emit(&record);
        }
        if let Some(buffer) = &shared.buffer {
            lock(buffer).push(record);
        }
    }

    /// The buffered queries, oldest first (empty when the buffer is off).
    pub fn recent(&self) -> Vec<QueryRecord> {
        self.shared
            .buffer
            .as_ref()
            .map_or_else(Vec::new, |b| lock(b).snapshot())
    }

    /// The profiler's figures so far (empty when the profiler is off).
    pub fn profile(&self) -> ProfileReport {
        self.shared
            .profiler
            .as_ref()
            .map_or_else(ProfileReport::default, |p| lock(p).report())
    }

    /// Empties the buffer and the profiler.
    pub fn clear(&self) {
        if let Some(buffer) = &self.shared.buffer {
            lock(buffer).clear();
        }
        if let Some(profiler) = &self.shared.profiler {
            lock(profiler).clear();
        }
    }

    /// Writes buffered JSON lines to the file; reports a write that failed since the last
    /// flush. Does nothing without a file.
    pub fn flush(&self) -> std::io::Result<()> {
        match &self.shared.json_lines {
            Some(out) => lock(out).flush(),
            None => Ok(()),
        }
    }

    /// How much the monitor holds now.
    pub fn stats(&self) -> MonitorStats {
        let (buffered, buffer_capacity, buffer_bytes) =
            self.shared.buffer.as_ref().map_or((0, 0, 0), |b| {
                let b = lock(b);
                (b.len(), b.capacity(), b.heap_bytes())
            });
        let (statements, profiler_bytes) = self.shared.profiler.as_ref().map_or((0, 0), |p| {
            let p = lock(p);
            (p.statement_count(), p.heap_bytes())
        });
        MonitorStats {
            recorded: self.shared.sequence.load(Ordering::Relaxed),
            buffered,
            buffer_capacity,
            statements,
            heap_bytes: buffer_bytes + profiler_bytes,
        }
    }

    /// True when `self` and `other` are clones of the same monitor.
    pub fn same_as(&self, other: &QueryMonitor) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}
