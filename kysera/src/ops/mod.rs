//! The Diesel queries behind every repository operation, written once, generically.
//!
//! [`ReadOps`] holds the statements that are the same on every backend; [`WriteOps`] the
//! writes, which differ: SQLite and PostgreSQL return rows with `RETURNING`, MySQL reads them
//! back. Both are implemented for every [`Model`] by blanket impls whose bounds hold for any
//! struct `#[derive(Repository)]` accepts, so generated code contains no query code at all.
//! [`Supported`] bundles them for every backend compiled in.

mod bulk_update;
mod lock;
#[cfg(feature = "mysql")]
mod mysql;
mod read;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod returning;
mod set;
mod upsert;

pub use bulk_update::{BulkPatch, BulkUpdate};
pub use lock::{ForUpdate, LockClause, LockStrength, LockWait, Locked, RowLock};
pub use read::ReadOps;
pub use set::{SetValue, SetWhere};
pub use upsert::{ConflictClause, ConflictSyntax, FlaggedUpsert, UpsertStatement, Upserts};

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::model::Model;
use crate::scope::{Scope, Where};

/// Writes of a model on connection type `C`, each one statement or a short fixed sequence
/// (the caller wraps sequences in a transaction).
///
/// The lifetime `'a` is that of the borrowed input. It is a parameter of the trait, not a
/// higher-ranked bound, because rustc cannot prove Diesel's `Insertable` for every lifetime
/// through the associated types involved; each call proves it for its own borrow instead.
pub trait WriteOps<'a, C>: Model {
    /// Inserts one row and returns it as stored.
    fn insert_one(conn: &mut C, new: &'a Self::New) -> QueryResult<Self>;
    /// Inserts rows in one multi-row statement and returns them as stored, in input order.
    fn insert_chunk(conn: &mut C, rows: &'a [Self::New]) -> QueryResult<Vec<Self>>;
    /// Inserts owned rows (values a plugin changed) and returns them as stored, in order.
    fn insert_owned(conn: &mut C, rows: Vec<Self::New>) -> QueryResult<Vec<Self>>;
    /// Applies an owned patch (one a plugin changed) to the rows matching `predicate`.
    fn update_owned(
        conn: &mut C,
        predicate: Where<Self>,
        patch: Self::Update,
    ) -> QueryResult<Vec<Self>>;
    /// Inserts a complete row, generated columns included (restoring a deleted row).
    fn insert_row(conn: &mut C, row: Self) -> QueryResult<usize>;
    /// Applies `patch` to the rows matching `predicate`; returns them as stored, by key.
    fn update_where(
        conn: &mut C,
        predicate: Where<Self>,
        patch: &'a Self::Update,
    ) -> QueryResult<Vec<Self>>;
    /// Applies a different patch to each row within `scope` in one statement; returns the
    /// updated rows ordered by key. `at` stamps a managed `updated_at` no patch sets.
    fn bulk_update_chunk(
        conn: &mut C,
        rows: &'a [(Self::Id, Self::Update)],
        scope: &Scope,
        at: Option<NaiveDateTime>,
    ) -> QueryResult<Vec<Self>>;
    /// Assigns run-time columns (soft delete, restore, touch) on the rows matching
    /// `predicate`; returns the changed rows by key.
    fn set_where(
        conn: &mut C,
        assignments: Vec<(&'static str, SetValue)>,
        predicate: Where<Self>,
    ) -> QueryResult<Vec<Self>>;
    /// Inserts rows, updating those that conflict on `clause.target`, in one statement;
    /// returns the stored rows in no promised order. MySQL reads them back with `matching`,
    /// which must select the rows the statement wrote (locked, as they are now).
    fn upsert_chunk(
        conn: &mut C,
        rows: &'a [Self::New],
        clause: ConflictClause,
        matching: Where<Self>,
    ) -> QueryResult<Upserts<Self>>;
    /// Like [`WriteOps::upsert_chunk`], for owned rows (values a plugin changed).
    fn upsert_owned(
        conn: &mut C,
        rows: Vec<Self::New>,
        clause: ConflictClause,
        matching: Where<Self>,
    ) -> QueryResult<Upserts<Self>>;
}

macro_rules! per_backend_ops {
    ($feature:literal, $conn:ty, $read:ident, $write:ident) => {
        #[doc = concat!("[`ReadOps`] on the ", $feature, " backend (any model when it is disabled).")]
        #[cfg(feature = $feature)]
        pub trait $read: ReadOps<$conn> {}
        #[cfg(feature = $feature)]
        impl<M: ReadOps<$conn>> $read for M {}
        #[doc = concat!("[`ReadOps`] on the ", $feature, " backend (any model when it is disabled).")]
        #[cfg(not(feature = $feature))]
        pub trait $read {}
        #[cfg(not(feature = $feature))]
        impl<M> $read for M {}

        #[doc = concat!("[`WriteOps`] on the ", $feature, " backend (any model when it is disabled).")]
        #[cfg(feature = $feature)]
        pub trait $write<'a>: WriteOps<'a, $conn> {}
        #[cfg(feature = $feature)]
        impl<'a, M: WriteOps<'a, $conn>> $write<'a> for M {}
        #[doc = concat!("[`WriteOps`] on the ", $feature, " backend (any model when it is disabled).")]
        #[cfg(not(feature = $feature))]
        pub trait $write<'a> {}
        #[cfg(not(feature = $feature))]
        impl<'a, M> $write<'a> for M {}
    };
}

per_backend_ops!("sqlite", diesel::SqliteConnection, SqliteRead, SqliteWrite);
per_backend_ops!("postgres", diesel::PgConnection, PgRead, PgWrite);
per_backend_ops!("mysql", diesel::MysqlConnection, MysqlRead, MysqlWrite);

/// A model whose reads compile on every enabled backend. Every struct that
/// `#[derive(Repository)]` accepts is `Supported`; the bound lets the runtime dispatch on the
/// connection's backend.
pub trait Supported: Model + SqliteRead + PgRead + MysqlRead {}
impl<M: Model + SqliteRead + PgRead + MysqlRead> Supported for M {}

/// A model whose writes of input borrowed for `'a` compile on every enabled backend.
pub trait Writable<'a>: Supported + SqliteWrite<'a> + PgWrite<'a> + MysqlWrite<'a> {}
impl<'a, M: Supported + SqliteWrite<'a> + PgWrite<'a> + MysqlWrite<'a>> Writable<'a> for M {}

/// Keys per `IN (...)` list: far below every backend's bind limit, with room for a scope's
/// and a filter's own binds.
pub(crate) const KEYS_PER_STATEMENT: usize = 10_000;

/// Sorts rows by primary key (the order `RETURNING` of an UPDATE does not promise).
pub(crate) fn sort_by_key_order<M: Model>(rows: &mut [M]) {
    rows.sort_by_cached_key(|row| row.id());
}

/// Puts `rows` in the order of `ids`, dropping keys with no row (and repeated keys after
/// their first appearance).
pub(crate) fn in_key_order<M: Model>(rows: Vec<M>, ids: &[M::Id]) -> Vec<M> {
    let mut by_id: std::collections::HashMap<M::Id, M> =
        rows.into_iter().map(|row| (row.id(), row)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}
