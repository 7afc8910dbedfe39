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
    DB: LockClause,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        DB::walk_lock(RowLock::FOR_UPDATE, &mut out);
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

impl RowLock {
    /// What a write that reads first takes: `FOR UPDATE`, waiting.
    pub const FOR_UPDATE: RowLock = RowLock {
        strength: LockStrength::Update,
        wait: LockWait::Wait,
    };
}

/// A backend's row-locking clauses, appended to a `SELECT`: one table per backend.
pub trait LockClause: Backend {
    /// `FOR UPDATE` and the share lock's spelling, with their leading space; `None` where
    /// the backend has no row locks (SQLite: a locking read takes the database's write lock
    /// instead, see `Repo::find`, and its writes refuse stale snapshots).
    const CLAUSES: Option<(&'static str, &'static str)>;

    /// Writes the clause of `lock`.
    fn walk_lock(lock: RowLock, out: &mut AstPass<'_, '_, Self>) {
        let Some((update, share)) = Self::CLAUSES else {
            return;
        };
        out.push_sql(match lock.strength {
            LockStrength::Update => update,
            LockStrength::Share => share,
        });
        match lock.wait {
            LockWait::Wait => {}
            LockWait::NoWait => out.push_sql(" NOWAIT"),
            LockWait::SkipLocked => out.push_sql(" SKIP LOCKED"),
        }
    }
}

#[cfg(feature = "sqlite")]
impl LockClause for diesel::sqlite::Sqlite {
    const CLAUSES: Option<(&'static str, &'static str)> = None;
}

#[cfg(feature = "postgres")]
impl LockClause for diesel::pg::Pg {
    const CLAUSES: Option<(&'static str, &'static str)> = Some((" FOR UPDATE", " FOR SHARE"));
}

// `LOCK IN SHARE MODE` is the share spelling MySQL 5.7/8 and MariaDB all accept (MariaDB also
// with NOWAIT / SKIP LOCKED; MySQL 8 wants `FOR SHARE` for those).
#[cfg(feature = "mysql")]
impl LockClause for diesel::mysql::Mysql {
    const CLAUSES: Option<(&'static str, &'static str)> =
        Some((" FOR UPDATE", " LOCK IN SHARE MODE"));
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
