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
