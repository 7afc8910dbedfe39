//! The Diesel instrumentation a [`Conn`](crate::Conn) installs on its connection: it feeds the
//! plugins' `on_query` and the connection's [`QueryMonitor`], and lets the `Conn` attach row
//! counts to the statements its calls run.
//!
//! It is installed only when the connection has plugins or a monitor. A pooled connection
//! keeps it when returned, so the `Conn` switches it off when dropped (it then ignores every
//! event, such as the pool's check-out ping) rather than leave it feeding its plugins and
//! monitor on someone else's behalf.

use std::time::Instant;

use chrono::{DateTime, Utc};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::QueryResult;

use super::capture::capture;
use super::event::{Outcome, QueryRecord};
use super::rows::ResultRows;
use super::QueryMonitor;
use crate::connection::{dispatch, AnyConnection};
use crate::error::BackendKind;
use crate::plugin::Plugins;

/// Records held back while a call runs, at most: a call that runs more statements than this
/// (or that panicked and never released them) publishes the rest at once.
const MAX_HELD: usize = 16;

/// The instrumentation of one connection.
pub(crate) struct Observer {
    /// False once the owning `Conn` is gone: events are ignored.
    active: bool,
    plugins: Plugins,
    monitor: Option<QueryMonitor>,
    backend: BackendKind,
    started: Instant,
    started_at: DateTime<Utc>,
    /// Reused buffer for the query's `Debug` text.
    scratch: String,
    /// True while a `Conn` call runs whose result may give the row count.
    holding: bool,
    held: Vec<QueryRecord>,
}

impl Observer {
    fn new(backend: BackendKind, plugins: Plugins, monitor: Option<QueryMonitor>) -> Self {
        Observer {
            active: true,
            plugins,
            monitor,
            backend,
            started: Instant::now(),
            started_at: Utc::now(),
            scratch: String::new(),
            holding: false,
            held: Vec::new(),
        }
    }

    fn finish(
        &mut self,
        query: &dyn diesel::connection::DebugQuery,
        error: Option<&diesel::result::Error>,
    ) {
        let duration = self.started.elapsed();
        if !self.plugins.is_empty() {
            let sql = query.to_string();
            let error = error.map(|e| e.to_string());
            let event = crate::plugin::QueryEvent {
                sql: &sql,
                duration,
                error: error.as_deref(),
            };
            for plugin in self.plugins.iter() {
                plugin.on_query(&event);
            }
        }
        let Some(monitor) = &self.monitor else {
            return;
        };
        let (sql, binds) = capture(query, &mut self.scratch);
        let record = QueryRecord {
            sequence: 0,
            started_at: self.started_at,
            backend: self.backend,
            sql,
            binds,
            duration,
            rows: None,
            outcome: error.map_or(Outcome::Ok, |e| Outcome::Error(e.to_string())),
            slow: false,
        };
        if self.holding && self.held.len() < MAX_HELD {
            self.held.push(record);
        } else {
            monitor.record(record);
        }
    }

    /// Publishes the held records; `rows` goes to the statement when the call ran exactly
    /// one and it succeeded.
    fn release(&mut self, rows: Option<u64>) {
        self.holding = false;
        let Some(monitor) = &self.monitor else {
            self.held.clear();
            return;
        };
        if let [only] = self.held.as_mut_slice() {
            if only.outcome.is_ok() {
                only.rows = rows;
            }
        }
        for record in self.held.drain(..) {
            monitor.record(record);
        }
    }

    /// Publishes the held records of a call that failed with `error`. SQLite reports a
    /// statement whose rows fail to load (an `INSERT ... RETURNING` that violates a
    /// constraint) as finished without error; the call's error says otherwise, and belongs
    /// to the last statement it ran.
    fn release_failed(&mut self, error: &diesel::result::Error) {
        if !self.held.iter().any(|r| !r.outcome.is_ok()) {
            if let Some(last) = self.held.last_mut() {
                last.outcome = Outcome::Error(error.to_string());
            }
        }
        self.release(None);
    }
}

impl Instrumentation for Observer {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if !self.active {
            return;
        }
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                if self.monitor.is_some() {
                    self.started_at = Utc::now();
                }
                self.started = Instant::now();
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => self.finish(query, error),
            _ => {}
        }
    }
}

/// The observer installed on `conn`, if any.
fn observer_mut(conn: &mut AnyConnection) -> Option<&mut Observer> {
    dispatch!(conn, c => diesel::Connection::instrumentation(c).downcast_mut::<Observer>())
}

/// Makes `conn` report to `plugins` and `monitor`: installs the observer when either is
/// there, empties one left by a previous owner otherwise, and installs nothing (no cost at
/// all) on a connection that never had one.
pub(crate) fn install(
    conn: &mut AnyConnection,
    backend: BackendKind,
    plugins: &Plugins,
    monitor: Option<&QueryMonitor>,
) {
    let wanted = !plugins.is_empty() || monitor.is_some();
    match observer_mut(conn) {
        Some(observer) => {
            // Records held by a call that panicked belong to the previous owner.
            observer.release(None);
            observer.active = wanted;
            observer.plugins = plugins.clone();
            observer.monitor = monitor.cloned();
        }
        None if wanted => {
            conn.set_instrumentation(Observer::new(backend, plugins.clone(), monitor.cloned()))
        }
        None => {}
    }
}

/// Switches off the observer of `conn`, if any: called when its `Conn` is dropped.
pub(crate) fn detach(conn: &mut AnyConnection) {
    if let Some(observer) = observer_mut(conn) {
        observer.release(None);
        observer.active = false;
        // Lets the monitor (and its file) go when nothing else holds it.
        observer.monitor = None;
    }
}

/// Runs `f` on `conn`, then gives its result's row count to the statement it ran.
pub(crate) fn with_row_count<R: ResultRows>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> QueryResult<R>,
) -> QueryResult<R> {
    if let Some(observer) = observer_mut(conn) {
        observer.release(None);
        observer.holding = true;
    }
    let result = f(conn);
    if let Some(observer) = observer_mut(conn) {
        match &result {
            Ok(value) => observer.release(value.rows()),
            Err(error) => observer.release_failed(error),
        }
    }
    result
}
