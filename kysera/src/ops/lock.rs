//! `SELECT ... FOR UPDATE`: reads that lock the rows they return until the transaction ends.
//!
//! A write that first reads the rows it will change (the keys MySQL needs, the old values an
//! audit row records) must read them as they are now, not as the transaction's snapshot
//! showed them, and keep them that way until it has written. On PostgreSQL and MySQL a
//! locking read does both: it returns the latest committed version, re-checking the `WHERE`
//! against it, and blocks other writers. SQLite has one writer at a time and refuses a write
//! from a stale snapshot (`SQLITE_BUSY_SNAPSHOT`), so its reads need no clause.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// The row-locking clause of a backend, appended to a `SELECT`.
pub trait RowLocks: Backend {
    /// The clause, with its leading space; empty where the backend has none.
    const FOR_UPDATE: &'static str;
}

#[cfg(feature = "sqlite")]
impl RowLocks for diesel::sqlite::Sqlite {
    const FOR_UPDATE: &'static str = "";
}

#[cfg(feature = "postgres")]
impl RowLocks for diesel::pg::Pg {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
}

#[cfg(feature = "mysql")]
impl RowLocks for diesel::mysql::Mysql {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
}

/// `<query> FOR UPDATE` on the backends that lock rows.
#[derive(Debug, Clone, Copy)]
pub struct ForUpdate<Q>(pub Q);

impl<Q: Query> Query for ForUpdate<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryId> QueryId for ForUpdate<Q> {
    type QueryId = ForUpdate<Q::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q, DB> QueryFragment<DB> for ForUpdate<Q>
where
    Q: QueryFragment<DB>,
    DB: RowLocks,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(DB::FOR_UPDATE);
        Ok(())
    }
}

impl<Q, C> RunQueryDsl<C> for ForUpdate<Q> {}

/// How strongly a locking read locks the rows it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockStrength {
    /// `FOR UPDATE`: no other transaction may change, delete or lock the rows.
    Update,
    /// `FOR SHARE` (`LOCK IN SHARE MODE` on MySQL/MariaDB): others may read and share-lock
    /// them, not change them.
    Share,
}

/// What a locking read does about rows another transaction has locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWait {
    /// Waits for them (up to the backend's lock timeout).
    Wait,
    /// `NOWAIT`: fails at once with the backend's lock error.
    NoWait,
    /// `SKIP LOCKED`: leaves them out (a job queue's "take the next free row").
    SkipLocked,
}

/// A row lock asked for by a read ([`Find::for_update`](crate::Find::for_update)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLock {
    /// How strongly.
    pub strength: LockStrength,
    /// What about rows already locked.
    pub wait: LockWait,
}

/// The clause of a [`RowLock`] on a backend with row locks.
pub trait LockClause: Backend {
    /// Writes the clause, with its leading space.
    fn walk_lock(lock: RowLock, out: &mut AstPass<'_, '_, Self>);
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn walk_wait<DB: Backend>(wait: LockWait, out: &mut AstPass<'_, '_, DB>) {
    match wait {
        LockWait::Wait => {}
        LockWait::NoWait => out.push_sql(" NOWAIT"),
        LockWait::SkipLocked => out.push_sql(" SKIP LOCKED"),
    }
}

// SQLite has no row locks: a locking read there takes the database's write lock before it
// reads (see `Repo::find`), and renders no clause.
#[cfg(feature = "sqlite")]
impl LockClause for diesel::sqlite::Sqlite {
    fn walk_lock(_: RowLock, _: &mut AstPass<'_, '_, Self>) {}
}

#[cfg(feature = "postgres")]
impl LockClause for diesel::pg::Pg {
    fn walk_lock(lock: RowLock, out: &mut AstPass<'_, '_, Self>) {
        out.push_sql(match lock.strength {
            LockStrength::Update => " FOR UPDATE",
            LockStrength::Share => " FOR SHARE",
        });
        walk_wait(lock.wait, out);
    }
}

#[cfg(feature = "mysql")]
impl LockClause for diesel::mysql::Mysql {
    fn walk_lock(lock: RowLock, out: &mut AstPass<'_, '_, Self>) {
        // `LOCK IN SHARE MODE` is the spelling MySQL 5.7/8 and MariaDB all accept.
        out.push_sql(match lock.strength {
            LockStrength::Update => " FOR UPDATE",
            LockStrength::Share => " LOCK IN SHARE MODE",
        });
        walk_wait(lock.wait, out);
    }
}

/// `<query> <lock clause>`.
#[derive(Debug, Clone, Copy)]
pub struct Locked<Q> {
    /// The `SELECT`.
    pub query: Q,
    /// The lock its rows take.
    pub lock: RowLock,
}

impl<Q: Query> Query for Locked<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryId> QueryId for Locked<Q> {
    type QueryId = ();
    // The clause varies at run time.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for Locked<Q>
where
    Q: QueryFragment<DB>,
    DB: LockClause,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        DB::walk_lock(self.lock, &mut out);
        Ok(())
    }
}

impl<Q, C> RunQueryDsl<C> for Locked<Q> {}
