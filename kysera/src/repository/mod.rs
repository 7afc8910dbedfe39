//! [`Repo`]: every repository operation, for every model, on every backend.
//!
//! A `Repo` is a `Copy` handle holding a shared reference to a [`Conn`]: hold as many as you
//! like at once, inside or outside a transaction. Multi-statement operations run in one
//! transaction (a savepoint when one is already open); single statements run as they are.

mod delete;
mod find;
mod guarded;
mod history;
mod keyset;
mod read;
mod relations;
mod stream;
mod upsert;
mod write;

pub use find::Find;
pub use history::Restored;
pub use stream::{ChunkStream, RowStream, STREAM_CHUNK};
pub use upsert::{Upsert, Upserted};

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
use crate::filter::{IntoOrder, IntoPredicate, OrderBy, OrderTerm, Predicate};
use crate::json::{JsonFields, JsonMap};
use crate::model::{Model, NewRow, Patch};
use crate::ops::{
    LockStrength, LockWait, ReadOps, RowLock, SetValue, Supported, Writable, WriteOps,
};
use crate::pagination::{Page, PageRequest};
use crate::plugin::{AfterWrite, BeforeWrite, Plugin, ReadScope};
use crate::query::Loadable;
use crate::scope::{Condition, Keys, Scope, Where};
use crate::validate::{Validate, ValidationMode};

/// A model's generated repository type (`UserRepository<'c>`, a thin wrapper over [`Repo`]
/// where its own finders live): what [`Conn::repo`] returns. Implemented by
/// `#[derive(Repository)]`; kept apart from [`Model`] so that the model layer does not depend
/// on the repository built on it.
pub trait HasRepository: Model {
    /// The repository type.
    type Repository<'c>: From<Repo<'c, Self>>;
}

impl Conn {
    /// The repository of model `M` on this connection.
    pub fn repo<M: HasRepository>(&self) -> M::Repository<'_> {
        Repo::new(self).into()
    }

    /// Several repositories at once, as a tuple: `let (users, posts) = tx.repos::<(User, Post)>();`
    pub fn repos<'c, S: RepoSet<'c>>(&'c self) -> S::Repos {
        S::repos(self)
    }
}

/// Ids per statement for `IN (...)` lists.
const IDS_PER_STATEMENT: usize = crate::ops::KEYS_PER_STATEMENT;

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
        self.conn.classify(err, &self.context())
    }

    fn not_found(&self, id: &M::Id) -> Error {
        Error::NotFound {
            table: M::TABLE_NAME.to_string(),
            key: M::key_text(id),
        }
    }

    /// Runs `f` on the underlying connection and classifies its error for this table.
    fn run<R: crate::instrument::rows::ResultRows>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> QueryResult<R>,
    ) -> Result<R> {
        self.conn.observed(f)?.map_err(|e| self.error(e))
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

    /// Rows per statement for a statement binding `binds_per_row` values per row plus
    /// `fixed` once, under the backend's bind limit. (MySQL reads inserted rows back with one
    /// key per row, which never binds more than the INSERT did.)
    fn chunk_rows(&self, binds_per_row: usize, fixed: usize) -> usize {
        let room = self.conn.backend().max_bind_params().saturating_sub(fixed);
        (room / binds_per_row.max(1)).max(1)
    }

    /// The keys of `keys` in groups of at most [`IDS_PER_STATEMENT`], one statement each.
    fn key_chunks(keys: Keys<M>) -> Vec<Keys<M>> {
        match keys {
            Keys::Many(ids) if ids.len() > IDS_PER_STATEMENT => ids
                .chunks(IDS_PER_STATEMENT)
                .map(|chunk| Keys::Many(chunk.to_vec()))
                .collect(),
            keys => vec![keys],
        }
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

    /// Adds rows to `audit_logs`: one multi-row INSERT per chunk under the backend's bind
    /// limit (the caller holds the transaction).
    fn record_audit(&self, entries: &[NewAuditEntry]) -> Result<()> {
        use diesel::RunQueryDsl;
        let table = crate::audit::audit_logs::table;
        let per_statement = self.conn.backend().max_bind_params() / crate::audit::BINDS_PER_ROW;
        for chunk in entries.chunks(per_statement) {
            self.conn
                .with_connection(
                    |c| dispatch!(c, c => diesel::insert_into(table).values(chunk).execute(c)),
                )?
                .map_err(|e| self.error(e))?;
        }
        Ok(())
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
                    entity_id: M::key_text(&id),
                    operation: operation.as_str().to_string(),
                    old_values: values(before),
                    new_values: values(after),
                    changed_by: context.actor_id().map(str::to_string),
                    changed_at: at,
                    metadata: context.metadata_value().map(|m| m.to_string()),
                })
                .collect();
            self.record_audit(&entries)?;
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
        impl<'c, $($m: HasRepository),+> RepoSet<'c> for ($($m,)+) {
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
