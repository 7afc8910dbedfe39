//! Reads and deletes: the same Diesel statements on every backend.

use diesel::dsl::{self, CountStar, Filter, Limit, Offset, Order, Select};
use diesel::expression::AsExpression;
use diesel::query_builder::IntoUpdateTarget;
use diesel::query_dsl::methods::{FilterDsl, LimitDsl, OffsetDsl, OrderDsl, SelectDsl};
use diesel::query_dsl::{LoadQuery, RunQueryDsl};
use diesel::sql_types::SqlType;
use diesel::{Connection, Expression, ExpressionMethods, OptionalExtension, QueryResult};

use super::key_in::KeyIn;
use crate::model::Model;

type Table<M> = <M as Model>::Table;
type Pk<M> = <M as Model>::PrimaryKey;
type Sel<M> = <M as Model>::Selection;
type Id<M> = <M as Model>::Id;
type ById<M> = Filter<Table<M>, dsl::Eq<Pk<M>, Id<M>>>;
type ByIds<M> = Filter<Table<M>, KeyIn<M>>;
type AllRows<M> = Order<Select<Table<M>, Sel<M>>, Pk<M>>;

/// Reads (and deletes) of a model on connection type `C`.
pub trait ReadOps<C>: Model {
    /// The row with key `id`.
    fn find_by_id(conn: &mut C, id: Self::Id) -> QueryResult<Option<Self>>;
    /// The rows with keys in `ids`, ordered by key; one statement.
    fn find_by_ids(conn: &mut C, ids: Vec<Self::Id>) -> QueryResult<Vec<Self>>;
    /// Every row, ordered by key.
    fn find_all(conn: &mut C) -> QueryResult<Vec<Self>>;
    /// Number of rows.
    fn count_all(conn: &mut C) -> QueryResult<i64>;
    /// True when a row with key `id` exists.
    fn exists(conn: &mut C, id: Self::Id) -> QueryResult<bool>;
    /// `limit` rows ordered by key, after skipping `offset`.
    fn page(conn: &mut C, offset: i64, limit: i64) -> QueryResult<Vec<Self>>;
    /// Deletes the rows with keys in `ids`; returns how many were deleted.
    fn delete_ids(conn: &mut C, ids: Vec<Self::Id>) -> QueryResult<usize>;
}

impl<M, C> ReadOps<C> for M
where
    M: Model,
    C: Connection,
    Pk<M>: ExpressionMethods,
    <Pk<M> as Expression>::SqlType: SqlType + diesel::expression::TypedExpressionType,
    Id<M>: AsExpression<<Pk<M> as Expression>::SqlType>,
    // find_by_id
    Table<M>: FilterDsl<dsl::Eq<Pk<M>, Id<M>>>,
    ById<M>: SelectDsl<Sel<M>>,
    Select<ById<M>, Sel<M>>: LimitDsl,
    Select<ById<M>, Sel<M>>: RunQueryDsl<C>,
    Limit<Select<ById<M>, Sel<M>>>: LoadQuery<'static, C, M>,
    // exists
    ById<M>: SelectDsl<CountStar>,
    Select<ById<M>, CountStar>: LoadQuery<'static, C, i64> + RunQueryDsl<C>,
    // find_by_ids, delete_ids
    Table<M>: FilterDsl<KeyIn<M>>,
    ByIds<M>: SelectDsl<Sel<M>> + IntoUpdateTarget,
    Select<ByIds<M>, Sel<M>>: OrderDsl<Pk<M>>,
    Order<Select<ByIds<M>, Sel<M>>, Pk<M>>: LoadQuery<'static, C, M> + RunQueryDsl<C>,
    dsl::delete<ByIds<M>>: diesel::query_dsl::methods::ExecuteDsl<C> + RunQueryDsl<C>,
    // find_all, page
    Table<M>: SelectDsl<Sel<M>>,
    Select<Table<M>, Sel<M>>: OrderDsl<Pk<M>>,
    AllRows<M>: LoadQuery<'static, C, M> + LimitDsl + RunQueryDsl<C>,
    Limit<AllRows<M>>: OffsetDsl,
    Offset<Limit<AllRows<M>>>: LoadQuery<'static, C, M> + RunQueryDsl<C>,
    // count
    Table<M>: SelectDsl<CountStar>,
    Select<Table<M>, CountStar>: LoadQuery<'static, C, i64> + RunQueryDsl<C>,
{
    #[inline]
    fn find_by_id(conn: &mut C, id: Self::Id) -> QueryResult<Option<Self>> {
        let query = M::Table::default().filter(M::PrimaryKey::default().eq(id));
        query.select(M::Selection::default()).first(conn).optional()
    }

    fn find_by_ids(conn: &mut C, ids: Vec<Self::Id>) -> QueryResult<Vec<Self>> {
        M::Table::default()
            .filter(KeyIn::<M>::new(ids))
            .select(M::Selection::default())
            .order(M::PrimaryKey::default())
            .load(conn)
    }

    fn find_all(conn: &mut C) -> QueryResult<Vec<Self>> {
        all_rows::<M>().load(conn)
    }

    fn count_all(conn: &mut C) -> QueryResult<i64> {
        M::Table::default()
            .select(dsl::count_star())
            .get_result(conn)
    }

    fn exists(conn: &mut C, id: Self::Id) -> QueryResult<bool> {
        let query = M::Table::default().filter(M::PrimaryKey::default().eq(id));
        let found: i64 = query.select(dsl::count_star()).get_result(conn)?;
        Ok(found > 0)
    }

    fn page(conn: &mut C, offset: i64, limit: i64) -> QueryResult<Vec<Self>> {
        all_rows::<M>().limit(limit).offset(offset).load(conn)
    }

    fn delete_ids(conn: &mut C, ids: Vec<Self::Id>) -> QueryResult<usize> {
        diesel::delete(M::Table::default().filter(KeyIn::<M>::new(ids))).execute(conn)
    }
}

fn all_rows<M>() -> AllRows<M>
where
    M: Model,
    Table<M>: SelectDsl<Sel<M>>,
    Select<Table<M>, Sel<M>>: OrderDsl<Pk<M>>,
{
    M::Table::default()
        .select(M::Selection::default())
        .order(M::PrimaryKey::default())
}
