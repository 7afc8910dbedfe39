//! [`AnyConnection`]: one of Diesel's connection types, picked by URL.

use diesel::connection::SimpleConnection as _;
use diesel::Connection as _;

use super::url::{mask_password, DatabaseUrl};
use crate::error::{BackendKind, Error, Result};

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("kysera needs at least one backend feature: `sqlite`, `postgres` or `mysql`");

/// A live connection to one of the enabled backends.
///
/// Obtain one through [`Database`](crate::Database) (pooled) or [`AnyConnection::establish`].
/// Diesel code that targets one backend can match on the variant to get the native connection.
#[non_exhaustive]
pub enum AnyConnection {
    /// An embedded SQLite database.
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
    /// A PostgreSQL server.
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    /// A MySQL or MariaDB server.
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

impl std::fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnyConnection({})", self.backend())
    }
}

/// Busy timeout given to every SQLite connection: a writer waits this long for a lock.
#[cfg(feature = "sqlite")]
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

impl AnyConnection {
    /// Connects to `url` (see [`DatabaseUrl::parse`]).
    ///
    /// SQLite connections get `foreign_keys = ON`, `busy_timeout = 5000`, and for files
    /// `journal_mode = WAL` and `synchronous = NORMAL`.
    pub fn establish(url: &str) -> Result<Self> {
        Self::establish_url(&DatabaseUrl::parse(url)?)
    }

    /// Connects to an already parsed URL.
    pub fn establish_url(url: &DatabaseUrl) -> Result<Self> {
        let backend = url.backend();
        let connect_error = |e: diesel::ConnectionError| Error::Connection {
            backend,
            message: mask_password(&e.to_string()),
            lost: false,
        };
        match backend {
            #[cfg(feature = "sqlite")]
            BackendKind::Sqlite => {
                let mut conn =
                    diesel::SqliteConnection::establish(url.target()).map_err(connect_error)?;
                let mut pragmas = format!(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"
                );
                if !url.is_sqlite_memory() {
                    pragmas.push_str(" PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
                }
                conn.batch_execute(&pragmas).map_err(Error::from)?;
                Ok(AnyConnection::Sqlite(conn))
            }
            #[cfg(feature = "postgres")]
            BackendKind::Postgres => diesel::PgConnection::establish(url.target())
                .map(AnyConnection::Postgres)
                .map_err(connect_error),
            #[cfg(feature = "mysql")]
            BackendKind::Mysql => diesel::MysqlConnection::establish(url.target())
                .map(AnyConnection::Mysql)
                .map_err(connect_error),
            #[allow(unreachable_patterns)]
            other => Err(Error::BackendNotEnabled(match other {
                BackendKind::Sqlite => "sqlite",
                BackendKind::Postgres => "postgres",
                BackendKind::Mysql => "mysql",
            })),
        }
    }

    /// Which backend this connection talks to.
    pub fn backend(&self) -> BackendKind {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(_) => BackendKind::Sqlite,
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(_) => BackendKind::Postgres,
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(_) => BackendKind::Mysql,
        }
    }

    /// Runs one or more SQL statements without results (DDL, scripts).
    pub fn batch_execute(&mut self, sql: &str) -> Result<()> {
        super::dispatch!(self, c => c.batch_execute(sql)).map_err(Error::from)
    }

    /// Current transaction depth: 0 outside a transaction, 1 inside, 2+ inside savepoints.
    pub fn transaction_depth(&mut self) -> u32 {
        use diesel::connection::{TransactionManager, TransactionManagerStatus};
        fn depth(status: &mut TransactionManagerStatus) -> u32 {
            match status.transaction_depth() {
                Ok(Some(d)) => d.get(),
                Ok(None) => 0,
                // A broken transaction manager still holds an open transaction.
                Err(_) => 1,
            }
        }
        super::dispatch!(self, c => depth(
            diesel::connection::AnsiTransactionManager::transaction_manager_status_mut(c)
        ))
    }

    /// Installs a Diesel instrumentation (query and transaction events) on this connection,
    /// replacing any previous one.
    pub fn set_instrumentation(
        &mut self,
        instrumentation: impl diesel::connection::Instrumentation,
    ) {
        super::dispatch!(self, c => c.set_instrumentation(instrumentation))
    }

    /// Checks the connection with a trivial query.
    pub fn ping(&mut self) -> Result<()> {
        self.batch_execute("SELECT 1")
    }
}
