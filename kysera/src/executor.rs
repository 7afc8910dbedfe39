//! [`Conn`]: the executor every repository call runs on, inside or outside a transaction.
//!
//! A `Conn` is shared by reference, so any number of repositories can be held at once, and
//! a nested [`Conn::transaction`] hands the *same* `Conn` to its closure: repositories made
//! outside keep working inside, and their writes belong to the transaction (or savepoint).

use std::cell::RefCell;
use std::sync::Arc;

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use crate::connection::key_columns::KeyColumns;
use crate::connection::{dispatch, pool::ConnectionManager, AnyConnection};
use crate::context::Context;
use crate::error::{BackendKind, Error, ErrorContext, Result};
use crate::instrument::observer;
use crate::instrument::rows::ResultRows;
use crate::instrument::QueryMonitor;
use crate::plugin::{Plugin, Plugins};
use crate::query::{Executable, Loadable};

enum Holder {
    Pooled(r2d2::PooledConnection<ConnectionManager>),
    Owned(AnyConnection),
}

/// A connection that repositories share; obtained from [`Database::conn`](crate::Database::conn),
/// [`Database::transaction`](crate::Database::transaction) or [`Conn::establish`].
pub struct Conn {
    inner: RefCell<Holder>,
    backend: BackendKind,
    context: RefCell<Context>,
    plugins: Plugins,
    monitor: Option<QueryMonitor>,
    /// Unique keys' columns read from the catalog, shared by the pool (MySQL).
    key_columns: Arc<KeyColumns>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({})", self.backend)
    }
}

/// A pooled connection goes back with its observer switched off, so queries run on it before
/// the next owner installs its own (the pool's check-out ping) reach no one's monitor.
impl Drop for Conn {
    fn drop(&mut self) {
        if self.observes() {
            let _ = self.with_connection(observer::detach);
        }
    }
}

impl Conn {
    pub(crate) fn pooled(
        conn: r2d2::PooledConnection<ConnectionManager>,
        plugins: Plugins,
        monitor: Option<QueryMonitor>,
        key_columns: Arc<KeyColumns>,
    ) -> Self {
        let backend = conn.backend();
        Conn::new(Holder::Pooled(conn), backend, plugins, monitor, key_columns)
    }

    fn new(
        holder: Holder,
        backend: BackendKind,
        plugins: Plugins,
        monitor: Option<QueryMonitor>,
        key_columns: Arc<KeyColumns>,
    ) -> Self {
        let conn = Conn {
            inner: RefCell::new(holder),
            backend,
            context: RefCell::default(),
            plugins,
            monitor,
            key_columns,
        };
        conn.observe_queries();
        conn
    }

    /// Feeds every statement to the plugins' `on_query` and to the monitor; installs no
    /// instrumentation at all when there are neither.
    fn observe_queries(&self) {
        let _ = self.with_connection(|c| {
            observer::install(c, self.backend, &self.plugins, self.monitor.as_ref())
        });
    }

    /// The same connection recording its queries in `monitor` (replacing any monitor it had,
    /// and any Diesel instrumentation set on the connection directly).
    pub fn with_instrumentation(mut self, monitor: QueryMonitor) -> Self {
        self.monitor = Some(monitor);
        self.observe_queries();
        self
    }

    /// The same connection without a monitor.
    pub fn without_instrumentation(mut self) -> Self {
        self.monitor = None;
        self.observe_queries();
        self
    }

    /// The monitor recording this connection's queries, if any.
    pub fn instrumentation(&self) -> Option<&QueryMonitor> {
        self.monitor.as_ref()
    }

    /// Like [`Conn::with_connection`], and gives the statement `f` ran the row count of its
    /// result (see [`crate::instrument`], "Rows").
    pub(crate) fn observed<R: ResultRows>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> diesel::QueryResult<R>,
    ) -> Result<diesel::QueryResult<R>> {
        if self.monitor.is_none() {
            return self.with_connection(f);
        }
        self.with_connection(|c| observer::with_row_count(c, f))
    }

    /// Whether this connection installed an observer that must be switched off when dropped.
    fn observes(&self) -> bool {
        self.monitor.is_some() || !self.plugins.is_empty()
    }

    /// The same connection with `plugins` (replacing any it had).
    pub fn with_plugins(mut self, plugins: Vec<Arc<dyn Plugin>>) -> Self {
        self.plugins = plugins.into();
        self.observe_queries();
        self
    }

    /// The plugins of this connection, in order.
    pub fn plugins(&self) -> &[Arc<dyn Plugin>] {
        &self.plugins
    }

    /// Sets the context audit rows and plugins see (actor, metadata, tenant...).
    pub fn set_context(&self, context: Context) {
        *self.context.borrow_mut() = context;
    }

    /// The current context.
    pub fn context(&self) -> Context {
        self.context.borrow().clone()
    }

    /// Opens a single connection without a pool (scripts, tests, tools).
    pub fn establish(url: &str) -> Result<Self> {
        Ok(Self::from_connection(AnyConnection::establish(url)?))
    }

    /// Wraps a connection you opened yourself.
    pub fn from_connection(conn: AnyConnection) -> Self {
        let backend = conn.backend();
        Conn::new(
            Holder::Owned(conn),
            backend,
            Arc::from(Vec::new()),
            None,
            Arc::default(),
        )
    }

    /// The backend this connection talks to.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Runs `f` in a transaction: committed when `f` returns `Ok`, rolled back on `Err`.
    ///
    /// Inside another transaction this is a savepoint, released or rolled back on its own. The
    /// closure receives this same `Conn`, so repositories obtained before the call can be used
    /// inside it.
    pub fn transaction<T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&Self) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        self.with_connection(|c| dispatch!(c, c => AnsiTransactionManager::begin_transaction(c)))?
            .map_err(|e| self.error(e))?;
        match f(self) {
            Ok(value) => {
                self.with_connection(
                    |c| dispatch!(c, c => AnsiTransactionManager::commit_transaction(c)),
                )?
                .map_err(|e| self.error(e))?;
                Ok(value)
            }
            Err(err) => {
                // The closure's error is what the caller needs; a failed rollback leaves the
                // connection marked broken, and the pool discards it.
                let _ = self.with_connection(
                    |c| dispatch!(c, c => AnsiTransactionManager::rollback_transaction(c)),
                );
                Err(err)
            }
        }
    }

    /// True while a transaction (or savepoint) is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.with_connection(|c| c.transaction_depth() > 0)
            .unwrap_or(true)
    }

    /// Lends the underlying connection to `f`, for Diesel code that needs `&mut` access.
    ///
    /// Fails with [`Error::ConnectionBusy`] if called again from inside `f`.
    pub fn with_connection<R>(&self, f: impl FnOnce(&mut AnyConnection) -> R) -> Result<R> {
        let mut holder = self
            .inner
            .try_borrow_mut()
            .map_err(|_| Error::ConnectionBusy)?;
        let conn: &mut AnyConnection = match &mut *holder {
            Holder::Pooled(pooled) => pooled,
            Holder::Owned(owned) => owned,
        };
        Ok(f(conn))
    }

    /// Runs SQL statements without results (DDL, scripts).
    pub fn batch_execute(&self, sql: &str) -> Result<()> {
        self.with_connection(|c| c.batch_execute(sql))?
    }

    /// Loads every row of a Diesel query, on whichever backend this is.
    ///
    /// ```
    /// # use kysera::Conn;
    /// use diesel::dsl::sql;
    /// use diesel::sql_types::BigInt;
    /// # fn main() -> kysera::Result<()> {
    /// let conn = Conn::establish("sqlite::memory:")?;
    /// let rows: Vec<i64> = conn.load(diesel::select(sql::<BigInt>("40 + 2")))?;
    /// assert_eq!(rows, vec![42]);
    /// # Ok(()) }
    /// ```
    pub fn load<'q, U, Q: Loadable<'q, U>>(&self, query: Q) -> Result<Vec<U>> {
        self.observed(|c| dispatch!(c, c => diesel::RunQueryDsl::load(query, c)))?
            .map_err(|e| self.error(e))
    }

    /// Loads the first row of a Diesel query, or `None`.
    pub fn first<'q, U, Q>(&self, query: Q) -> Result<Option<U>>
    where
        Q: diesel::query_dsl::methods::LimitDsl,
        diesel::dsl::Limit<Q>: Loadable<'q, U>,
    {
        Ok(self
            .load(diesel::query_dsl::methods::LimitDsl::limit(query, 1))?
            .into_iter()
            .next())
    }

    /// Executes a Diesel statement (insert, update, delete) and returns the affected row count.
    pub fn execute<Q: Executable>(&self, query: Q) -> Result<usize> {
        use diesel::query_dsl::methods::ExecuteDsl;
        self.observed(|c| dispatch!(c, c => ExecuteDsl::execute(query, c)))?
            .map_err(|e| self.error(e))
    }

    fn error(&self, err: diesel::result::Error) -> Error {
        self.classify(
            err,
            &ErrorContext {
                backend: Some(self.backend),
                ..Default::default()
            },
        )
    }

    /// Turns a Diesel error into a kysera error, completing what the message leaves out
    /// from the catalog where needed (a MySQL unique key's columns). Call it after the
    /// statement's borrow of the connection has ended.
    pub(crate) fn classify(&self, err: diesel::result::Error, ctx: &ErrorContext) -> Error {
        let mut error = crate::error::from_diesel(err, ctx);
        if matches!(error, Error::UniqueViolation(_)) {
            let _ = self.with_connection(|c| self.key_columns.complete(c, &mut error, ctx));
        }
        error
    }
}
