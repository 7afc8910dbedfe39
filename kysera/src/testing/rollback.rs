//! [`rollback`]: run a test body in a transaction that never commits.

use super::source::ConnectionSource;
use crate::error::Error;
use crate::executor::Conn;

/// Why the transaction of [`rollback`] ended without committing.
enum Undo {
    /// The closure ran: roll back whatever it returned.
    Always,
    /// The transaction could not begin.
    Database(Error),
}

impl From<Error> for Undo {
    fn from(err: Error) -> Self {
        Undo::Database(err)
    }
}

/// Runs `f` in a transaction that is always rolled back, and returns what `f` returned.
///
/// Everything `f` writes is visible inside it and gone afterwards, whether `f` returns `Ok`
/// or `Err`. Transactions that `f` opens with [`Conn::transaction`] are savepoints of this
/// one: they commit or roll back on their own, and are undone with the rest at the end.
/// Called on a connection that is already in a transaction, `f` runs in a savepoint.
///
/// On MySQL, DDL and `TRUNCATE` commit implicitly: what ran before them cannot be undone.
/// If `f` panics, the transaction is abandoned: a pooled connection is discarded by the pool
/// (it is handed back in a transaction), an owned one rolls back when it is dropped.
///
/// ```
/// use kysera::testing;
/// # fn main() -> kysera::Result<()> {
/// let conn = kysera::Conn::establish("sqlite::memory:")?;
/// conn.batch_execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")?;
/// let seen = testing::rollback(&conn, |tx| {
///     tx.batch_execute("INSERT INTO notes (body) VALUES ('draft')")?;
///     testing::row_count(tx, "notes")
/// })?;
/// assert_eq!(seen, 1);
/// assert_eq!(testing::row_count(&conn, "notes")?, 0);
/// # Ok(()) }
/// ```
pub fn rollback<S, T, E, F>(source: &S, f: F) -> Result<T, E>
where
    S: ConnectionSource + ?Sized,
    F: FnOnce(&Conn) -> Result<T, E>,
    E: From<Error>,
{
    let conn = source.connection()?;
    let mut outcome = None;
    let ended: Result<(), Undo> = conn.transaction(|tx| {
        outcome = Some(f(tx));
        Err(Undo::Always)
    });
    match (outcome, ended) {
        (Some(result), _) => result,
        (None, Err(Undo::Database(err))) => Err(err.into()),
        (None, _) => {
            Err(Error::Query("the rollback transaction ended before running".into()).into())
        }
    }
}
