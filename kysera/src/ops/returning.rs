//! Writes on SQLite and PostgreSQL: one statement each, rows come back through `RETURNING`.

use chrono::NaiveDateTime;
use diesel::dsl::{self, Filter};
use diesel::query_builder::{AsChangeset, IntoUpdateTarget, Query};
use diesel::query_dsl::methods::{ExecuteDsl, FilterDsl};
use diesel::query_dsl::{LoadQuery, RunQueryDsl};
use diesel::{Insertable, QueryResult};

use super::bulk_update::{BulkPatch, BulkUpdate};
use super::set::{SetValue, SetWhere};
#[cfg(feature = "postgres")]
use super::upsert::FlaggedUpsert;
use super::upsert::{ConflictClause, UpsertStatement, Upserts};
use super::WriteOps;
use crate::model::Model;
use crate::scope::{Scope, Where};

type Table<M> = <M as Model>::Table;
type Sel<M> = <M as Model>::Selection;
type Scoped<M> = Filter<Table<M>, Where<M>>;

macro_rules! returning_write_ops {
    ($feature:literal, $conn:ty, upserts $upsert_rows:ident where $($upsert_bounds:tt)*) => {
        #[cfg(feature = $feature)]
        impl<'a, M> WriteOps<'a, $conn> for M
        where
            M: Model,
            &'a M::New: Insertable<Table<M>>,
            &'a [M::New]: Insertable<Table<M>>,
            M: Insertable<Table<M>>,
            Vec<M::New>: Insertable<Table<M>>,
            M::Update: AsChangeset<Target = Table<M>>,
            dsl::Returning<dsl::Values<dsl::insert_into<Table<M>>, Vec<M::New>>, Sel<M>>:
                Query + LoadQuery<'static, $conn, M>,
            dsl::Update<Scoped<M>, M::Update>: diesel::query_builder::AsQuery,
            dsl::Returning<dsl::Update<Scoped<M>, M::Update>, Sel<M>>:
                Query + LoadQuery<'static, $conn, M>,
            dsl::Returning<dsl::Values<dsl::insert_into<Table<M>>, &'a M::New>, Sel<M>>:
                Query + LoadQuery<'a, $conn, M>,
            dsl::Returning<dsl::Values<dsl::insert_into<Table<M>>, &'a [M::New]>, Sel<M>>:
                Query + LoadQuery<'a, $conn, M>,
            dsl::Values<dsl::insert_into<Table<M>>, M>: ExecuteDsl<$conn>,
            Table<M>: FilterDsl<Where<M>>,
            Scoped<M>: IntoUpdateTarget<Table = Table<M>>,
            &'a M::Update: AsChangeset<Target = Table<M>>,
            dsl::Update<Scoped<M>, &'a M::Update>: diesel::query_builder::AsQuery,
            dsl::Returning<dsl::Update<Scoped<M>, &'a M::Update>, Sel<M>>:
                Query + LoadQuery<'a, $conn, M>,
            M::Update: BulkPatch<<$conn as diesel::Connection>::Backend>,
            BulkUpdate<'a, M>: LoadQuery<'a, $conn, M>,
            SetWhere<M>: LoadQuery<'static, $conn, M>,
            $($upsert_bounds)*
        {
            fn insert_one(conn: &mut $conn, new: &'a Self::New) -> QueryResult<Self> {
                diesel::insert_into(M::Table::default())
                    .values(new)
                    .returning(M::Selection::default())
                    .get_result(conn)
            }

            fn insert_chunk(conn: &mut $conn, rows: &'a [Self::New]) -> QueryResult<Vec<Self>> {
                diesel::insert_into(M::Table::default())
                    .values(rows)
                    .returning(M::Selection::default())
                    .get_results(conn)
            }

            fn insert_owned(conn: &mut $conn, rows: Vec<Self::New>) -> QueryResult<Vec<Self>> {
                diesel::insert_into(M::Table::default())
                    .values(rows)
                    .returning(M::Selection::default())
                    .get_results(conn)
            }

            fn update_owned(
                conn: &mut $conn,
                predicate: Where<Self>,
                patch: Self::Update,
            ) -> QueryResult<Vec<Self>> {
                let mut rows: Vec<Self> = diesel::update(M::Table::default().filter(predicate))
                    .set(patch)
                    .returning(M::Selection::default())
                    .get_results(conn)?;
                crate::ops::sort_by_key_order(&mut rows);
                Ok(rows)
            }

            fn insert_row(conn: &mut $conn, row: Self) -> QueryResult<usize> {
                diesel::insert_into(M::Table::default())
                    .values(row)
                    .execute(conn)
            }

            fn update_where(
                conn: &mut $conn,
                predicate: Where<Self>,
                patch: &'a Self::Update,
            ) -> QueryResult<Vec<Self>> {
                let mut rows: Vec<Self> = diesel::update(M::Table::default().filter(predicate))
                    .set(patch)
                    .returning(M::Selection::default())
                    .get_results(conn)?;
                crate::ops::sort_by_key_order(&mut rows);
                Ok(rows)
            }

            fn bulk_update_chunk(
                conn: &mut $conn,
                rows: &'a [(Self::Id, Self::Update)],
                scope: &Scope,
                at: Option<NaiveDateTime>,
            ) -> QueryResult<Vec<Self>> {
                let mut updated: Vec<Self> =
                    BulkUpdate::<M>::new(rows, scope, at, true).load(conn)?;
                crate::ops::sort_by_key_order(&mut updated);
                Ok(updated)
            }

            fn set_where(
                conn: &mut $conn,
                assignments: Vec<(&'static str, SetValue)>,
                predicate: Where<Self>,
            ) -> QueryResult<Vec<Self>> {
                let mut rows: Vec<Self> = SetWhere::new(assignments, predicate, true).load(conn)?;
                crate::ops::sort_by_key_order(&mut rows);
                Ok(rows)
            }

            fn upsert_chunk(
                conn: &mut $conn,
                rows: &'a [Self::New],
                clause: ConflictClause,
                _matching: Where<Self>,
            ) -> QueryResult<Upserts<Self>> {
                $upsert_rows!(conn, rows, clause)
            }

            fn upsert_owned(
                conn: &mut $conn,
                rows: Vec<Self::New>,
                clause: ConflictClause,
                _matching: Where<Self>,
            ) -> QueryResult<Upserts<Self>> {
                $upsert_rows!(conn, rows, clause)
            }
        }
    };
}

/// One multi-row statement, each row flagged inserted or updated by the statement itself.
#[cfg(feature = "postgres")]
macro_rules! upsert_batch {
    ($conn:ident, $rows:ident, $clause:ident) => {{
        let insert = diesel::insert_into(M::Table::default()).values($rows);
        FlaggedUpsert(UpsertStatement::<_, M>::new(insert, $clause, true))
            .load::<(M, bool)>($conn)
            .map(Upserts::flagged)
    }};
}

/// One statement per row: Diesel builds SQLite's multi-row INSERT only when it runs it, so
/// a clause cannot follow it.
#[cfg(feature = "sqlite")]
macro_rules! upsert_each {
    ($conn:ident, $rows:ident, $clause:ident) => {{
        let mut stored = Vec::with_capacity($rows.len());
        for row in $rows {
            let insert = diesel::insert_into(M::Table::default()).values(row);
            stored.push(
                UpsertStatement::<_, M>::new(insert, $clause.clone(), true).get_result($conn)?,
            );
        }
        Ok(Upserts::unflagged(stored))
    }};
}

returning_write_ops!("sqlite", diesel::SqliteConnection, upserts upsert_each where
    M::New: Insertable<Table<M>>,
    UpsertStatement<dsl::Values<dsl::insert_into<Table<M>>, &'a M::New>, M>:
        LoadQuery<'a, diesel::SqliteConnection, M>,
    UpsertStatement<dsl::Values<dsl::insert_into<Table<M>>, M::New>, M>:
        LoadQuery<'static, diesel::SqliteConnection, M>,
);
returning_write_ops!("postgres", diesel::PgConnection, upserts upsert_batch where
    FlaggedUpsert<dsl::Values<dsl::insert_into<Table<M>>, &'a [M::New]>, M>:
        LoadQuery<'a, diesel::PgConnection, (M, bool)>,
    FlaggedUpsert<dsl::Values<dsl::insert_into<Table<M>>, Vec<M::New>>, M>:
        LoadQuery<'static, diesel::PgConnection, (M, bool)>,
);
