//! [`Database`]: an r2d2 pool of [`AnyConnection`]s, the entry point of an application. It
//! sits above the executor: it lends [`Conn`]s, with the plugins and instrumentation it was
//! given.

use std::time::Duration;

use crate::connection::pool::ConnectionManager;
use crate::connection::{mask_password, AnyConnection, DatabaseUrl};
use crate::error::{BackendKind, Error, Result};
use crate::executor::Conn;

/// Pool settings; the defaults suit a small service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections open at once (default 10). Forced to 1 for `sqlite::memory:`, where
    /// each connection would otherwise be a separate database.
    pub max_size: u32,
    /// Idle connections kept ready (default: none kept beyond `max_size`'s warm-up).
    pub min_idle: Option<u32>,
    /// How long [`Database::conn`] waits for a free connection (default 30 s).
    pub connection_timeout: Duration,
    /// Idle connections older than this are closed (default 10 minutes).
    pub idle_timeout: Option<Duration>,
    /// Connections older than this are closed when returned (default 30 minutes).
    pub max_lifetime: Option<Duration>,
    /// Ping a connection before handing it out (default true).
    pub test_on_check_out: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 10,
            min_idle: None,
            connection_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            test_on_check_out: true,
        }
    }
}

/// Connection counts of a pool, from r2d2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open (idle and in use).
    pub connections: u32,
    /// Connections idle in the pool.
    pub idle: u32,
    /// Connections lent out.
    pub in_use: u32,
    /// The pool's maximum size.
    pub max_size: u32,
    /// Callers of [`Database::conn`] waiting for a connection right now (counted by kysera;
    /// r2d2 does not report it). Above zero, the pool is exhausted.
    pub waiting: u32,
}

/// A pool of connections to one database: the handle an application keeps.
///
/// Cheap to clone; clones share the pool.
///
/// ```
/// use kysera::Database;
/// # fn main() -> kysera::Result<()> {
/// let db = Database::connect("sqlite::memory:")?;
/// db.conn()?.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")?;
/// let answer: i64 = db.transaction(|tx| {
///     tx.batch_execute("INSERT INTO t (id) VALUES (42)")?;
///     Ok::<_, kysera::Error>(42)
/// })?;
/// assert_eq!(answer, 42);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionManager>,
    url: DatabaseUrl,
    plugins: crate::plugin::Plugins,
    instrumentation: Option<crate::instrument::QueryMonitor>,
    closing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    waiting: std::sync::Arc<std::sync::atomic::AtomicU32>,
    key_columns: std::sync::Arc<crate::connection::key_columns::KeyColumns>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &self.url)
            .field("state", &self.state())
            .finish()
    }
}

impl Database {
    /// Opens a pool with the default [`PoolConfig`]; fails if the first connection fails.
    pub fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PoolConfig::default())
    }

    /// Opens a pool with the given settings; fails if the first connection fails.
    pub fn connect_with(url: &str, mut config: PoolConfig) -> Result<Self> {
        let url = DatabaseUrl::parse(url)?;
        if url.is_sqlite_memory() {
            // Every in-memory connection is its own database: share exactly one, forever.
            config.max_size = 1;
            config.min_idle = Some(1);
            config.idle_timeout = None;
            config.max_lifetime = None;
        }
        if config.max_size == 0 {
            return Err(Error::Config("pool max_size must be at least 1".into()));
        }
        // Connect once before the pool starts its own connections, so a bad URL or a down
        // server fails here with its real cause, and a new SQLite file is switched to WAL by
        // one connection instead of several racing for the lock.
        let first = AnyConnection::establish_url(&url)?;
        drop(first);
        let manager = ConnectionManager { url: url.clone() };
        let pool = r2d2::Pool::builder()
            .max_size(config.max_size)
            .min_idle(config.min_idle)
            .connection_timeout(config.connection_timeout)
            .idle_timeout(config.idle_timeout)
            .max_lifetime(config.max_lifetime)
            .test_on_check_out(config.test_on_check_out)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        let db = Database {
            pool,
            url,
            plugins: std::sync::Arc::from(Vec::new()),
            instrumentation: None,
            closing: std::sync::Arc::default(),
            waiting: std::sync::Arc::default(),
            key_columns: std::sync::Arc::default(),
        };
        Ok(db)
    }

    /// Borrows a pooled connection as an executor for repositories and transactions.
    pub fn conn(&self) -> Result<Conn> {
        if self.closing.load(std::sync::atomic::Ordering::Acquire) {
            return Err(Error::ShuttingDown);
        }
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let pooled = self.pool.get();
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let pooled = pooled.map_err(|e| self.pool_error(e))?;
        Ok(Conn::pooled(
            pooled,
            self.plugins.clone(),
            self.instrumentation.clone(),
            self.key_columns.clone(),
        ))
    }

    /// The same pool with `plugin` added after the others: every repository obtained from
    /// it applies the plugins in the order they were added.
    pub fn with_plugin(mut self, plugin: impl crate::Plugin) -> Self {
        let mut plugins: Vec<_> = self.plugins.iter().cloned().collect();
        plugins.push(std::sync::Arc::new(plugin));
        self.plugins = plugins.into();
        self
    }

    /// The same pool recording every query of every connection it hands out in `monitor`
    /// (replacing any monitor it had). See [`crate::instrument`].
    pub fn with_instrumentation(mut self, monitor: crate::instrument::QueryMonitor) -> Self {
        self.instrumentation = Some(monitor);
        self
    }

    /// The monitor recording this pool's queries, if any.
    pub fn instrumentation(&self) -> Option<&crate::instrument::QueryMonitor> {
        self.instrumentation.as_ref()
    }

    /// Runs `f` in a transaction on a pooled connection: committed when `f` returns `Ok`,
    /// rolled back when it returns `Err`.
    pub fn transaction<T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&Conn) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let conn = self.conn()?;
        conn.transaction(f)
    }

    /// Graceful shutdown: from now on [`Database::conn`] (on every clone) fails with
    /// [`Error::ShuttingDown`]; waits until every lent connection is back or `deadline`
    /// passes (an error naming how many are still out). The connections themselves close
    /// when the last clone of this `Database` is dropped.
    pub fn shutdown(&self, deadline: Duration) -> Result<()> {
        self.closing
            .store(true, std::sync::atomic::Ordering::Release);
        let until = std::time::Instant::now() + deadline;
        loop {
            let in_use = self.state().in_use;
            if in_use == 0 {
                break;
            }
            if std::time::Instant::now() >= until {
                return Err(Error::Config(format!(
                    "shutdown deadline passed with {in_use} connection(s) still in use"
                )));
            }
            std::thread::park_timeout(Duration::from_millis(5));
        }
        Ok(())
    }

    /// True once [`Database::shutdown`] has started.
    pub fn is_shutting_down(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The backend this pool connects to.
    pub fn backend(&self) -> BackendKind {
        self.url.backend()
    }

    /// The URL, with any password masked when displayed.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Current connection counts.
    pub fn state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            in_use: state.connections.saturating_sub(state.idle_connections),
            max_size: self.pool.max_size(),
            waiting: self.waiting.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    fn pool_error(&self, err: r2d2::Error) -> Error {
        // r2d2 reports the last connection error in its message when there was one.
        Error::PoolTimeout {
            message: mask_password(&err.to_string()),
        }
    }
}
