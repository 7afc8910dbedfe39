//! Transactions with options: an isolation level, read-only access, and automatic re-runs of
//! the whole closure after a serialization failure or deadlock.
//!
//! ```
//! use kysera::transaction::{Isolation, TransactionOptions};
//! # fn main() -> kysera::Result<()> {
//! let db = kysera::Database::connect("sqlite::memory:")?;
//! db.conn()?.batch_execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")?;
//! let options = TransactionOptions::new().isolation(Isolation::Serializable).retries(3);
//! db.transaction_with(&options, |tx| {
//!     tx.batch_execute("INSERT INTO counters (id, n) VALUES (1, 0)")?;
//!     Ok::<_, kysera::Error>(())
//! })?;
//! # Ok(()) }
//! ```
//!
//! # Levels per backend
//!
//! PostgreSQL and MySQL start the transaction at the requested level (`BEGIN ISOLATION LEVEL
//! …` and `SET TRANSACTION ISOLATION LEVEL …` before `START TRANSACTION`). SQLite
//! transactions are always serializable; a transaction asking for
//! [`Isolation::Serializable`] starts with `BEGIN IMMEDIATE`, which takes the write lock up
//! front, so two such transactions queue (up to the busy timeout) instead of failing when
//! one upgrades its read lock. Read-only transactions use `READ ONLY` on PostgreSQL and MySQL
//! and `PRAGMA query_only` on SQLite.
//!
//! # Nesting
//!
//! Inside an open transaction, `transaction_with` joins it as a savepoint: the isolation
//! level and access mode are the outer transaction's, and failures are not retried there
//! (only a re-run of the outermost transaction can succeed after a serialization failure).

use std::str::FromStr;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::QueryResult;

use crate::connection::{dispatch, AnyConnection};
use crate::error::{BackendKind, Error, ErrorContext, Result};
use crate::executor::Conn;
use crate::resilience::{Idempotency, RetryPolicy};

/// A transaction isolation level, from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isolation {
    /// Dirty reads allowed (PostgreSQL treats it as read committed).
    ReadUncommitted,
    /// Each statement sees data committed before it began.
    ReadCommitted,
    /// The whole transaction sees one snapshot (MySQL's default).
    RepeatableRead,
    /// As if transactions ran one after another; conflicting ones fail with
    /// [`Error::SerializationFailure`] and can be re-run.
    Serializable,
}

impl Isolation {
    /// The level as SQL spells it (`REPEATABLE READ`).
    pub fn as_sql(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "READ UNCOMMITTED",
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_sql())
    }
}

impl FromStr for Isolation {
    type Err = Error;

    /// Parses `serializable`, `repeatable read` / `repeatable_read` / `repeatable-read`, and
    /// so on, in any case.
    fn from_str(text: &str) -> Result<Self> {
        let normalised = text.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        match normalised.as_str() {
            "read uncommitted" => Ok(Isolation::ReadUncommitted),
            "read committed" => Ok(Isolation::ReadCommitted),
            "repeatable read" => Ok(Isolation::RepeatableRead),
            "serializable" => Ok(Isolation::Serializable),
            _ => Err(Error::InvalidArgument(format!(
                "unknown isolation level `{text}`: expected read_uncommitted, read_committed, \
                 repeatable_read or serializable"
            ))),
        }
    }
}

/// How a transaction starts and whether it is re-run after a serialization failure or
/// deadlock. The default is the backend's own isolation level, read-write, no re-runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionOptions {
    isolation: Option<Isolation>,
    read_only: bool,
    retry: Option<RetryPolicy>,
}

/// Base delay between re-runs of a transaction: conflicts clear in milliseconds.
const RETRY_BASE_DELAY: Duration = Duration::from_millis(10);

impl TransactionOptions {
    /// The backend's default level, read-write, no re-runs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the transaction at `level`.
    pub fn isolation(mut self, level: Isolation) -> Self {
        self.isolation = Some(level);
        self
    }

    /// Starts a read-only transaction: writes fail with a database error.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Re-runs the whole closure up to `retries` more times after a serialization failure,
    /// deadlock or busy database, with exponential backoff and jitter from 10 ms.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retry = (retries > 0)
            .then(|| RetryPolicy::new(retries.saturating_add(1)).base_delay(RETRY_BASE_DELAY));
        self
    }

    /// Re-runs the closure as `policy` says (its attempt count includes the first run).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The requested isolation level, if any.
    pub fn isolation_level(&self) -> Option<Isolation> {
        self.isolation
    }

    /// True for read-only transactions.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }
}

/// An error type a retried transaction can look into: is this failure a serialization
/// failure or deadlock worth re-running for?
///
/// Implemented for [`Error`]; for an application error type that wraps it, return the
/// wrapped error:
///
/// ```
/// #[derive(Debug)]
/// enum AppError { Db(kysera::Error), InsufficientFunds }
/// impl From<kysera::Error> for AppError {
///     fn from(e: kysera::Error) -> Self { AppError::Db(e) }
/// }
/// impl kysera::transaction::TransactionError for AppError {
///     fn as_database_error(&self) -> Option<&kysera::Error> {
///         match self { AppError::Db(e) => Some(e), _ => None }
///     }
/// }
/// ```
pub trait TransactionError: From<Error> {
    /// The kysera error inside, if this is one.
    fn as_database_error(&self) -> Option<&Error>;
}

impl TransactionError for Error {
    fn as_database_error(&self) -> Option<&Error> {
        Some(self)
    }
}

impl crate::Database {
    /// Runs `f` in a transaction started with `options` on a pooled connection; see
    /// [`Conn::transaction_with`].
    pub fn transaction_with<T, E, F>(
        &self,
        options: &TransactionOptions,
        f: F,
    ) -> std::result::Result<T, E>
    where
        F: FnMut(&Conn) -> std::result::Result<T, E>,
        E: TransactionError,
    {
        self.conn()?.transaction_with(options, f)
    }
}

impl Conn {
    /// Runs `f` in a transaction started with `options`: committed when `f` returns `Ok`,
    /// rolled back on `Err`. With [`TransactionOptions::retries`], a serialization failure,
    /// deadlock or busy database (in `f` or at commit) rolls back and runs `f` again from
    /// the start, so `f` must not have effects outside the database that cannot repeat.
    ///
    /// Inside another transaction this is a savepoint of it (see the module docs).
    pub fn transaction_with<T, E, F>(
        &self,
        options: &TransactionOptions,
        mut f: F,
    ) -> std::result::Result<T, E>
    where
        F: FnMut(&Conn) -> std::result::Result<T, E>,
        E: TransactionError,
    {
        if self.in_transaction() {
            return self.transaction(f);
        }
        let mut attempt = 1;
        loop {
            let result = self.begin_run_end(options, &mut f);
            let retry = match (&result, &options.retry) {
                (Err(err), Some(policy)) => {
                    attempt < policy.max_attempts()
                        && err
                            .as_database_error()
                            .is_some_and(|e| RetryPolicy::retries(e, Idempotency::Write))
                }
                _ => false,
            };
            if !retry {
                return result;
            }
            attempt += 1;
            if let Some(policy) = &options.retry {
                std::thread::sleep(policy.delay(attempt));
            }
        }
    }

    /// One attempt: begin with the options' SQL, run `f`, commit or roll back.
    fn begin_run_end<T, E, F>(
        &self,
        options: &TransactionOptions,
        f: F,
    ) -> std::result::Result<T, E>
    where
        F: FnOnce(&Conn) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let backend = self.backend();
        let classify = |e| {
            crate::error::from_diesel(
                e,
                &ErrorContext {
                    backend: Some(backend),
                    ..Default::default()
                },
            )
        };
        self.with_connection(|c| begin(c, options))?
            .map_err(classify)?;
        let result = f(self);
        let ended = match &result {
            Ok(_) => self.with_connection(
                |c| dispatch!(c, c => AnsiTransactionManager::commit_transaction(c)),
            )?,
            Err(_) => self.with_connection(
                |c| dispatch!(c, c => AnsiTransactionManager::rollback_transaction(c)),
            )?,
        };
        if options.read_only && backend == BackendKind::Sqlite {
            // The pragma outlives the transaction: give the connection back writable.
            let _ = self.batch_execute("PRAGMA query_only = 0");
        }
        match (result, ended) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(commit)) => Err(classify(commit).into()),
            // The closure's error is what the caller needs; a failed rollback leaves the
            // connection marked broken, and the pool discards it.
            (Err(err), _) => Err(err),
        }
    }
}

/// `#[transactional]` without retries: runs `f` once, so it may consume what it captured.
#[doc(hidden)]
pub fn transaction_once<T, E, F>(
    conn: &Conn,
    options: &TransactionOptions,
    f: F,
) -> std::result::Result<T, E>
where
    F: FnOnce(&Conn) -> std::result::Result<T, E>,
    E: From<Error>,
{
    if conn.in_transaction() {
        conn.transaction(f)
    } else {
        conn.begin_run_end(options, f)
    }
}

/// `#[transactional(retries = N)]`: see [`Conn::transaction_with`].
#[doc(hidden)]
pub fn transaction_retrying<T, E, F>(
    conn: &Conn,
    options: &TransactionOptions,
    f: F,
) -> std::result::Result<T, E>
where
    F: FnMut(&Conn) -> std::result::Result<T, E>,
    E: TransactionError,
{
    conn.transaction_with(options, f)
}

/// Starts the outermost transaction as `options` ask, on whichever backend `conn` is.
fn begin(conn: &mut AnyConnection, options: &TransactionOptions) -> QueryResult<()> {
    let backend = conn.backend();
    match backend {
        BackendKind::Postgres => {
            let mut sql = String::from("BEGIN");
            if let Some(level) = options.isolation {
                sql.push_str(" ISOLATION LEVEL ");
                sql.push_str(level.as_sql());
            }
            if options.read_only {
                sql.push_str(" READ ONLY");
            }
            begin_sql(conn, &sql)
        }
        BackendKind::Mysql => {
            if let Some(level) = options.isolation {
                // Applies to the next transaction on this session only.
                let sql = format!("SET TRANSACTION ISOLATION LEVEL {}", level.as_sql());
                dispatch!(conn, c => c.batch_execute(&sql))?;
            }
            begin_sql(
                conn,
                if options.read_only {
                    "START TRANSACTION READ ONLY"
                } else {
                    "START TRANSACTION"
                },
            )
        }
        BackendKind::Sqlite => {
            if options.read_only {
                dispatch!(conn, c => c.batch_execute("PRAGMA query_only = 1"))?;
            }
            let writes_first =
                options.isolation == Some(Isolation::Serializable) && !options.read_only;
            begin_sql(
                conn,
                if writes_first {
                    "BEGIN IMMEDIATE"
                } else {
                    "BEGIN"
                },
            )
        }
    }
}

fn begin_sql(conn: &mut AnyConnection, sql: &str) -> QueryResult<()> {
    dispatch!(conn, c => AnsiTransactionManager::begin_transaction_sql(c, sql))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels_in_every_spelling() {
        for (text, level) in [
            ("serializable", Isolation::Serializable),
            ("REPEATABLE READ", Isolation::RepeatableRead),
            ("repeatable_read", Isolation::RepeatableRead),
            ("read-committed", Isolation::ReadCommitted),
            (" Read Uncommitted ", Isolation::ReadUncommitted),
        ] {
            assert_eq!(text.parse::<Isolation>().unwrap(), level, "{text}");
        }
        let err = "snapshot".parse::<Isolation>().unwrap_err();
        assert!(err.to_string().contains("`snapshot`"), "{err}");
    }

    #[test]
    fn zero_retries_means_no_policy() {
        assert_eq!(
            TransactionOptions::new().retries(0),
            TransactionOptions::new()
        );
        assert_ne!(
            TransactionOptions::new().retries(2),
            TransactionOptions::new()
        );
    }
}
