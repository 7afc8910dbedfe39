//! [`Repo`]: every repository operation, for every model, on every backend.
//!
//! A `Repo` is a `Copy` handle holding a shared reference to a [`Conn`]: hold as many as you
//! like at once, inside or outside a transaction. Multi-statement operations run in one
//! transaction (a savepoint when one is already open); single statements run as they are.

use std::marker::PhantomData;

use diesel::dsl::{self, Filter, Order, Select};
use diesel::query_dsl::methods::{FilterDsl, OrderDsl, SelectDsl};
use diesel::QueryResult;

use crate::connection::{dispatch, AnyConnection};
use crate::error::{BackendKind, Error, ErrorContext, Result};
use crate::executor::Conn;
use crate::model::{Model, Patch};
use crate::ops::{ReadOps, Supported, Writable, WriteOps};
use crate::pagination::{Page, PageRequest};
use crate::query::Loadable;
use crate::validate::{Validate, ValidationMode};

/// Ids per statement for `IN (...)` lists: far below every backend's bind limit.
const IDS_PER_STATEMENT: usize = 10_000;

/// The repository of model `M` on a connection. Usually reached through the generated
/// wrapper (`UserRepository`), which derefs to it.
pub struct Repo<'c, M> {
    conn: &'c Conn,
    validation: ValidationMode,
    model: PhantomData<fn() -> M>,
}

impl<M> Clone for Repo<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Repo<'_, M> {}

impl<M> std::fmt::Debug for Repo<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("model", &std::any::type_name::<M>())
            .field("conn", &self.conn)
            .finish()
    }
}

impl<'c, M: Model> Repo<'c, M> {
    /// The repository of `M` on `conn`, validating reads per `KYSERA_VALIDATION_MODE`.
    pub fn new(conn: &'c Conn) -> Self {
        Repo {
            conn,
            validation: ValidationMode::from_env(),
            model: PhantomData,
        }
    }

    /// The connection this repository runs on.
    pub fn conn(&self) -> &'c Conn {
        self.conn
    }

    /// The same repository with another validation mode for rows read back.
    pub fn with_validation(mut self, mode: ValidationMode) -> Self {
        self.validation = mode;
        self
    }

    /// The validation mode for rows read back.
    pub fn validation(&self) -> ValidationMode {
        self.validation
    }

    /// The escape hatch: `SELECT <model columns> FROM <table>`, as a Diesel query to refine
    /// with `filter`, `order`, `limit`... and run with [`Repo::load`] or [`Repo::first`].
    pub fn query(&self) -> Select<M::Table, M::Selection>
    where
        M::Table: SelectDsl<M::Selection>,
    {
        M::Table::default().select(M::Selection::default())
    }

    fn context(&self) -> ErrorContext {
        ErrorContext {
            backend: Some(self.conn.backend()),
            table: Some(M::TABLE_NAME),
            columns: M::COLUMNS,
        }
    }

    fn error(&self, err: diesel::result::Error) -> Error {
        crate::error::from_diesel(err, &self.context())
    }

    fn not_found(&self, id: &M::Id) -> Error {
        Error::NotFound {
            table: M::TABLE_NAME.to_string(),
            key: format!("{id:?}"),
        }
    }

    /// Runs `f` on the underlying connection and classifies its error for this table.
    fn run<R>(&self, f: impl FnOnce(&mut AnyConnection) -> QueryResult<R>) -> Result<R> {
        self.conn.with_connection(f)?.map_err(|e| self.error(e))
    }

    /// Runs `f` in a transaction when `atomic`, directly otherwise.
    fn atomically<R>(&self, atomic: bool, f: impl FnOnce() -> Result<R>) -> Result<R> {
        if atomic {
            self.conn.transaction(|_| f())
        } else {
            f()
        }
    }

    fn checked(&self, row: M) -> Result<M> {
        if self.validation.validates_reads() {
            row.validate()?;
        }
        Ok(row)
    }

    fn checked_all(&self, rows: Vec<M>) -> Result<Vec<M>> {
        if self.validation.validates_reads() {
            for row in &rows {
                row.validate()?;
            }
        }
        Ok(rows)
    }

    fn chunk_rows(&self, binds_per_row: usize) -> usize {
        (max_bind_params(self.conn.backend()) / binds_per_row.max(1)).max(1)
    }
}

/// Most bind parameters one statement may carry on each backend.
fn max_bind_params(backend: BackendKind) -> usize {
    match backend {
        // SQLITE_MAX_VARIABLE_NUMBER is 32766 since SQLite 3.32 (the bundled library is newer).
        BackendKind::Sqlite => 32_766,
        BackendKind::Postgres | BackendKind::Mysql => 65_535,
    }
}

impl<'c, M: Supported> Repo<'c, M> {
    /// The row with key `id`, or `None`.
    pub fn find_by_id(&self, id: M::Id) -> Result<Option<M>> {
        let row = self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::find_by_id(c, id)))?;
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
        let mut rows = concat_chunks(ids.chunks(IDS_PER_STATEMENT), |chunk| {
            let keys = chunk.to_vec();
            self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::find_by_ids(c, keys)))
        })?;
        if ids.len() > IDS_PER_STATEMENT {
            crate::ops::sort_by_key_order(&mut rows);
        }
        self.checked_all(rows)
    }

    /// Every row, ordered by key.
    pub fn find_all(&self) -> Result<Vec<M>> {
        let rows = self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::find_all(c)))?;
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
        M::Table: FilterDsl<dsl::Eq<Col, V>>,
        Filter<M::Table, dsl::Eq<Col, V>>: SelectDsl<M::Selection>,
        Select<Filter<M::Table, dsl::Eq<Col, V>>, M::Selection>: OrderDsl<M::PrimaryKey>,
        Order<Select<Filter<M::Table, dsl::Eq<Col, V>>, M::Selection>, M::PrimaryKey>:
            Loadable<'q, M>,
    {
        let query = M::Table::default()
            .filter(column.eq(value))
            .select(M::Selection::default())
            .order(M::PrimaryKey::default());
        self.load(query)
    }

    /// The first row (by key) where `column = value`, or `None`.
    pub fn find_one_by<'q, Col, V>(&self, column: Col, value: V) -> Result<Option<M>>
    where
        Col: diesel::ExpressionMethods,
        <Col as diesel::Expression>::SqlType:
            diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
        V: diesel::expression::AsExpression<<Col as diesel::Expression>::SqlType>,
        M::Table: FilterDsl<dsl::Eq<Col, V>>,
        Filter<M::Table, dsl::Eq<Col, V>>: SelectDsl<M::Selection>,
        Select<Filter<M::Table, dsl::Eq<Col, V>>, M::Selection>: OrderDsl<M::PrimaryKey>,
        Order<Select<Filter<M::Table, dsl::Eq<Col, V>>, M::Selection>, M::PrimaryKey>:
            diesel::query_dsl::methods::LimitDsl,
        dsl::Limit<Order<Select<Filter<M::Table, dsl::Eq<Col, V>>, M::Selection>, M::PrimaryKey>>:
            Loadable<'q, M>,
    {
        let query = M::Table::default()
            .filter(column.eq(value))
            .select(M::Selection::default())
            .order(M::PrimaryKey::default());
        self.first(query)
    }

    /// Number of rows.
    pub fn count(&self) -> Result<u64> {
        let n = self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::count_all(c)))?;
        Ok(n.max(0) as u64)
    }

    /// True when a row with key `id` exists.
    pub fn exists(&self, id: M::Id) -> Result<bool> {
        self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::exists(c, id)))
    }

    /// Validates `new`, inserts it and returns the stored row (with generated columns filled in).
    pub fn create<'a>(&self, new: &'a M::New) -> Result<M>
    where
        M: Writable<'a>,
    {
        new.validate()?;
        let backend = self.conn.backend();
        // MySQL writes, then reads back: two statements, one transaction.
        self.atomically(backend == BackendKind::Mysql, || {
            self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::insert_one(c, new)))
        })
    }

    /// Validates every row, then inserts them with multi-row INSERTs (chunked under the
    /// backend's bind-parameter limit) in one transaction; returns the stored rows in input order.
    pub fn create_many<'a>(&self, rows: &'a [M::New]) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        validate_all(rows)?;
        let chunk = self.chunk_rows(M::INSERT_BINDS);
        let atomic = rows.len() > chunk || self.conn.backend() == BackendKind::Mysql;
        self.atomically(atomic, || {
            concat_chunks(rows.chunks(chunk), |part| {
                self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::insert_chunk(c, part)))
            })
        })
    }

    /// Validates `patch` and applies it to the row with key `id`; returns the stored row, or
    /// [`Error::NotFound`]. An empty patch changes nothing and returns the row.
    pub fn update<'a>(&self, id: M::Id, patch: &'a M::Update) -> Result<M>
    where
        M: Writable<'a>,
    {
        patch.validate()?;
        if patch.is_empty() {
            return self.get(id);
        }
        let key = id.clone();
        let backend = self.conn.backend();
        let row = self.atomically(backend == BackendKind::Mysql, || {
            self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::update_one(c, id, patch)))
        })?;
        row.ok_or_else(|| self.not_found(&key))
    }

    /// Applies one `patch` to every row in `ids` in one transaction; returns the updated rows
    /// ordered by key. Keys with no row are skipped.
    pub fn update_many<'a>(&self, ids: &[M::Id], patch: &'a M::Update) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        patch.validate()?;
        if patch.is_empty() || ids.is_empty() {
            return self.find_by_ids(ids);
        }
        let atomic = ids.len() > IDS_PER_STATEMENT || self.conn.backend() == BackendKind::Mysql;
        self.atomically(atomic, || {
            let mut rows = concat_chunks(ids.chunks(IDS_PER_STATEMENT), |chunk| {
                let keys = chunk.to_vec();
                self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::update_ids(c, keys, patch)))
            })?;
            if ids.len() > IDS_PER_STATEMENT {
                crate::ops::sort_by_key_order(&mut rows);
            }
            Ok(rows)
        })
    }

    /// Applies a different patch to each row: one `UPDATE ... CASE` statement per chunk (plus
    /// one read-back on MySQL), all in one transaction. Returns the updated rows ordered by key.
    pub fn bulk_update<'a>(&self, rows: &'a [(M::Id, M::Update)]) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        for (_, patch) in rows {
            patch.validate()?;
        }
        if rows.iter().all(|(_, patch)| patch.is_empty()) {
            let ids: Vec<M::Id> = rows.iter().map(|(id, _)| id.clone()).collect();
            return self.find_by_ids(&ids);
        }
        // Each row binds its key in every CASE it appears in, plus the IN list.
        let binds_per_row = 1 + 2 * M::COLUMNS.len();
        let chunk = self.chunk_rows(binds_per_row).min(IDS_PER_STATEMENT);
        let atomic = rows.len() > chunk || self.conn.backend() == BackendKind::Mysql;
        self.atomically(atomic, || {
            let parts = rows
                .chunks(chunk)
                .filter(|part| !part.iter().all(|(_, patch)| patch.is_empty()));
            let mut updated = concat_chunks(parts, |part| {
                self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::bulk_update_chunk(c, part)))
            })?;
            if rows.len() > chunk {
                crate::ops::sort_by_key_order(&mut updated);
            }
            Ok(updated)
        })
    }

    /// Deletes the row with key `id`, or fails with [`Error::NotFound`].
    pub fn delete(&self, id: M::Id) -> Result<()> {
        let key = id.clone();
        let deleted =
            self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::delete_ids(c, vec![id])))?;
        if deleted == 0 {
            return Err(self.not_found(&key));
        }
        Ok(())
    }

    /// Deletes the rows with keys in `ids` in one transaction; returns how many were deleted.
    pub fn delete_many(&self, ids: &[M::Id]) -> Result<u64> {
        self.atomically(ids.len() > IDS_PER_STATEMENT, || {
            let mut deleted = 0u64;
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                let keys = chunk.to_vec();
                deleted +=
                    self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::delete_ids(c, keys)))? as u64;
            }
            Ok(deleted)
        })
    }

    /// One page of rows ordered by key, with the total count.
    pub fn paginate(&self, request: PageRequest) -> Result<Page<M>> {
        let (offset, limit) = request.offset_and_limit()?;
        let items = self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::page(c, offset, limit)))?;
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

/// Runs `f` on each chunk and joins the results in chunk order. The first chunk's vector is
/// kept, so the usual single-chunk call returns Diesel's vector without copying it.
fn concat_chunks<C, T>(
    chunks: impl Iterator<Item = C>,
    mut f: impl FnMut(C) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let mut joined: Option<Vec<T>> = None;
    for chunk in chunks {
        let part = f(chunk)?;
        match &mut joined {
            None => joined = Some(part),
            Some(all) => all.extend(part),
        }
    }
    Ok(joined.unwrap_or_default())
}

fn validate_all<T: Validate>(rows: &[T]) -> Result<()> {
    for row in rows {
        row.validate()?;
    }
    Ok(())
}

/// A tuple of models whose repositories can be obtained together with [`Conn::repos`].
pub trait RepoSet<'c> {
    /// The tuple of repositories.
    type Repos;
    /// Builds every repository on `conn`.
    fn repos(conn: &'c Conn) -> Self::Repos;
}

macro_rules! repo_set {
    ($($m:ident),+) => {
        impl<'c, $($m: Model),+> RepoSet<'c> for ($($m,)+) {
            type Repos = ($($m::Repository<'c>,)+);
            fn repos(conn: &'c Conn) -> Self::Repos {
                ($(conn.repo::<$m>(),)+)
            }
        }
    };
}
repo_set!(A);
repo_set!(A, B);
repo_set!(A, B, C);
repo_set!(A, B, C, D);
repo_set!(A, B, C, D, E);
repo_set!(A, B, C, D, E, F);
repo_set!(A, B, C, D, E, F, G);
repo_set!(A, B, C, D, E, F, G, H);
