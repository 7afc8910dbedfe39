//! Reads: by key, by keys, all, typed finders, count, exists, pages, custom queries.

#[allow(unused_imports)]
use super::*;

impl<'c, M: Supported> Repo<'c, M> {
    /// Rows matching `keys` within the repository's scope, ordered by key.
    pub(super) fn load_keys(&self, scope: Scope, keys: Keys<M>) -> Result<Vec<M>> {
        self.load_where(Where::new(scope, keys))
    }

    /// The rows `predicate` matches, ordered by key.
    pub(super) fn load_where(&self, predicate: Where<M>) -> Result<Vec<M>> {
        self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::load_where(c, predicate, None)))
    }

    /// Like [`Repo::load_keys`], but the rows as they are now, locked until the transaction
    /// ends: the old values a write records must be those it overwrites.
    pub(super) fn lock_keys(&self, scope: Scope, keys: Keys<M>) -> Result<Vec<M>> {
        self.lock_where(Where::new(scope, keys))
    }

    /// The rows `predicate` matches, locked (see [`Repo::lock_keys`]).
    pub(super) fn lock_where(&self, predicate: Where<M>) -> Result<Vec<M>> {
        self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::lock_where(c, predicate)))
    }

    /// The row with key `id`, or `None` (also when it is outside the repository's scope).
    pub fn find_by_id(&self, id: M::Id) -> Result<Option<M>> {
        let scope = self.scope();
        let row = if scope.is_empty() {
            self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::find_by_id(c, id)))?
        } else {
            self.load_keys(scope, Keys::One(id))?.into_iter().next()
        };
        row.map(|r| self.checked(r)).transpose()
    }

    /// The row with key `id`, or [`Error::NotFound`].
    pub fn get(&self, id: M::Id) -> Result<M> {
        let key = id.clone();
        self.find_by_id(id)?.ok_or_else(|| self.not_found(&key))
    }

    /// The rows whose keys are in `ids`, ordered by key (missing keys are skipped); one
    /// statement per 10,000 keys.
    pub fn find_by_ids(&self, ids: &[M::Id]) -> Result<Vec<M>> {
        let scope = self.scope();
        let mut rows = concat_chunks(ids.chunks(IDS_PER_STATEMENT), |chunk| {
            self.load_keys(scope.clone(), Keys::Many(chunk.to_vec()))
        })?;
        if ids.len() > IDS_PER_STATEMENT {
            crate::ops::sort_by_key_order(&mut rows);
        }
        self.checked_all(rows)
    }

    /// Every row, ordered by key.
    pub fn find_all(&self) -> Result<Vec<M>> {
        let scope = self.scope();
        let rows = if scope.is_empty() {
            self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::find_all(c)))?
        } else {
            self.load_keys(scope, Keys::All)?
        };
        self.checked_all(rows)
    }

    /// Rows where `column = value`, ordered by key. The generated `find_by_<field>` methods
    /// call this; it works for any column of the table.
    pub fn find_by<'q, Col, V>(&self, column: Col, value: V) -> Result<Vec<M>>
    where
        Col: diesel::ExpressionMethods,
        <Col as diesel::Expression>::SqlType:
            diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
        V: diesel::expression::AsExpression<<Col as diesel::Expression>::SqlType>,
        M::Table: SelectDsl<M::Selection>,
        Select<M::Table, M::Selection>: FilterDsl<Where<M>>,
        Filter<Select<M::Table, M::Selection>, Where<M>>: FilterDsl<dsl::Eq<Col, V>>,
        Filter<Filter<Select<M::Table, M::Selection>, Where<M>>, dsl::Eq<Col, V>>:
            diesel::query_dsl::methods::OrderDsl<M::PrimaryKey>,
        dsl::Order<
            Filter<Filter<Select<M::Table, M::Selection>, Where<M>>, dsl::Eq<Col, V>>,
            M::PrimaryKey,
        >: Loadable<'q, M>,
    {
        use diesel::query_dsl::methods::OrderDsl;
        self.load(
            self.query()
                .filter(column.eq(value))
                .order(M::PrimaryKey::default()),
        )
    }

    /// The first row (by key) where `column = value`, or `None`.
    pub fn find_one_by<'q, Col, V>(&self, column: Col, value: V) -> Result<Option<M>>
    where
        Col: diesel::ExpressionMethods,
        <Col as diesel::Expression>::SqlType:
            diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
        V: diesel::expression::AsExpression<<Col as diesel::Expression>::SqlType>,
        M::Table: SelectDsl<M::Selection>,
        Select<M::Table, M::Selection>: FilterDsl<Where<M>>,
        Filter<Select<M::Table, M::Selection>, Where<M>>: FilterDsl<dsl::Eq<Col, V>>,
        Filter<Filter<Select<M::Table, M::Selection>, Where<M>>, dsl::Eq<Col, V>>:
            diesel::query_dsl::methods::OrderDsl<M::PrimaryKey>,
        dsl::Order<
            Filter<Filter<Select<M::Table, M::Selection>, Where<M>>, dsl::Eq<Col, V>>,
            M::PrimaryKey,
        >: diesel::query_dsl::methods::LimitDsl,
        dsl::Limit<
            dsl::Order<
                Filter<Filter<Select<M::Table, M::Selection>, Where<M>>, dsl::Eq<Col, V>>,
                M::PrimaryKey,
            >,
        >: Loadable<'q, M>,
    {
        use diesel::query_dsl::methods::OrderDsl;
        self.first(
            self.query()
                .filter(column.eq(value))
                .order(M::PrimaryKey::default()),
        )
    }

    /// Number of rows.
    pub fn count(&self) -> Result<u64> {
        let scope = self.scope();
        let n = if scope.is_empty() {
            self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::count_all(c)))?
        } else {
            let predicate = Where::new(scope, Keys::All);
            self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::count_where(c, predicate)))?
        };
        Ok(n.max(0) as u64)
    }

    /// True when a row with key `id` exists.
    pub fn exists(&self, id: M::Id) -> Result<bool> {
        let scope = self.scope();
        if scope.is_empty() {
            return self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::exists(c, id)));
        }
        let predicate = Where::new(scope, Keys::One(id));
        Ok(self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::count_where(c, predicate)))? > 0)
    }

    /// One page of rows ordered by key, with the total count.
    pub fn paginate(&self, request: PageRequest) -> Result<Page<M>> {
        let (offset, limit) = request.offset_and_limit()?;
        let scope = self.scope();
        let items = if scope.is_empty() {
            self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::page(c, offset, limit)))?
        } else {
            let predicate = Where::new(scope, Keys::All);
            self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::load_where(c, predicate, Some((offset, limit)))))?
        };
        let items = self.checked_all(items)?;
        let total = self.count()?;
        Ok(Page::new(items, request, total))
    }

    /// Loads the rows of a query built from [`Repo::query`] (or any query yielding `M`).
    pub fn load<'q, Q: Loadable<'q, M>>(&self, query: Q) -> Result<Vec<M>> {
        let rows = self.run(|c| dispatch!(c, c => diesel::RunQueryDsl::load(query, c)))?;
        self.checked_all(rows)
    }

    /// The first row of a query, or `None`.
    pub fn first<'q, Q>(&self, query: Q) -> Result<Option<M>>
    where
        Q: diesel::query_dsl::methods::LimitDsl,
        dsl::Limit<Q>: Loadable<'q, M>,
    {
        Ok(self
            .load(diesel::query_dsl::methods::LimitDsl::limit(query, 1))?
            .into_iter()
            .next())
    }
}
