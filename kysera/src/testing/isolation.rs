//! [`at_isolation`]: run a test body in a transaction at a chosen isolation level.

use super::source::ConnectionSource;
use crate::error::Error;
use crate::executor::Conn;
use crate::transaction::{Isolation, TransactionError, TransactionOptions};

/// Runs `f` in a transaction started at `level`: committed when `f` returns `Ok`, rolled back
/// on `Err` (see [`Conn::transaction_with`] for the SQL each backend uses).
///
/// For tests of concurrent behaviour: open two connections, run one side inside
/// `at_isolation`, and check what it sees of the other's commits. SQLite has only
/// serializable transactions: every level reads one snapshot, and
/// [`Isolation::Serializable`] also takes the write lock when it begins.
///
/// The level of an open transaction cannot change, so calling this on a connection inside a
/// transaction is an [`Error::InvalidArgument`] (where `Conn::transaction_with` would join the
/// open transaction as a savepoint).
///
/// ```
/// use kysera::testing::at_isolation;
/// use kysera::Isolation;
/// # fn main() -> kysera::Result<()> {
/// let conn = kysera::Conn::establish("sqlite::memory:")?;
/// conn.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")?;
/// at_isolation(&conn, Isolation::Serializable, |tx| tx.batch_execute("INSERT INTO t VALUES (1)"))?;
/// kysera::assert_row_count!(conn, "t", 1);
/// # Ok(()) }
/// ```
pub fn at_isolation<S, T, E, F>(source: &S, level: Isolation, f: F) -> Result<T, E>
where
    S: ConnectionSource + ?Sized,
    F: FnMut(&Conn) -> Result<T, E>,
    E: TransactionError,
{
    let conn = source.connection()?;
    if conn.in_transaction() {
        return Err(Error::InvalidArgument(format!(
            "at_isolation({level}) needs a connection outside any transaction: the isolation \
             level of an open transaction cannot change"
        ))
        .into());
    }
    conn.transaction_with(&TransactionOptions::new().isolation(level), f)
}
