//! Writes on SQLite and PostgreSQL: one statement each, rows come back through `RETURNING`.

use diesel::dsl::{self, Filter};
use diesel::expression::AsExpression;
use diesel::query_builder::{AsChangeset, IntoUpdateTarget, Query};
use diesel::query_dsl::methods::FilterDsl;
use diesel::query_dsl::{LoadQuery, RunQueryDsl};
use diesel::{Expression, ExpressionMethods, Insertable, OptionalExtension, QueryResult};

use super::bulk_update::{BulkPatch, BulkUpdate};
use super::key_in::KeyIn;
use super::WriteOps;
use crate::model::Model;

type Table<M> = <M as Model>::Table;
type Pk<M> = <M as Model>::PrimaryKey;
type Sel<M> = <M as Model>::Selection;
type Id<M> = <M as Model>::Id;
type PkType<M> = <Pk<M> as Expression>::SqlType;
type ById<M> = Filter<Table<M>, dsl::Eq<Pk<M>, Id<M>>>;
type ByIds<M> = Filter<Table<M>, KeyIn<M>>;

macro_rules! returning_write_ops {
    ($feature:literal, $conn:ty) => {
        #[cfg(feature = $feature)]
        impl<'a, M> WriteOps<'a, $conn> for M
        where
            M: Model,
            Pk<M>: ExpressionMethods,
            PkType<M>: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
            Id<M>: AsExpression<PkType<M>>,
            &'a M::New: Insertable<Table<M>>,
            &'a [M::New]: Insertable<Table<M>>,
            dsl::Returning<dsl::Values<dsl::insert_into<Table<M>>, &'a M::New>, Sel<M>>:
                Query + LoadQuery<'a, $conn, M>,
            dsl::Returning<dsl::Values<dsl::insert_into<Table<M>>, &'a [M::New]>, Sel<M>>:
                Query + LoadQuery<'a, $conn, M>,
            Table<M>: FilterDsl<dsl::Eq<Pk<M>, Id<M>>> + FilterDsl<KeyIn<M>>,
            ById<M>: IntoUpdateTarget<Table = Table<M>>,
            ByIds<M>: IntoUpdateTarget<Table = Table<M>>,
            &'a M::Update: AsChangeset<Target = Table<M>>,
            dsl::Update<ById<M>, &'a M::Update>: diesel::query_builder::AsQuery,
            dsl::Update<ByIds<M>, &'a M::Update>: diesel::query_builder::AsQuery,
            dsl::Returning<dsl::Update<ById<M>, &'a M::Update>, Sel<M>>:
                Query + LoadQuery<'a, $conn, M>,
            dsl::Returning<dsl::Update<ByIds<M>, &'a M::Update>, Sel<M>>:
                Query + LoadQuery<'a, $conn, M>,
            M::Update: BulkPatch<<$conn as diesel::Connection>::Backend>,
            BulkUpdate<'a, M>: LoadQuery<'a, $conn, M>,
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

            fn update_one(
                conn: &mut $conn,
                id: Self::Id,
                patch: &'a Self::Update,
            ) -> QueryResult<Option<Self>> {
                let target = M::Table::default().filter(M::PrimaryKey::default().eq(id));
                diesel::update(target)
                    .set(patch)
                    .returning(M::Selection::default())
                    .get_result(conn)
                    .optional()
            }

            fn update_ids(
                conn: &mut $conn,
                ids: Vec<Self::Id>,
                patch: &'a Self::Update,
            ) -> QueryResult<Vec<Self>> {
                let target = M::Table::default().filter(KeyIn::<M>::new(ids));
                let mut rows: Vec<Self> = diesel::update(target)
                    .set(patch)
                    .returning(M::Selection::default())
                    .get_results(conn)?;
                crate::ops::sort_by_key_order(&mut rows);
                Ok(rows)
            }

            fn bulk_update_chunk(
                conn: &mut $conn,
                rows: &'a [(Self::Id, Self::Update)],
            ) -> QueryResult<Vec<Self>> {
                let mut updated: Vec<Self> = BulkUpdate::<M>::new(rows, true).load(conn)?;
                crate::ops::sort_by_key_order(&mut updated);
                Ok(updated)
            }
        }
    };
}

returning_write_ops!("sqlite", diesel::SqliteConnection);
returning_write_ops!("postgres", diesel::PgConnection);
