//! [`Repo`]: every repository operation, for every model, on every backend.
//!
//! A `Repo` is a `Copy` handle holding a shared reference to a [`Conn`]: hold as many as you
//! like at once, inside or outside a transaction. Multi-statement operations run in one
//! transaction (a savepoint when one is already open); single statements run as they are.

use std::marker::PhantomData;
use std::sync::Arc;

use diesel::dsl::{self, Filter, Select};
use diesel::query_dsl::methods::{FilterDsl, SelectDsl};
use diesel::QueryResult;

use crate::audit::{filter_values, AuditEntry, NewAuditEntry, Operation};
use crate::clock;
use crate::connection::{dispatch, AnyConnection};
use crate::error::{BackendKind, Error, ErrorContext, Result};
use crate::executor::Conn;
use crate::json::{JsonFields, JsonMap};
use crate::model::{Model, NewRow, Patch};
use crate::ops::{ReadOps, SetValue, Supported, Writable, WriteOps};
use crate::pagination::{Page, PageRequest};
use crate::plugin::{AfterWrite, BeforeWrite, Plugin, ReadScope};
use crate::query::Loadable;
use crate::scope::{Condition, Keys, Scope, Where};
use crate::validate::{Validate, ValidationMode};

/// Ids per statement for `IN (...)` lists: far below every backend's bind limit.
const IDS_PER_STATEMENT: usize = 10_000;

/// Which rows of a `#[soft_delete]` model reads see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deleted {
    Exclude,
    Include,
    Only,
}

/// The repository of model `M` on a connection. Usually reached through the generated
/// wrapper (`UserRepository`), which derefs to it.
///
/// On a `#[soft_delete]` model every read (by id, by ids, all, typed finders, count, exists,
/// pagination, [`Repo::query`]) leaves out soft-deleted rows, and [`Repo::delete`] is a soft
/// delete; [`Repo::with_deleted`] and [`Repo::only_deleted`] lift or invert that filter only.
pub struct Repo<'c, M> {
    conn: &'c Conn,
    validation: ValidationMode,
    deleted: Deleted,
    skip: &'c [&'c str],
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
            .field("deleted", &self.deleted)
            .finish()
    }
}

impl<'c, M: Model> Repo<'c, M> {
    /// The repository of `M` on `conn`, validating reads per `KYSERA_VALIDATION_MODE`.
    pub fn new(conn: &'c Conn) -> Self {
        Repo {
            conn,
            validation: ValidationMode::from_env(),
            deleted: Deleted::Exclude,
            skip: &[],
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

    /// Reads that include soft-deleted rows (only this filter is lifted; plugin scopes stay).
    pub fn with_deleted(mut self) -> Self {
        self.deleted = Deleted::Include;
        self
    }

    /// Reads that return only soft-deleted rows (plugin scopes stay).
    pub fn only_deleted(mut self) -> Self {
        self.deleted = Deleted::Only;
        self
    }

    /// The same repository without the named plugins, for the calls made through it.
    pub fn without_plugins(mut self, names: &'c [&'c str]) -> Self {
        self.skip = names;
        self
    }

    fn plugins(&self) -> impl Iterator<Item = &'c Arc<dyn Plugin>> + 'c {
        let skip = self.skip;
        self.conn
            .plugins()
            .iter()
            .filter(move |p| !skip.contains(&p.name()))
    }

    fn has_plugins(&self) -> bool {
        self.plugins().next().is_some()
    }

    /// The conditions of every read: the soft-delete view and the plugins' scopes.
    fn scope(&self) -> Scope {
        self.scope_with(self.deleted)
    }

    fn scope_with(&self, deleted: Deleted) -> Scope {
        let mut scope = Scope::default();
        if let Some(column) = M::BEHAVIOURS.soft_delete {
            match deleted {
                Deleted::Exclude => scope.push(Condition::IsNull(column.to_string())),
                Deleted::Only => scope.push(Condition::IsNotNull(column.to_string())),
                Deleted::Include => {}
            }
        }
        if self.has_plugins() {
            let context = self.conn.context();
            let read = ReadScope {
                table: M::TABLE_NAME,
                columns: M::COLUMNS,
                context: &context,
            };
            for plugin in self.plugins() {
                for condition in plugin.read_scope(&read) {
                    scope.push(condition);
                }
            }
        }
        scope
    }

    /// The escape hatch: `SELECT <model columns> FROM <table> WHERE <scope>` as a Diesel
    /// query to refine with `filter`, `order`, `limit`... and run with [`Repo::load`] or
    /// [`Repo::first`]. It carries the repository's scope, so soft-deleted rows (and rows
    /// outside a plugin's scope) stay out.
    pub fn query(&self) -> Filter<Select<M::Table, M::Selection>, Where<M>>
    where
        M::Table: SelectDsl<M::Selection>,
        Select<M::Table, M::Selection>: FilterDsl<Where<M>>,
    {
        M::Table::default()
            .select(M::Selection::default())
            .filter(Where::new(self.scope(), Keys::All))
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

    /// Runs `f` in a transaction when `atomic`, directly otherwise; reports errors to plugins.
    fn atomically<R>(&self, atomic: bool, f: impl FnOnce() -> Result<R>) -> Result<R> {
        let result = if atomic {
            self.conn.transaction(|_| f())
        } else {
            f()
        };
        if let Err(err) = &result {
            for plugin in self.plugins() {
                plugin.on_error(M::TABLE_NAME, err);
            }
        }
        result
    }

    /// True when a write needs a transaction beyond its own statement: audit rows, plugin
    /// hooks, MySQL's read-back, or more than one statement.
    fn needs_transaction(&self, statements: usize) -> bool {
        statements > 1
            || M::BEHAVIOURS.audit.is_some()
            || self.has_plugins()
            || self.conn.backend() == BackendKind::Mysql
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

    /// Lets plugins see (and change) the values of a write. Returns the changed values, or
    /// `None` when no plugin changed anything.
    fn before_write(
        &self,
        operation: Operation,
        values: impl FnOnce() -> Vec<JsonMap>,
    ) -> Result<Option<Vec<JsonMap>>> {
        if !self.has_plugins() {
            return Ok(None);
        }
        let original = values();
        let mut changed = original.clone();
        let context = self.conn.context();
        for plugin in self.plugins() {
            let mut write = BeforeWrite {
                table: M::TABLE_NAME,
                columns: M::COLUMNS,
                operation,
                context: &context,
                values: &mut changed,
            };
            plugin.before_write(&mut write)?;
        }
        Ok((changed != original).then_some(changed))
    }

    /// Audit rows and plugin `after_write` hooks for a write that changed `new` (and, where
    /// captured, was `old` before).
    fn after_write(&self, operation: Operation, old: &[M], new: &[M]) -> Result<()> {
        if let Some(audit) = M::BEHAVIOURS.audit {
            let context = self.conn.context();
            let at = clock::now();
            let by_key: std::collections::HashMap<M::Id, &M> =
                old.iter().map(|r| (r.id(), r)).collect();
            let values = |row: Option<&M>| -> Option<String> {
                let row = row?;
                audit.capture_values.then(|| {
                    serde_json::Value::Object(filter_values(row.to_json(), &audit)).to_string()
                })
            };
            let changed: Vec<(M::Id, Option<&M>, Option<&M>)> = match operation {
                Operation::Delete => old.iter().map(|r| (r.id(), Some(r), None)).collect(),
                _ => new
                    .iter()
                    .map(|r| (r.id(), by_key.get(&r.id()).copied(), Some(r)))
                    .collect(),
            };
            let entries: Vec<NewAuditEntry> = changed
                .into_iter()
                .map(|(id, before, after)| NewAuditEntry {
                    table_name: M::TABLE_NAME.to_string(),
                    entity_id: key_text(&id),
                    operation: operation.as_str().to_string(),
                    old_values: values(before),
                    new_values: values(after),
                    changed_by: context.actor_id().map(str::to_string),
                    changed_at: at,
                    metadata: context.metadata_value().map(|m| m.to_string()),
                })
                .collect();
            self.conn.record_audit(&entries)?;
        }
        if self.has_plugins() {
            let rows: Vec<JsonMap> = if operation == Operation::Delete {
                old
            } else {
                new
            }
            .iter()
            .map(JsonFields::to_json)
            .collect();
            let context = self.conn.context();
            let write = AfterWrite {
                table: M::TABLE_NAME,
                operation,
                context: &context,
                rows: &rows,
            };
            for plugin in self.plugins() {
                plugin.after_write(&write)?;
            }
        }
        Ok(())
    }

    fn captures_old_values(&self) -> bool {
        M::BEHAVIOURS.audit.is_some_and(|a| a.capture_values)
    }

    fn timestamps_column(&self) -> Option<&'static str> {
        M::BEHAVIOURS.timestamps.and_then(|t| t.updated_at)
    }
}

/// An entity key as audit rows store it: the number or text itself, not its `Debug` quoting.
fn key_text<T: std::fmt::Debug>(id: &T) -> String {
    let text = format!("{id:?}");
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .map(str::to_string)
        .unwrap_or(text)
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
    /// Rows matching `keys` within the repository's scope, ordered by key.
    fn load_keys(&self, scope: Scope, keys: Keys<M>) -> Result<Vec<M>> {
        let predicate = Where::new(scope, keys);
        self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::load_where(c, predicate, None)))
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

impl<'c, M: Supported> Repo<'c, M> {
    /// Validates `new`, inserts it and returns the stored row (with generated columns filled
    /// in). With `#[timestamps]`, `created_at` (and `updated_at`) are set unless given.
    pub fn create<'a>(&self, new: &'a M::New) -> Result<M>
    where
        M: Writable<'a>,
    {
        new.validate()?;
        clock::frozen(true, |_| {
            if let Some(changed) = self.before_write(Operation::Insert, || vec![new.to_json()])? {
                return self.create_owned(changed).map(|mut rows| rows.remove(0));
            }
            self.atomically(self.needs_transaction(1), || {
                let row =
                    self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::insert_one(c, new)))?;
                self.after_write(Operation::Insert, &[], std::slice::from_ref(&row))?;
                Ok(row)
            })
        })
    }

    /// Like [`Repo::create`], but leaves the timestamps of `#[timestamps]` to the caller:
    /// `new` must give them.
    pub fn create_without_timestamps<'a>(&self, new: &'a M::New) -> Result<M>
    where
        M: Writable<'a>,
    {
        if !new.has_timestamps() {
            return Err(Error::InvalidArgument(
                "create_without_timestamps needs explicit timestamp values".into(),
            ));
        }
        new.validate()?;
        clock::frozen(false, |_| {
            self.atomically(self.needs_transaction(1), || {
                let row =
                    self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::insert_one(c, new)))?;
                self.after_write(Operation::Insert, &[], std::slice::from_ref(&row))?;
                Ok(row)
            })
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
        clock::frozen(true, |_| {
            if let Some(changed) = self.before_write(Operation::Insert, || {
                rows.iter().map(JsonFields::to_json).collect()
            })? {
                return self.create_owned(changed);
            }
            let chunk = self.chunk_rows(M::INSERT_BINDS);
            self.atomically(self.needs_transaction(rows.len().div_ceil(chunk)), || {
                let created = concat_chunks(rows.chunks(chunk), |part| {
                    self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::insert_chunk(c, part)))
                })?;
                self.after_write(Operation::Insert, &[], &created)?;
                Ok(created)
            })
        })
    }

    /// Inserts values a plugin changed (already in a frozen clock).
    fn create_owned<'a>(&self, values: Vec<JsonMap>) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        let rows = values
            .iter()
            .map(M::New::from_json)
            .collect::<Result<Vec<_>>>()?;
        validate_all(&rows)?;
        self.atomically(true, || {
            let created =
                self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::insert_owned(c, rows)))?;
            self.after_write(Operation::Insert, &[], &created)?;
            Ok(created)
        })
    }

    /// Validates `patch` and applies it to the row with key `id`; returns the stored row, or
    /// [`Error::NotFound`] (also for a soft-deleted row). An empty patch changes nothing and
    /// returns the row. With `#[timestamps]`, `updated_at` is set unless given.
    pub fn update<'a>(&self, id: M::Id, patch: &'a M::Update) -> Result<M>
    where
        M: Writable<'a>,
    {
        let key = id.clone();
        let rows = self.update_keys(Keys::One(id), patch, true)?;
        rows.into_iter().next().ok_or_else(|| self.not_found(&key))
    }

    /// Like [`Repo::update`], but leaves `updated_at` alone unless the patch sets it.
    pub fn update_without_timestamps<'a>(&self, id: M::Id, patch: &'a M::Update) -> Result<M>
    where
        M: Writable<'a>,
    {
        let key = id.clone();
        let rows = self.update_keys(Keys::One(id), patch, false)?;
        rows.into_iter().next().ok_or_else(|| self.not_found(&key))
    }

    /// Applies one `patch` to every row in `ids` in one transaction; returns the updated rows
    /// ordered by key. Keys with no row (or outside the scope) are skipped.
    pub fn update_many<'a>(&self, ids: &[M::Id], patch: &'a M::Update) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = Vec::new();
        let chunks = ids.len().div_ceil(IDS_PER_STATEMENT);
        self.atomically(chunks > 1, || {
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                rows.extend(self.update_keys(Keys::Many(chunk.to_vec()), patch, true)?);
            }
            Ok(())
        })?;
        if chunks > 1 {
            crate::ops::sort_by_key_order(&mut rows);
        }
        Ok(rows)
    }

    fn update_keys<'a>(&self, keys: Keys<M>, patch: &'a M::Update, auto: bool) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        patch.validate()?;
        let scope = self.scope_with(Deleted::Exclude);
        if patch.is_empty() {
            return self.checked_all(self.load_keys(scope, keys)?);
        }
        clock::frozen(auto, |_| {
            let changed = self.before_write(Operation::Update, || vec![patch.to_json()])?;
            let old_keys = || match &keys {
                Keys::All => Keys::All,
                Keys::One(id) => Keys::One(id.clone()),
                Keys::Many(ids) => Keys::Many(ids.clone()),
            };
            let statements = 1 + usize::from(self.captures_old_values());
            self.atomically(self.needs_transaction(statements) || changed.is_some(), || {
                let old = if self.captures_old_values() { self.load_keys(scope.clone(), old_keys())? } else { Vec::new() };
                let predicate = Where::new(scope.clone(), old_keys());
                let new = match &changed {
                    None => self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::update_where(c, predicate, patch)))?,
                    Some(values) => {
                        let owned = M::Update::from_json(&values[0])?;
                        owned.validate()?;
                        self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::update_owned(c, predicate, owned)))?
                    }
                };
                self.after_write(Operation::Update, &old, &new)?;
                Ok(new)
            })
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
        let ids: Vec<M::Id> = rows.iter().map(|(id, _)| id.clone()).collect();
        if rows.iter().all(|(_, patch)| patch.is_empty()) {
            return self.find_by_ids(&ids);
        }
        if self.has_plugins() {
            self.before_write(Operation::Update, || {
                rows.iter().map(|(_, p)| p.to_json()).collect()
            })?
            .map_or(Ok(()), |_| {
                Err(Error::plugin(
                    "bulk_update",
                    "plugins cannot change the patches of bulk_update",
                ))
            })?;
        }
        // Each row binds its key in every CASE it appears in, plus the IN list.
        let binds_per_row = 1 + 2 * M::COLUMNS.len();
        let chunk = self.chunk_rows(binds_per_row).min(IDS_PER_STATEMENT);
        let scope = self.scope_with(Deleted::Exclude);
        let statements = rows.len().div_ceil(chunk) + usize::from(self.captures_old_values());
        clock::frozen(true, |at| {
            let at = self.timestamps_column().map(|_| at);
            self.atomically(self.needs_transaction(statements), || {
                let old = if self.captures_old_values() { self.load_keys(scope.clone(), Keys::Many(ids.clone()))? } else { Vec::new() };
                let parts = rows.chunks(chunk).filter(|part| !part.iter().all(|(_, patch)| patch.is_empty()));
                let mut updated = concat_chunks(parts, |part| {
                    let scope = &scope;
                    self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::bulk_update_chunk(c, part, scope, at)))
                })?;
                if rows.len() > chunk {
                    crate::ops::sort_by_key_order(&mut updated);
                }
                self.after_write(Operation::Update, &old, &updated)?;
                Ok(updated)
            })
        })
    }

    /// Deletes the row with key `id`, or fails with [`Error::NotFound`]. On a
    /// `#[soft_delete]` model this is a soft delete (see [`Repo::hard_delete`]).
    pub fn delete<'a>(&self, id: M::Id) -> Result<()>
    where
        M: Writable<'a>,
    {
        if M::BEHAVIOURS.soft_delete.is_some() {
            return self.soft_delete(id).map(drop);
        }
        self.hard_delete(id)
    }

    /// Deletes the rows with keys in `ids` (soft deletes on a `#[soft_delete]` model) in one
    /// transaction; returns how many were deleted.
    pub fn delete_many<'a>(&self, ids: &[M::Id]) -> Result<u64>
    where
        M: Writable<'a>,
    {
        if M::BEHAVIOURS.soft_delete.is_some() {
            return self.soft_delete_many(ids).map(|rows| rows.len() as u64);
        }
        self.hard_delete_many(ids)
    }

    /// Removes the row with key `id` for good (soft-deleted or not), or fails with
    /// [`Error::NotFound`].
    pub fn hard_delete<'a>(&self, id: M::Id) -> Result<()>
    where
        M: Writable<'a>,
    {
        let key = id.clone();
        match self.hard_delete_many(&[id])? {
            0 => Err(self.not_found(&key)),
            _ => Ok(()),
        }
    }

    /// Removes the rows with keys in `ids` for good; returns how many were deleted.
    pub fn hard_delete_many<'a>(&self, ids: &[M::Id]) -> Result<u64>
    where
        M: Writable<'a>,
    {
        if ids.is_empty() {
            return Ok(0);
        }
        // Soft-deleted rows can be removed for good; other scopes (a tenant) still apply.
        let scope = self.scope_with(Deleted::Include);
        self.before_write(Operation::Delete, Vec::new)?;
        let chunks = ids.len().div_ceil(IDS_PER_STATEMENT);
        let audited = M::BEHAVIOURS.audit.is_some() || self.has_plugins();
        self.atomically(
            self.needs_transaction(chunks + usize::from(audited)),
            || {
                let mut deleted = 0u64;
                for chunk in ids.chunks(IDS_PER_STATEMENT) {
                    let keys = Keys::Many(chunk.to_vec());
                    let old = if audited {
                        self.load_keys(scope.clone(), Keys::Many(chunk.to_vec()))?
                    } else {
                        Vec::new()
                    };
                    let predicate = Where::new(scope.clone(), keys);
                    deleted += self
                        .run(|c| dispatch!(c, c => <M as ReadOps<_>>::delete_where(c, predicate)))?
                        as u64;
                    self.after_write(Operation::Delete, &old, &[])?;
                }
                Ok(deleted)
            },
        )
    }

    /// Marks the row with key `id` deleted (`#[soft_delete]` models); returns it as stored, or
    /// [`Error::NotFound`] when it is missing or already deleted.
    pub fn soft_delete<'a>(&self, id: M::Id) -> Result<M>
    where
        M: Writable<'a>,
    {
        let key = id.clone();
        self.set_deleted(Operation::SoftDelete, Keys::One(id))?
            .into_iter()
            .next()
            .ok_or_else(|| self.not_found(&key))
    }

    /// Marks the rows with keys in `ids` deleted; returns the rows it changed.
    pub fn soft_delete_many<'a>(&self, ids: &[M::Id]) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        self.set_deleted(Operation::SoftDelete, Keys::Many(ids.to_vec()))
    }

    /// Brings back the soft-deleted row with key `id`; [`Error::NotFound`] when it is missing
    /// or not deleted.
    pub fn restore<'a>(&self, id: M::Id) -> Result<M>
    where
        M: Writable<'a>,
    {
        let key = id.clone();
        self.set_deleted(Operation::Restore, Keys::One(id))?
            .into_iter()
            .next()
            .ok_or_else(|| self.not_found(&key))
    }

    /// Brings back the soft-deleted rows with keys in `ids`; returns the rows it changed.
    pub fn restore_many<'a>(&self, ids: &[M::Id]) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        self.set_deleted(Operation::Restore, Keys::Many(ids.to_vec()))
    }

    fn set_deleted<'a>(&self, operation: Operation, keys: Keys<M>) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        let Some(column) = M::BEHAVIOURS.soft_delete else {
            return Err(Error::InvalidArgument(format!(
                "{} is not a #[soft_delete] model",
                M::TABLE_NAME
            )));
        };
        if matches!(&keys, Keys::Many(ids) if ids.is_empty()) {
            return Ok(Vec::new());
        }
        let (view, value) = match operation {
            Operation::Restore => (Deleted::Only, None),
            _ => (Deleted::Exclude, Some(())),
        };
        let scope = self.scope_with(view);
        self.before_write(operation, Vec::new)?;
        clock::frozen(true, |at| {
            let mut assignments =
                vec![(column, value.map_or(SetValue::Null, |_| SetValue::At(at)))];
            if let Some(updated_at) = self.timestamps_column() {
                assignments.push((updated_at, SetValue::At(at)));
            }
            let captured = self.captures_old_values();
            self.atomically(self.needs_transaction(1 + usize::from(captured)), || {
                let clone_keys = || match &keys {
                    Keys::All => Keys::All,
                    Keys::One(id) => Keys::One(id.clone()),
                    Keys::Many(ids) => Keys::Many(ids.clone()),
                };
                let old = if captured { self.load_keys(scope.clone(), clone_keys())? } else { Vec::new() };
                let predicate = Where::new(scope.clone(), clone_keys());
                let assignments = assignments.clone();
                let new = self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::set_where(c, assignments, predicate)))?;
                self.after_write(operation, &old, &new)?;
                Ok(new)
            })
        })
    }

    /// The audit rows of the row with key `id`, oldest first (`#[audited]` models).
    pub fn audit_history(&self, id: M::Id) -> Result<Vec<AuditEntry>> {
        crate::audit::history(self.conn, M::TABLE_NAME, &key_text(&id))
    }

    /// One audit row by its id.
    pub fn audit_entry(&self, audit_id: i64) -> Result<AuditEntry> {
        crate::audit::entry(self.conn, audit_id)
    }

    /// Undoes one audited change of this model: an update gets its old values back, a soft
    /// delete is restored, a restore is soft-deleted again, and a hard-deleted row is inserted
    /// again with its old values (generated columns included). Columns excluded from the audit
    /// cannot be brought back.
    pub fn restore_from_audit<'a>(&self, audit_id: i64) -> Result<M>
    where
        M: Writable<'a>,
    {
        let entry = self.audit_entry(audit_id)?;
        if entry.table_name != M::TABLE_NAME {
            return Err(Error::InvalidArgument(format!(
                "audit row {audit_id} belongs to `{}`, not `{}`",
                entry.table_name,
                M::TABLE_NAME
            )));
        }
        let old = || {
            entry.old()?.ok_or_else(|| {
                Error::InvalidArgument(format!("audit row {audit_id} has no old values to restore"))
            })
        };
        match entry.operation()? {
            Operation::Insert => Err(Error::InvalidArgument(format!(
                "audit row {audit_id} records an insert: there are no old values to restore"
            ))),
            Operation::Update => {
                let row = M::from_json(&old()?)?;
                let id = row.id();
                // Only the columns an update may change go back into the patch.
                let mut values = old()?;
                values.retain(|column, _| crate::model::column::<M>(column).is_some());
                let patch = M::Update::from_json(&values)?;
                patch.validate()?;
                let scope = self.scope_with(Deleted::Include);
                clock::frozen(true, |_| {
                    self.atomically(true, || {
                        let before = self.load_keys(scope.clone(), Keys::One(id.clone()))?;
                        let predicate = Where::new(scope.clone(), Keys::One(id.clone()));
                        let new = self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::update_owned(c, predicate, patch)))?;
                        self.after_write(Operation::Update, &before, &new)?;
                        new.into_iter().next().ok_or_else(|| self.not_found(&id))
                    })
                })
            }
            Operation::SoftDelete => self.restore(M::from_json(&old()?)?.id()),
            Operation::Restore => self.soft_delete(M::from_json(&old()?)?.id()),
            Operation::Delete => {
                let row = M::from_json(&old()?)?;
                let id = row.id();
                self.atomically(true, || {
                    self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::insert_row(c, row)))?;
                    let restored = self.load_keys(Scope::default(), Keys::One(id.clone()))?;
                    self.after_write(Operation::Insert, &[], &restored)?;
                    restored
                        .into_iter()
                        .next()
                        .ok_or_else(|| self.not_found(&id))
                })
            }
        }
    }

    /// Sets `updated_at` of the row with key `id` to now (`#[timestamps]` models).
    pub fn touch<'a>(&self, id: M::Id) -> Result<M>
    where
        M: Writable<'a>,
    {
        let Some(column) = self.timestamps_column() else {
            return Err(Error::InvalidArgument(format!(
                "{} has no updated_at column",
                M::TABLE_NAME
            )));
        };
        let key = id.clone();
        let scope = self.scope_with(Deleted::Exclude);
        clock::frozen(true, |at| {
            let predicate = Where::new(scope, Keys::One(id));
            let rows = self.atomically(self.needs_transaction(1), || {
                let new = self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::set_where(c, vec![(column, SetValue::At(at))], predicate)))?;
                self.after_write(Operation::Update, &[], &new)?;
                Ok(new)
            })?;
            rows.into_iter().next().ok_or_else(|| self.not_found(&key))
        })
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
