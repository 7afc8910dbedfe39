//! Filtered and ordered reads, and writes by filter: [`Find`] and the methods taking it.

#[allow(unused_imports)]
use super::*;

/// What to read: filters (all must hold), an ordering (then by key), a limit and an offset.
///
/// Filters are typed Diesel expressions on the model's table or run-time
/// [`Filter`](crate::Filter)s; orderings are Diesel orderings or [`OrderTerm`]s. A run-time
/// filter or ordering that does not fit the model is reported by the repository call.
///
/// ```
/// # use kysera::prelude::*;
/// # #[derive(Repository, Debug, Clone, PartialEq)]
/// # #[kysera(table = "posts")]
/// # pub struct Post { #[kysera(primary_key, generated)] pub id: i64, pub author_id: i64, pub title: String, pub published: bool }
/// use diesel::prelude::*;
/// use kysera::{Filter, Find, OrderTerm};
/// # fn main() -> kysera::Result<()> {
/// # let conn = kysera::Conn::establish("sqlite::memory:")?;
/// # conn.batch_execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL, published BOOLEAN NOT NULL)")?;
/// let posts = conn.repo::<Post>();
/// // Typed: Diesel's own expressions.
/// let published = Find::new()
///     .filter(posts::author_id.eq(7).and(posts::published.eq(true)))
///     .order_by(posts::title.desc())
///     .limit(20)
///     .offset(20);
/// let (page, total) = posts.find_and_count(published)?;
/// // Run-time: from a query string or JSON.
/// let query = serde_json::json!({"author_id": 7, "title": {"$startsWith": "Rust"}});
/// let found = posts.find(Find::new().filter(Filter::from_json(&query)?).order_by_all(OrderTerm::parse::<Post>("-id")?))?;
/// assert!(matches!(posts.count_where(Filter::eq("colour", "red")), Err(kysera::Error::UnknownColumn { .. })));
/// # let _ = (page, total, found); Ok(()) }
/// ```
pub struct Find<M: Model> {
    filters: Vec<Predicate>,
    order: Vec<OrderTerm>,
    limit: Option<i64>,
    offset: Option<i64>,
    lock: Option<RowLock>,
    error: Option<Error>,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> Default for Find<M> {
    fn default() -> Self {
        Find {
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            lock: None,
            error: None,
            model: PhantomData,
        }
    }
}

impl<M: Model> std::fmt::Debug for Find<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Find")
            .field("filters", &self.filters.len())
            .field("order", &self.order.len())
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .field("lock", &self.lock)
            .finish()
    }
}

impl<M: Model> Find<M> {
    /// Every row, ordered by key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also requires `filter` (filters are ANDed).
    pub fn filter(mut self, filter: impl IntoPredicate<M>) -> Self {
        match filter.into_predicate() {
            Ok(predicate) => self.filters.push(predicate),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Orders by `term` after the terms given so far (the key always comes last).
    pub fn order_by(mut self, term: impl IntoOrder<M>) -> Self {
        self.order.push(term.into_order());
        self
    }

    /// Orders by each of `terms` after those given so far.
    pub fn order_by_all(mut self, terms: impl IntoIterator<Item = OrderTerm>) -> Self {
        self.order.extend(terms);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Locks the rows read until the transaction ends, against changes, deletes and other
    /// locks (`SELECT ... FOR UPDATE`): the read-then-write of a balance, a job taken from a
    /// queue. Only inside a transaction: outside one the lock would end with the statement,
    /// so the read is refused with [`Error::InvalidArgument`].
    ///
    /// SQLite has no row locks; there the read first takes the database's write lock (what
    /// `BEGIN IMMEDIATE` takes), which keeps every other writer out until the transaction
    /// ends, and a transaction that read an older snapshot fails with [`Error::Busy`].
    ///
    /// ```
    /// # use kysera::prelude::*;
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "jobs")]
    /// # pub struct Job { #[kysera(primary_key, generated)] pub id: i64, pub done: bool }
    /// use diesel::prelude::*;
    /// use kysera::Find;
    /// # fn main() -> kysera::Result<()> {
    /// # let conn = kysera::Conn::establish("sqlite::memory:")?;
    /// # conn.batch_execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, done BOOLEAN NOT NULL); INSERT INTO jobs (done) VALUES (false)")?;
    /// let taken = conn.transaction(|tx| {
    ///     let jobs = tx.repo::<Job>();
    ///     // PostgreSQL and MySQL: `... LIMIT 1 FOR UPDATE SKIP LOCKED`, so workers never wait
    ///     // for one another (SQLite refuses `skip_locked`: it has no row locks to skip).
    ///     let next = Find::new().filter(jobs::done.eq(false)).limit(1).for_update();
    ///     let Some(job) = jobs.find_one(next)? else { return Ok(None) };
    ///     jobs.update(job.id, &JobUpdate { done: Some(true), ..Default::default() }).map(Some)
    /// })?;
    /// assert!(taken.is_some_and(|job| job.done));
    /// # Ok(()) }
    /// ```
    pub fn for_update(self) -> Self {
        self.locking(LockStrength::Update)
    }

    /// Share-locks the rows read until the transaction ends (`FOR SHARE`; `LOCK IN SHARE
    /// MODE` on MySQL/MariaDB): other transactions may read and share-lock them, not change
    /// them. As [`Find::for_update`] otherwise, SQLite included.
    pub fn for_share(self) -> Self {
        self.locking(LockStrength::Share)
    }

    /// With [`Find::for_update`] or [`Find::for_share`]: fails at once with [`Error::Busy`]
    /// instead of waiting when a row is locked (`NOWAIT`; PostgreSQL, MySQL 8, MariaDB
    /// 10.6). Refused on SQLite, which has no row locks.
    pub fn nowait(self) -> Self {
        self.waiting(LockWait::NoWait)
    }

    /// With [`Find::for_update`] or [`Find::for_share`]: leaves out rows another transaction
    /// has locked (`SKIP LOCKED`; PostgreSQL, MySQL 8, MariaDB 10.6). Refused on SQLite,
    /// which has no row locks.
    pub fn skip_locked(self) -> Self {
        self.waiting(LockWait::SkipLocked)
    }

    fn locking(mut self, strength: LockStrength) -> Self {
        let wait = self.lock.map_or(LockWait::Wait, |l| l.wait);
        self.lock = Some(RowLock { strength, wait });
        self
    }

    fn waiting(mut self, wait: LockWait) -> Self {
        match &mut self.lock {
            Some(lock) => lock.wait = wait,
            None => {
                self.error.get_or_insert(Error::InvalidArgument(
                    "nowait and skip_locked need for_update() or for_share() first".into(),
                ));
            }
        }
        self
    }

    /// True when a row lock was asked for.
    pub(super) fn is_locking(&self) -> bool {
        self.lock.is_some()
    }

    /// The filters, for a caller that walks the rows itself.
    pub(super) fn into_filters(self) -> Vec<Predicate> {
        self.filters
    }

    /// True when an ordering was given.
    pub(super) fn is_ordered(&self) -> bool {
        !self.order.is_empty()
    }

    pub(super) fn checked(self) -> Result<Self> {
        if let Some(e) = self.error {
            return Err(e);
        }
        for (name, value) in [("limit", self.limit), ("offset", self.offset)] {
            if value.is_some_and(|v| v < 0) {
                return Err(Error::InvalidArgument(format!(
                    "{name} must not be negative"
                )));
            }
        }
        Ok(self)
    }

    pub(super) fn page(&self) -> Option<(i64, i64)> {
        match (self.offset, self.limit) {
            (None, None) => None,
            (offset, limit) => Some((offset.unwrap_or(0), limit.unwrap_or(i64::MAX))),
        }
    }
}

impl<'c, M: Supported> Repo<'c, M> {
    fn filtered(&self, keys: Keys<M>, filters: &[Predicate]) -> Where<M> {
        Where::new(self.scope(), keys).filtered(filters)
    }

    pub(super) fn load_find(&self, find: &Find<M>, page: Option<(i64, i64)>) -> Result<Vec<M>> {
        self.load_find_and(find, Keys::All, None, page, false)
    }

    /// The rows of `find` among `keys` that also match `extra` (a relation's foreign key).
    /// With `unordered` and no ordering in `find`, in no particular order: the caller sorts.
    pub(super) fn load_find_and(
        &self,
        find: &Find<M>,
        keys: Keys<M>,
        extra: Option<Predicate>,
        page: Option<(i64, i64)>,
        unordered: bool,
    ) -> Result<Vec<M>> {
        let predicate = match extra {
            None => self.filtered(keys, &find.filters),
            Some(extra) => {
                let mut filters = Vec::with_capacity(find.filters.len() + 1);
                filters.extend(find.filters.iter().cloned());
                filters.push(extra);
                self.filtered(keys, &filters)
            }
        };
        if let Some(lock) = find.lock {
            self.prepare_lock(lock)?;
            let order = OrderBy::<M>::new(find.order.clone());
            let rows = self.run(|c| {
                dispatch!(c, c => <M as ReadOps<_>>::load_locked(c, predicate, order, page, lock))
            })?;
            return self.checked_all(rows);
        }
        if find.order.is_empty() && page.is_none() && unordered {
            let rows =
                self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::load_unordered(c, predicate)))?;
            return self.checked_all(rows);
        }
        let order = OrderBy::<M>::new(find.order.clone());
        let rows = self.run(
            |c| dispatch!(c, c => <M as ReadOps<_>>::load_ordered(c, predicate, order, page)),
        )?;
        self.checked_all(rows)
    }

    /// Checks that a locking read can lock, and on SQLite takes the database's write lock.
    fn prepare_lock(&self, lock: RowLock) -> Result<()> {
        if !self.conn.in_transaction() {
            return Err(Error::InvalidArgument(format!(
                "a locking read of {} outside a transaction would release its locks at once: \
                 run it in conn.transaction(...)",
                M::TABLE_NAME
            )));
        }
        if self.conn.backend() != BackendKind::Sqlite {
            return Ok(());
        }
        if lock.wait != LockWait::Wait {
            return Err(Error::InvalidArgument(
                "SQLite has no row locks: nowait and skip_locked cannot apply there; a locking \
                 read takes the database's write lock instead"
                    .into(),
            ));
        }
        // A write statement that changes nothing still starts SQLite's write transaction
        // (the RESERVED lock): from here on no other connection writes until this one ends.
        let sql = format!("DELETE FROM {} WHERE 1 = 0", quote_sqlite(M::TABLE_NAME));
        self.conn.batch_execute(&sql)
    }

    fn count_filtered(&self, filters: &[Predicate]) -> Result<u64> {
        let predicate = self.filtered(Keys::All, filters);
        let n = self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::count_where(c, predicate)))?;
        Ok(n.max(0) as u64)
    }

    /// The rows `find` selects, in its order (then by key); the scope applies on top.
    pub fn find(&self, find: Find<M>) -> Result<Vec<M>> {
        let find = find.checked()?;
        self.load_find(&find, find.page())
    }

    /// The first row `find` selects, or `None`.
    pub fn find_one(&self, find: Find<M>) -> Result<Option<M>> {
        Ok(self.find(find.limit(1))?.into_iter().next())
    }

    /// The rows `find` selects and how many rows match its filters, ignoring its limit and
    /// offset (the total of a paged list).
    pub fn find_and_count(&self, find: Find<M>) -> Result<(Vec<M>, u64)> {
        let find = find.checked()?;
        let rows = self.load_find(&find, find.page())?;
        let total = self.count_filtered(&find.filters)?;
        Ok((rows, total))
    }

    /// One page of the rows `find` selects, in its order, with the total (the page request
    /// replaces `find`'s limit and offset).
    pub fn paginate_by(&self, find: Find<M>, request: PageRequest) -> Result<Page<M>> {
        let (offset, limit) = request.offset_and_limit()?;
        let find = find.checked()?;
        let items = self.load_find(&find, Some((offset, limit)))?;
        let total = self.count_filtered(&find.filters)?;
        Ok(Page::new(items, request, total))
    }

    /// Number of rows matching `filter`.
    pub fn count_where(&self, filter: impl IntoPredicate<M>) -> Result<u64> {
        self.count_filtered(&[filter.into_predicate()?])
    }

    /// True when a row matches `filter`.
    pub fn exists_where(&self, filter: impl IntoPredicate<M>) -> Result<bool> {
        let find = Find::new().filter(filter).limit(1).checked()?;
        Ok(!self.load_find(&find, find.page())?.is_empty())
    }

    /// Applies `patch` to every row matching `filter` in one transaction (validated,
    /// timestamped, audited, seen by plugins, like [`Repo::update_many`]); returns the
    /// updated rows ordered by key.
    pub fn update_where<'a>(
        &self,
        filter: impl IntoPredicate<M>,
        patch: &'a M::Update,
    ) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        let filters = [filter.into_predicate()?];
        self.update_keys(Keys::All, &filters, patch, true)
    }

    /// Deletes every row matching `filter` (soft deletes on a `#[soft_delete]` model) in one
    /// transaction; returns how many were deleted.
    pub fn delete_where<'a>(&self, filter: impl IntoPredicate<M>) -> Result<u64>
    where
        M: Writable<'a>,
    {
        let filters = [filter.into_predicate()?];
        if M::BEHAVIOURS.soft_delete.is_some() {
            return self
                .set_deleted(Operation::SoftDelete, Keys::All, &filters)
                .map(|rows| rows.len() as u64);
        }
        self.hard_delete_matching(&filters)
    }
}

/// `"name"`, doubling quotes inside: an SQLite identifier.
fn quote_sqlite(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
