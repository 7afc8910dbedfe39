//! The async bridge (feature `tokio`): **the** way to call kysera from async code.
//!
//! Diesel, and so kysera, is synchronous: every query blocks its thread until the database
//! answers, and [`Database::conn`] blocks until the pool has a free connection, for up to the
//! pool's `connection_timeout`. An async executor has a handful of threads shared by every
//! task; a blocking call on one of them stalls every task scheduled there (other requests,
//! timers, keep-alives). So never call kysera on an executor thread: hand the work to an
//! [`AsyncDatabase`], which runs it on Tokio's blocking pool
//! ([`tokio::task::spawn_blocking`]), as deadpool-diesel's `interact` does.
//!
//! Each call checks out its connection *inside* the blocking task, so waiting for a busy pool
//! never blocks the executor either, and fails with the pool's own timeout as
//! [`Error::PoolTimeout`]. Every kysera error comes back as it is ([`Error::NotFound`],
//! [`Error::UniqueViolation`], ...), or as your own error type, as with the synchronous
//! [`Database::transaction`]. A panic in the closure becomes [`Error::Panicked`] (never a
//! panic in the caller, never a future that does not finish); a call the runtime cancelled
//! before it started (it is shutting down) becomes [`Error::Cancelled`].
//!
//! ```
//! use kysera::prelude::*;
//! use kysera::AsyncDatabase;
//!
//! #[derive(Repository, Debug, Clone, PartialEq)]
//! #[kysera(table = "users")]
//! pub struct User {
//!     #[kysera(primary_key, generated)]
//!     pub id: i64,
//!     pub email: String,
//! }
//!
//! // A request handler: takes a clone of the handle, awaits, never blocks.
//! async fn register(db: &AsyncDatabase, email: String) -> kysera::Result<User> {
//!     db.transaction(move |tx| tx.repo::<User>().create(&NewUser { email })).await
//! }
//!
//! # fn main() -> kysera::Result<()> {
//! // In a service this is `#[tokio::main]`.
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! runtime.block_on(async {
//!     let db = AsyncDatabase::connect("sqlite::memory:").await?;
//!     db.interact(|conn| {
//!         conn.batch_execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)")
//!     })
//!     .await?;
//!     let ada = register(&db, "ada@example.com".into()).await?;
//!     let found = db.interact(move |conn| conn.repo::<User>().get(ada.id)).await?;
//!     assert_eq!(found.email, "ada@example.com");
//!     // Typed errors arrive intact.
//!     assert!(matches!(
//!         register(&db, "ada@example.com".into()).await,
//!         Err(Error::UniqueViolation(_))
//!     ));
//!     assert!(matches!(
//!         db.interact(|conn| conn.repo::<User>().get(404)).await,
//!         Err(Error::NotFound { .. })
//!     ));
//!     Ok(())
//! })
//! # }
//! ```
//!
//! # What the closure may do
//!
//! The closure runs on another thread, so it must be `Send + 'static`: move what it needs
//! into it (`move |conn| ...`) and return owned values. It receives a [`Conn`] for its own
//! use; repositories, nested transactions and Diesel queries work as in synchronous code.
//! Keep the closure to database work: everything in it holds a pooled connection.
//!
//! # Cancellation
//!
//! A blocking call cannot be interrupted. Dropping the future (a request timeout, a client
//! that went away) detaches the call: the closure runs to its end, a transaction still commits
//! or rolls back as the closure's result says, and the connection then goes back to the pool.
//! Bound the work with the pool's `connection_timeout` and the database's statement timeouts.
//!
//! # Sizing
//!
//! At most the pool's `max_size` calls run at once; the others wait in blocking threads for a
//! connection, up to `connection_timeout`. Tokio's blocking pool (512 threads by default,
//! `max_blocking_threads`) must be larger than the pool, which it is unless configured
//! otherwise.
//!
//! Methods of [`Database`] that do not touch the database (`state`, `backend`, `url`,
//! `is_shutting_down`) are fine on the executor: reach them through
//! [`AsyncDatabase::database`].

use std::any::Any;
use std::time::Duration;

use crate::database::{Database, PoolConfig};
use crate::error::{Error, Result};
use crate::executor::Conn;
use crate::transaction::{TransactionError, TransactionOptions};

/// A [`Database`] for async code: every call runs on Tokio's blocking pool (see the
/// [module docs](crate::bridge)).
///
/// Cheap to clone (clones share the pool) and `Send + Sync`: keep one in your application
/// state and clone it into handlers.
#[derive(Clone, Debug)]
pub struct AsyncDatabase {
    db: Database,
}

// Handlers need to share the handle across tasks and threads.
const _: () = {
    const fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<AsyncDatabase>();
};

impl From<Database> for AsyncDatabase {
    fn from(db: Database) -> Self {
        AsyncDatabase::new(db)
    }
}

impl AsyncDatabase {
    /// Wraps a pool; the pool itself is shared, not copied.
    pub fn new(db: Database) -> Self {
        AsyncDatabase { db }
    }

    /// Opens a pool with the default [`PoolConfig`], off the executor: see
    /// [`Database::connect`].
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PoolConfig::default()).await
    }

    /// Opens a pool with the given settings, off the executor: see [`Database::connect_with`].
    pub async fn connect_with(url: &str, config: PoolConfig) -> Result<Self> {
        let url = url.to_owned();
        run_blocking(move || Database::connect_with(&url, config))
            .await
            .map(Self::new)
    }

    /// The synchronous pool, for what does not block (`state`, `backend`, `url`) or to hand
    /// to code that runs off the executor already.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The synchronous pool.
    pub fn into_inner(self) -> Database {
        self.db
    }

    /// Runs `f` on a pooled connection on Tokio's blocking pool and returns its result.
    ///
    /// The connection is checked out inside the blocking task: a busy pool fails with
    /// [`Error::PoolTimeout`] after the pool's `connection_timeout`, without blocking the
    /// executor. A panic in `f` is [`Error::Panicked`]; a call the runtime cancelled before it
    /// ran is [`Error::Cancelled`]. Both, like the pool's errors, reach `E` through
    /// `From<Error>`.
    ///
    /// # Errors
    ///
    /// `f`'s own error, or one of the above. Outside a Tokio runtime: [`Error::Config`].
    pub async fn interact<T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&Conn) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let db = self.db.clone();
        run_blocking(move || f(&db.conn()?)).await
    }

    /// Runs `f` in a transaction on a pooled connection on Tokio's blocking pool: committed
    /// when `f` returns `Ok`, rolled back when it returns `Err` or panics. See
    /// [`Database::transaction`] and, for the errors, [`AsyncDatabase::interact`].
    pub async fn transaction<T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&Conn) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let db = self.db.clone();
        run_blocking(move || db.transaction(f)).await
    }

    /// Runs `f` in a transaction started with `options` on Tokio's blocking pool; re-runs
    /// after a serialization failure or deadlock happen in the blocking task too. See
    /// [`Database::transaction_with`] and, for the errors, [`AsyncDatabase::interact`].
    pub async fn transaction_with<T, E, F>(
        &self,
        options: &TransactionOptions,
        f: F,
    ) -> std::result::Result<T, E>
    where
        F: FnMut(&Conn) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: TransactionError + Send + 'static,
    {
        let db = self.db.clone();
        let options = options.clone();
        run_blocking(move || db.transaction_with(&options, f)).await
    }

    /// Graceful shutdown, waiting off the executor: see [`Database::shutdown`].
    pub async fn shutdown(&self, deadline: Duration) -> Result<()> {
        let db = self.db.clone();
        run_blocking(move || db.shutdown(deadline)).await
    }
}

/// Runs `job` on the current runtime's blocking pool; a panic or cancellation of the task
/// becomes a typed error.
async fn run_blocking<T, E, J>(job: J) -> std::result::Result<T, E>
where
    J: FnOnce() -> std::result::Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
        Error::Config(format!(
            "kysera::AsyncDatabase must be awaited inside a Tokio runtime: {e}"
        ))
    })?;
    match runtime.spawn_blocking(job).await {
        Ok(result) => result,
        Err(failed) => Err(join_error(failed).into()),
    }
}

fn join_error(failed: tokio::task::JoinError) -> Error {
    match failed.try_into_panic() {
        Ok(payload) => Error::Panicked {
            message: panic_message(&*payload),
        },
        Err(_) => Error::Cancelled,
    }
}

/// The text of a `panic!` payload: `&str` for a literal message, `String` for a formatted one.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic payload is not a string".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_from_literals_and_format_strings() {
        let literal: Box<dyn Any + Send> = Box::new("boom");
        let formatted: Box<dyn Any + Send> = Box::new(format!("boom {}", 7));
        let other: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(panic_message(&*literal), "boom");
        assert_eq!(panic_message(&*formatted), "boom 7");
        assert_eq!(panic_message(&*other), "panic payload is not a string");
    }

    #[test]
    fn bridge_errors_are_not_transient() {
        let panicked = Error::Panicked {
            message: "boom".into(),
        };
        assert!(!panicked.is_transient() && !Error::Cancelled.is_transient());
        assert_eq!(panicked.code(), "panicked");
        assert_eq!(Error::Cancelled.code(), "cancelled");
        assert_eq!(panicked.to_string(), "database closure panicked: boom");
    }
}
