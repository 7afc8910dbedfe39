//! Keyset pages of a repository, or of any Diesel query of its table.

use diesel::dsl::{Filter, Limit, Order, Select};
use diesel::query_dsl::methods::{FilterDsl, LimitDsl, OrderDsl, SelectDsl};

use super::Repo;
use crate::error::Result;
use crate::ops::Supported;
use crate::pagination::keyset::{CursorPage, CursorRequest, Keyset, KeysetFilter, KeysetOrder};
use crate::query::Loadable;
use crate::scope::Where;

/// The repository's own query, [`Repo::query`].
type Scoped<M> =
    Filter<Select<<M as crate::Model>::Table, <M as crate::Model>::Selection>, Where<M>>;
/// `query` narrowed to one keyset page: predicate, `ORDER BY` and `LIMIT n + 1`.
type Paged<Q, M> = Limit<Order<Filter<Q, KeysetFilter<M>>, KeysetOrder<M>>>;

impl<M: Supported> Repo<'_, M> {
    /// One keyset page of the repository's rows, within its scope (soft-deleted rows and
    /// rows outside plugin scopes stay out), ordered by `keyset`.
    ///
    /// Bad requests are typed errors before any query runs: an unknown or duplicated order
    /// column ([`Error::InvalidArgument`](crate::Error::InvalidArgument), naming the valid
    /// columns), a limit of 0 or above [`CursorRequest::MAX_LIMIT`], and any cursor that is
    /// not one this keyset made ([`Error::InvalidCursor`](crate::Error::InvalidCursor)).
    /// See [`pagination::keyset`](crate::pagination::keyset).
    pub fn keyset_page<'q>(&self, keyset: &Keyset, request: &CursorRequest) -> Result<CursorPage<M>>
    where
        M::Table: SelectDsl<M::Selection>,
        Select<M::Table, M::Selection>: FilterDsl<Where<M>>,
        Scoped<M>: FilterDsl<KeysetFilter<M>>,
        Filter<Scoped<M>, KeysetFilter<M>>: OrderDsl<KeysetOrder<M>>,
        Order<Filter<Scoped<M>, KeysetFilter<M>>, KeysetOrder<M>>: LimitDsl,
        Paged<Scoped<M>, M>: Loadable<'q, M>,
    {
        self.keyset_page_of(self.query(), keyset, request)
    }

    /// One keyset page of `query`: any Diesel query of the model's table that yields `M`,
    /// such as `repo.query().filter(...)` (which keeps the repository's scope) or
    /// `users::table.filter(...)` (which does not). The page's predicate is added to the
    /// query's own `WHERE`; its `ORDER BY` and `LIMIT` replace the query's.
    pub fn keyset_page_of<'q, Q>(
        &self,
        query: Q,
        keyset: &Keyset,
        request: &CursorRequest,
    ) -> Result<CursorPage<M>>
    where
        Q: FilterDsl<KeysetFilter<M>>,
        Filter<Q, KeysetFilter<M>>: OrderDsl<KeysetOrder<M>>,
        Order<Filter<Q, KeysetFilter<M>>, KeysetOrder<M>>: LimitDsl,
        Paged<Q, M>: Loadable<'q, M>,
    {
        let plan = keyset.plan::<M>(request)?;
        let query = query
            .filter(plan.filter())
            .order(plan.order())
            .limit(plan.fetch_limit());
        plan.page(self.load(query)?)
    }
}
