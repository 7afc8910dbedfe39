//! Health checks: round trip, server version and pool usage, judged against thresholds; and a
//! monitor that checks on an interval and reports changes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use serde::Serialize;

use crate::database::{Database, PoolState};
use crate::error::BackendKind;

/// How healthy a database is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Answering within thresholds.
    Healthy,
    /// Answering, but slowly or with a nearly exhausted pool.
    Degraded,
    /// Not answering.
    Unhealthy,
}

/// When a check counts as degraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// A round trip slower than this is degraded (default 100 ms).
    pub slow: Duration,
    /// A pool with at least this share of connections in use is degraded (default 0.9).
    pub pool_usage_percent: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            slow: Duration::from_millis(100),
            pool_usage_percent: 90,
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// The verdict.
    pub status: Status,
    /// Backend checked.
    pub backend: BackendKind,
    /// Round trip of `SELECT version`, when it answered.
    pub latency: Option<Duration>,
    /// The server's version string, when it answered.
    pub server_version: Option<String>,
    /// Connections open.
    pub pool_size: u32,
    /// Connections lent out.
    pub pool_in_use: u32,
    /// Connections idle.
    pub pool_idle: u32,
    /// The pool's maximum.
    pub pool_max: u32,
    /// Callers waiting for a connection when the check ran.
    pub pool_waiting: u32,
    /// Why it is not healthy, when it is not.
    pub problem: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

impl Database {
    /// Checks the database once.
    pub fn health(&self, thresholds: Thresholds) -> HealthReport {
        let started = Instant::now();
        let version = self.conn().and_then(|conn| {
            let sql = match self.backend() {
                BackendKind::Sqlite => "SELECT sqlite_version() AS version",
                BackendKind::Postgres => "SELECT current_setting('server_version') AS version",
                BackendKind::Mysql => "SELECT VERSION() AS version",
            };
            use diesel::RunQueryDsl;
            let rows: Vec<Version> = conn
                .with_connection(|c| crate::connection::dispatch!(c, c => diesel::sql_query(sql).load::<Version>(c)))?
                .map_err(crate::Error::from)?;
            Ok(rows.into_iter().next().map(|v| v.version))
        });
        let latency = started.elapsed();
        let pool: PoolState = self.state();
        let mut report = HealthReport {
            status: Status::Healthy,
            backend: self.backend(),
            latency: None,
            server_version: None,
            pool_size: pool.connections,
            pool_in_use: pool.in_use,
            pool_idle: pool.idle,
            pool_max: pool.max_size,
            pool_waiting: pool.waiting,
            problem: None,
        };
        match version {
            Err(err) => {
                report.status = Status::Unhealthy;
                report.problem = Some(err.to_string());
            }
            Ok(version) => {
                report.latency = Some(latency);
                report.server_version = version;
                if latency > thresholds.slow {
                    report.status = Status::Degraded;
                    report.problem =
                        Some(format!("round trip {latency:?} over {:?}", thresholds.slow));
                } else if pool.waiting > 0 {
                    report.status = Status::Degraded;
                    report.problem = Some(format!(
                        "{} caller(s) waiting for a connection ({} of {} in use)",
                        pool.waiting, pool.in_use, pool.max_size
                    ));
                } else if pool.max_size > 0
                    && pool.in_use * 100 >= pool.max_size * thresholds.pool_usage_percent
                {
                    report.status = Status::Degraded;
                    report.problem = Some(format!(
                        "{} of {} connections in use",
                        pool.in_use, pool.max_size
                    ));
                }
            }
        }
        report
    }

    /// Checks every `interval` on a background thread and calls `on_change` whenever the
    /// status changes (and once with the first report). Stop it with [`HealthMonitor::stop`]
    /// or by dropping it.
    pub fn monitor(
        &self,
        interval: Duration,
        thresholds: Thresholds,
        mut on_change: impl FnMut(&HealthReport) + Send + 'static,
    ) -> HealthMonitor {
        let db = self.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut last: Option<Status> = None;
            while !flag.load(Ordering::Acquire) {
                let report = db.health(thresholds);
                if last != Some(report.status) {
                    last = Some(report.status);
                    on_change(&report);
                }
                let deadline = Instant::now() + interval;
                while Instant::now() < deadline && !flag.load(Ordering::Acquire) {
                    std::thread::park_timeout(deadline.saturating_duration_since(Instant::now()));
                }
            }
        });
        HealthMonitor {
            stop,
            handle: Some(handle),
        }
    }
}

/// A running health monitor.
#[derive(Debug)]
pub struct HealthMonitor {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl HealthMonitor {
    /// Stops the monitor and waits for its thread to finish.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

impl Drop for HealthMonitor {
    fn drop(&mut self) {
        self.shutdown();
    }
}
