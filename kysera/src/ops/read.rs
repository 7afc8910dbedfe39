//! Reads and deletes: the same Diesel statements on every backend.
//!
//! Unscoped reads of one key, all rows, a count or a page keep Diesel's static query ids, so
//! their prepared statements are cached exactly as hand-written Diesel's are. Everything that
//! carries a scope or a key list goes through one [`Where`] predicate.

use diesel::dsl::{self, CountStar, Filter, Limit, Offset, Order, Select};
use diesel::expression::AsExpression;
use diesel::query_builder::IntoUpdateTarget;
use diesel::query_dsl::methods::{ExecuteDsl, FilterDsl, LimitDsl, OffsetDsl, OrderDsl, SelectDsl};
use diesel::query_dsl::{LoadQuery, RunQueryDsl};
use diesel::sql_types::SqlType;
use diesel::{Connection, Expression, ExpressionMethods, QueryResult};

use super::lock::{ForUpdate, LockClause, Locked, RowLock};
use crate::filter::OrderBy;
use crate::model::Model;
use crate::scope::Where;

type Table<M> = <M as Model>::Table;
type Pk<M> = <M as Model>::PrimaryKey;
type Sel<M> = <M as Model>::Selection;
type Id<M> = <M as Model>::Id;
type ById<M> = Filter<Table<M>, dsl::Eq<Pk<M>, Id<M>>>;
type Scoped<M> = Filter<Table<M>, Where<M>>;
type AllRows<M> = Order<Select<Table<M>, Sel<M>>, Pk<M>>;
type ScopedRows<M> = Order<Select<Scoped<M>, Sel<M>>, Pk<M>>;
type OrderedRows<M> = Order<Select<Scoped<M>, Sel<M>>, OrderBy<M>>;

/// Reads (and deletes) of a model on connection type `C`.
pub trait ReadOps<C>: Model {
    /// The row with key `id` (no scope).
    fn find_by_id(conn: &mut C, id: Self::Id) -> QueryResult<Option<Self>>;
    /// Every row, ordered by key (no scope).
    fn find_all(conn: &mut C) -> QueryResult<Vec<Self>>;
    /// Number of rows (no scope).
    fn count_all(conn: &mut C) -> QueryResult<i64>;
    /// True when a row with key `id` exists (no scope).
    fn exists(conn: &mut C, id: Self::Id) -> QueryResult<bool>;
    /// `limit` rows ordered by key, after skipping `offset` (no scope).
    fn page(conn: &mut C, offset: i64, limit: i64) -> QueryResult<Vec<Self>>;
    /// Rows matching `predicate`, ordered by key, optionally one `(offset, limit)` page.
    fn load_where(
        conn: &mut C,
        predicate: Where<Self>,
        page: Option<(i64, i64)>,
    ) -> QueryResult<Vec<Self>>;
    /// Rows matching `predicate` in `order` (then by key), optionally one `(offset, limit)`
    /// page.
    fn load_ordered(
        conn: &mut C,
        predicate: Where<Self>,
        order: OrderBy<Self>,
        page: Option<(i64, i64)>,
    ) -> QueryResult<Vec<Self>>;
    /// Rows matching `predicate` in the order the database finds them (no `ORDER BY`: the
    /// caller orders them, as relation loading does per parent, sparing the database a sort).
    fn load_unordered(conn: &mut C, predicate: Where<Self>) -> QueryResult<Vec<Self>>;
    /// [`ReadOps::load_ordered`] with the rows locked as `lock` asks, until the transaction
    /// ends (no clause on SQLite, which has no row locks).
    fn load_locked(
        conn: &mut C,
        predicate: Where<Self>,
        order: OrderBy<Self>,
        page: Option<(i64, i64)>,
        lock: RowLock,
    ) -> QueryResult<Vec<Self>>;
    /// Rows matching `predicate` as they are now, ordered by key and locked until the
    /// transaction ends (see [`ForUpdate`]): what a write that reads first must use.
    fn lock_where(conn: &mut C, predicate: Where<Self>) -> QueryResult<Vec<Self>>;
    /// Number of rows matching `predicate`.
    fn count_where(conn: &mut C, predicate: Where<Self>) -> QueryResult<i64>;
    /// Deletes the rows matching `predicate`; returns how many were deleted.
    fn delete_where(conn: &mut C, predicate: Where<Self>) -> QueryResult<usize>;
}

impl<M, C> ReadOps<C> for M
where
    M: Model,
    C: Connection,
    C::Backend: LockClause,
    Pk<M>: ExpressionMethods,
    <Pk<M> as Expression>::SqlType: SqlType + diesel::expression::TypedExpressionType,
    Id<M>: AsExpression<<Pk<M> as Expression>::SqlType>,
    // find_by_id, exists
    Table<M>: FilterDsl<dsl::Eq<Pk<M>, Id<M>>>,
    ById<M>: SelectDsl<Sel<M>> + SelectDsl<CountStar>,
    Select<ById<M>, Sel<M>>: LoadQuery<'static, C, M> + RunQueryDsl<C>,
    Select<ById<M>, CountStar>: LoadQuery<'static, C, i64> + RunQueryDsl<C>,
    // find_all, page, count
    Table<M>: SelectDsl<Sel<M>> + SelectDsl<CountStar>,
    Select<Table<M>, Sel<M>>: OrderDsl<Pk<M>>,
    AllRows<M>: LoadQuery<'static, C, M> + LimitDsl + RunQueryDsl<C>,
    Limit<AllRows<M>>: OffsetDsl,
    Offset<Limit<AllRows<M>>>: LoadQuery<'static, C, M> + RunQueryDsl<C>,
    Select<Table<M>, CountStar>: LoadQuery<'static, C, i64> + RunQueryDsl<C>,
    // scoped
    Table<M>: FilterDsl<Where<M>>,
    Scoped<M>: SelectDsl<Sel<M>> + SelectDsl<CountStar> + IntoUpdateTarget,
    Select<Scoped<M>, Sel<M>>: OrderDsl<Pk<M>> + LoadQuery<'static, C, M> + RunQueryDsl<C>,
    ScopedRows<M>: LoadQuery<'static, C, M> + LimitDsl + RunQueryDsl<C>,
    Limit<ScopedRows<M>>: OffsetDsl,
    Offset<Limit<ScopedRows<M>>>: LoadQuery<'static, C, M> + RunQueryDsl<C>,
    ForUpdate<ScopedRows<M>>: LoadQuery<'static, C, M>,
    Select<Scoped<M>, Sel<M>>: OrderDsl<OrderBy<M>>,
    OrderedRows<M>: LoadQuery<'static, C, M> + LimitDsl + RunQueryDsl<C>,
    Limit<OrderedRows<M>>: OffsetDsl,
    Offset<Limit<OrderedRows<M>>>: LoadQuery<'static, C, M> + RunQueryDsl<C>,
    Locked<OrderedRows<M>>: LoadQuery<'static, C, M>,
    Locked<Offset<Limit<OrderedRows<M>>>>: LoadQuery<'static, C, M>,
    Select<Scoped<M>, CountStar>: LoadQuery<'static, C, i64> + RunQueryDsl<C>,
    dsl::delete<Scoped<M>>: ExecuteDsl<C> + RunQueryDsl<C>,
{
    #[inline]
    fn find_by_id(conn: &mut C, id: Self::Id) -> QueryResult<Option<Self>> {
        // A key matches at most one row, so no LIMIT: a bound LIMIT makes SQLite re-prepare
        // the cached statement on every call.
        let query = M::Table::default().filter(M::PrimaryKey::default().eq(id));
        Ok(query.select(M::Selection::default()).load(conn)?.pop())
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

    fn load_where(
        conn: &mut C,
        predicate: Where<Self>,
        page: Option<(i64, i64)>,
    ) -> QueryResult<Vec<Self>> {
        let rows = M::Table::default()
            .filter(predicate)
            .select(M::Selection::default())
            .order(M::PrimaryKey::default());
        match page {
            None => rows.load(conn),
            Some((offset, limit)) => rows.limit(limit).offset(offset).load(conn),
        }
    }

    fn load_unordered(conn: &mut C, predicate: Where<Self>) -> QueryResult<Vec<Self>> {
        M::Table::default()
            .filter(predicate)
            .select(M::Selection::default())
            .load(conn)
    }

    fn load_ordered(
        conn: &mut C,
        predicate: Where<Self>,
        order: OrderBy<Self>,
        page: Option<(i64, i64)>,
    ) -> QueryResult<Vec<Self>> {
        let rows = ordered_rows(predicate, order);
        match page {
            None => rows.load(conn),
            Some((offset, limit)) => rows.limit(limit).offset(offset).load(conn),
        }
    }

    fn load_locked(
        conn: &mut C,
        predicate: Where<Self>,
        order: OrderBy<Self>,
        page: Option<(i64, i64)>,
        lock: RowLock,
    ) -> QueryResult<Vec<Self>> {
        let rows = ordered_rows(predicate, order);
        match page {
            None => Locked { query: rows, lock }.load(conn),
            Some((offset, limit)) => Locked {
                query: rows.limit(limit).offset(offset),
                lock,
            }
            .load(conn),
        }
    }

    fn lock_where(conn: &mut C, predicate: Where<Self>) -> QueryResult<Vec<Self>> {
        let rows = M::Table::default()
            .filter(predicate)
            .select(M::Selection::default())
            .order(M::PrimaryKey::default());
        ForUpdate(rows).load(conn)
    }

    fn count_where(conn: &mut C, predicate: Where<Self>) -> QueryResult<i64> {
        M::Table::default()
            .filter(predicate)
            .select(dsl::count_star())
            .get_result(conn)
    }

    fn delete_where(conn: &mut C, predicate: Where<Self>) -> QueryResult<usize> {
        diesel::delete(M::Table::default().filter(predicate)).execute(conn)
    }
}

/// The rows of `predicate` in `order`: what ordered and locking reads both load.
fn ordered_rows<M>(predicate: Where<M>, order: OrderBy<M>) -> OrderedRows<M>
where
    M: Model,
    Table<M>: FilterDsl<Where<M>>,
    Scoped<M>: SelectDsl<Sel<M>>,
    Select<Scoped<M>, Sel<M>>: OrderDsl<OrderBy<M>>,
{
    M::Table::default()
        .filter(predicate)
        .select(M::Selection::default())
        .order(order)
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
