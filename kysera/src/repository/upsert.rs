//! Upserts: insert rows, or update the ones that conflict on a unique key.

#[allow(unused_imports)]
use super::*;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::filter::Filter;
use crate::ops::ConflictClause;

/// How [`Repo::upsert`] resolves a conflict: the unique key whose conflict turns an insert
/// into an update (its columns, or the name of a unique constraint or index), and the columns
/// the update overwrites with the new row's values.
///
/// By default the update sets every column the Create struct sets except the conflict
/// target, the primary key, `created_at` and `skip_update` fields; a managed `updated_at` is
/// always set.
///
/// ```
/// use kysera::Upsert;
/// let by_email = Upsert::on(["email"]);
/// let only_name = Upsert::on(["email"]).update(["name"]);
/// let by_index = Upsert::on_constraint("users_email_key");
/// # let _ = (by_email, only_name, by_index);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upsert {
    target: Target,
    update: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Columns(Vec<String>),
    Constraint(String),
}

impl Upsert {
    /// Conflicts on the unique key made of `columns` (database column names).
    pub fn on<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Upsert {
            target: Target::Columns(columns.into_iter().map(Into::into).collect()),
            update: None,
        }
    }

    /// Conflicts on one typed Diesel column (`Upsert::on_column(users::email)`).
    pub fn on_column<C: diesel::Column>(_column: C) -> Self {
        Upsert::on([C::NAME])
    }

    /// Conflicts on the unique constraint or unique index `name` (its columns are read from
    /// the database's catalog).
    pub fn on_constraint(name: impl Into<String>) -> Self {
        Upsert {
            target: Target::Constraint(name.into()),
            update: None,
        }
    }

    /// On conflict, sets only `columns` (and a managed `updated_at`). An empty list leaves
    /// the stored row as it is and returns it.
    pub fn update<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.update = Some(columns.into_iter().map(Into::into).collect());
        self
    }
}

/// A row written by an upsert, and whether it was inserted or updated.
#[derive(Debug, Clone, PartialEq)]
pub struct Upserted<M> {
    /// The row as stored.
    pub row: M,
    /// True when the row was inserted, false when an existing row was updated.
    pub inserted: bool,
}

/// The values of the conflict target in one row, compared exactly, then with text folded to
/// lower case (a case-insensitive collation matches `A@x` with a stored `a@x`).
type TargetKey = Vec<Value>;

fn target_key(values: &JsonMap, target: &[&'static str]) -> TargetKey {
    target
        .iter()
        .map(|c| values.get(*c).cloned().unwrap_or(Value::Null))
        .collect()
}

fn folded(key: &TargetKey) -> TargetKey {
    key.iter()
        .map(|v| match v {
            Value::String(s) => Value::String(s.to_lowercase()),
            other => other.clone(),
        })
        .collect()
}

/// The rows whose target values are one of `keys`.
fn matching_filter(target: &[&'static str], keys: &[TargetKey]) -> Filter {
    if let [column] = target {
        return Filter::is_in(*column, keys.iter().map(|k| k[0].clone()));
    }
    Filter::Or(
        keys.iter()
            .map(|key| {
                Filter::And(
                    target
                        .iter()
                        .zip(key)
                        .map(|(c, v)| Filter::eq(*c, v.clone()))
                        .collect(),
                )
            })
            .collect(),
    )
}

impl<'c, M: Supported> Repo<'c, M> {
    /// Inserts `new`, or updates the row it conflicts with on `on`'s unique key; returns the
    /// stored row and whether it was inserted. See [`Repo::upsert_many`].
    pub fn upsert<'a>(&self, new: &'a M::New, on: &Upsert) -> Result<Upserted<M>>
    where
        M: Writable<'a>,
    {
        let mut rows = self.upsert_many(std::slice::from_ref(new), on)?;
        Ok(rows.remove(0))
    }

    /// Inserts each row, or updates the row it conflicts with on `on`'s unique key, in one
    /// transaction: one statement per chunk under the bind limit (`ON CONFLICT ... DO UPDATE`
    /// on PostgreSQL, `ON DUPLICATE KEY UPDATE` on MySQL; one per row on SQLite, whose
    /// multi-row `INSERT` Diesel builds only when it runs it), after one locking read of the
    /// rows it will update. Returns the stored rows in input order, each marked
    /// inserted or updated.
    ///
    /// Rows are validated first; `created_at` is kept on update and `updated_at` set; audit
    /// rows record an `INSERT` or an `UPDATE` (with the old values) as it happened; plugins
    /// see the rows as inserts (`before_write`) and as what they became (`after_write`). A
    /// conflicting row that is soft-deleted is restored and updated. A conflicting row
    /// outside a plugin's scope (another tenant's) is not touched: the call fails with
    /// [`Error::UniqueViolation`], as a plain insert would.
    ///
    /// Two rows with the same target values, or a NULL in a target column (NULLs never
    /// conflict), are an [`Error::InvalidArgument`]. On MySQL, which has no conflict target,
    /// a conflict on another unique key also updates; the rows are read back by the target's
    /// values, so give the key that conflicts.
    pub fn upsert_many<'a>(&self, rows: &'a [M::New], on: &Upsert) -> Result<Vec<Upserted<M>>>
    where
        M: Writable<'a>,
    {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        validate_all(rows)?;
        let clause = self.conflict_clause(on)?;
        clock::frozen(true, |_| {
            let values: Vec<JsonMap> = rows.iter().map(JsonFields::to_json).collect();
            let changed = self.before_write(Operation::Insert, || values.clone())?;
            let values = changed.clone().unwrap_or(values);
            let keys = self.target_keys(&values, &clause.target)?;
            let chunk = self.chunk_rows(M::INSERT_BINDS, 0);
            // PostgreSQL's statement says which rows it inserted; the locking read is then
            // needed only for old values (captured audit) and for plugins (hooks, scopes).
            let read_first = self.conn.backend() != BackendKind::Postgres
                || self.captures_old_values()
                || self.has_plugins();
            let matching = |keys: &[TargetKey], existing: &mut Vec<M>| {
                if read_first {
                    self.existing_rows(&clause, keys, existing)
                } else {
                    self.conflicting(&clause, keys)
                        .map(|filter| Where::new(Scope::default(), Keys::All).filtered(&[filter]))
                }
            };
            self.atomically(true, || {
                let mut stored = Vec::with_capacity(rows.len());
                let mut existing: Vec<M> = Vec::new();
                // What the statements themselves said (PostgreSQL), by key.
                let mut said: Option<HashMap<M::Id, bool>> = None;
                let mut take = |upserts: crate::ops::Upserts<M>, stored: &mut Vec<M>| {
                    if let Some(flags) = upserts.inserted {
                        let said = said.get_or_insert_with(HashMap::new);
                        said.extend(upserts.rows.iter().map(Model::id).zip(flags));
                    }
                    stored.extend(upserts.rows);
                };
                match &changed {
                    None => {
                        for (part, keys) in rows.chunks(chunk).zip(keys.chunks(chunk)) {
                            let matching = matching(keys, &mut existing)?;
                            let clause = clause.clone();
                            take(self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::upsert_chunk(c, part, clause, matching)))?, &mut stored);
                        }
                    }
                    Some(values) => {
                        let owned = values.iter().map(M::New::from_json).collect::<Result<Vec<_>>>()?;
                        validate_all(&owned)?;
                        let mut owned = owned.into_iter();
                        for keys in keys.chunks(chunk) {
                            let part: Vec<M::New> = owned.by_ref().take(keys.len()).collect();
                            let matching = matching(keys, &mut existing)?;
                            let clause = clause.clone();
                            take(self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::upsert_owned(c, part, clause, matching)))?, &mut stored);
                        }
                    }
                }
                let stored = self.checked_all(in_input_order(stored, &keys, &clause.target)?)?;
                let flags: Vec<bool> = match &said {
                    Some(said) if !read_first => {
                        stored.iter().map(|row| said.get(&row.id()) != Some(&false)).collect()
                    }
                    _ => {
                        let before: HashSet<M::Id> = existing.iter().map(Model::id).collect();
                        let flags: Vec<bool> = stored.iter().map(|row| !before.contains(&row.id())).collect();
                        if let Some(said) = &said {
                            self.check_inserted(&stored, &flags, said)?;
                        }
                        flags
                    }
                };
                let (mut inserted, mut updated) = (Vec::new(), Vec::new());
                for (row, &was_inserted) in stored.into_iter().zip(&flags) {
                    if was_inserted { inserted.push(row) } else { updated.push(row) }
                }
                if !inserted.is_empty() {
                    self.after_write(Operation::Insert, &[], &inserted)?;
                }
                if !updated.is_empty() {
                    self.after_write(Operation::Update, &existing, &updated)?;
                }
                let (mut inserted, mut updated) = (inserted.into_iter(), updated.into_iter());
                Ok(flags
                    .into_iter()
                    .filter_map(|was_inserted| {
                        let row = if was_inserted { inserted.next() } else { updated.next() }?;
                        Some(Upserted { row, inserted: was_inserted })
                    })
                    .collect())
            })
        })
    }

    /// The conflict clause `on` asks for, its columns checked against the model.
    fn conflict_clause(&self, on: &Upsert) -> Result<ConflictClause> {
        let names: Vec<String> = match &on.target {
            Target::Columns(columns) => columns.clone(),
            Target::Constraint(name) => self.unique_key_columns(name)?,
        };
        if names.is_empty() {
            return Err(Error::InvalidArgument(
                "upsert: the conflict target names no column".into(),
            ));
        }
        let mut target = Vec::with_capacity(names.len());
        for name in &names {
            let column = crate::filter::column_of::<M>(name)?;
            if !column.insertable {
                return Err(Error::InvalidArgument(format!(
                    "upsert: conflict column `{name}` of {} is not set by the Create struct",
                    M::TABLE_NAME
                )));
            }
            target.push(column.column);
        }
        let timestamps = M::BEHAVIOURS.timestamps;
        let created_at = timestamps.map(|t| t.created_at);
        let mut update: Vec<&'static str> = match &on.update {
            None => M::COLUMNS
                .iter()
                .filter(|c| c.insertable && c.updatable && !target.contains(&c.column))
                .map(|c| c.column)
                .collect(),
            Some(columns) => {
                let mut update = Vec::with_capacity(columns.len());
                for name in columns {
                    let column = crate::filter::column_of::<M>(name)?;
                    if !column.insertable || !column.updatable || created_at == Some(column.column)
                    {
                        return Err(Error::InvalidArgument(format!(
                            "upsert: column `{name}` of {} cannot be updated",
                            M::TABLE_NAME
                        )));
                    }
                    if !target.contains(&column.column) && !update.contains(&column.column) {
                        update.push(column.column);
                    }
                }
                update
            }
        };
        if let Some(updated_at) = timestamps.and_then(|t| t.updated_at) {
            if !update.contains(&updated_at) {
                update.push(updated_at);
            }
        }
        Ok(ConflictClause {
            target,
            update,
            restore: M::BEHAVIOURS.soft_delete,
            bump: M::VERSION.map(|column| (M::TABLE_NAME, column)),
        })
    }

    /// The target values of every row, refusing NULLs and repeats.
    fn target_keys(&self, values: &[JsonMap], target: &[&'static str]) -> Result<Vec<TargetKey>> {
        let mut seen: HashMap<TargetKey, usize> = HashMap::with_capacity(values.len());
        let mut keys = Vec::with_capacity(values.len());
        for (i, row) in values.iter().enumerate() {
            let key = target_key(row, target);
            if let Some(position) = key.iter().position(Value::is_null) {
                return Err(Error::InvalidArgument(format!(
                    "upsert: row {i} has NULL in conflict column `{}`; NULL never conflicts",
                    target[position]
                )));
            }
            if let Some(first) = seen.insert(key.clone(), i) {
                return Err(Error::InvalidArgument(format!(
                    "upsert: rows {first} and {i} have the same {}",
                    target.join(", ")
                )));
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// Reads (locked) the rows that `keys` conflict with and appends them to `existing`;
    /// returns the predicate that selects the rows the upsert will have written. A conflicting
    /// row outside a plugin's scope fails the call as a unique violation.
    fn existing_rows(
        &self,
        clause: &ConflictClause,
        keys: &[TargetKey],
        existing: &mut Vec<M>,
    ) -> Result<Where<M>> {
        let filter = self.conflicting(clause, keys)?;
        let filters = std::slice::from_ref(&filter);
        let visible = self.scope_with(Deleted::Include);
        let found = self.lock_where(Where::new(visible.clone(), Keys::All).filtered(filters))?;
        if !visible.is_empty() {
            let all =
                self.count_matching(Where::new(Scope::default(), Keys::All).filtered(filters))?;
            if all > found.len() as u64 {
                return Err(Error::UniqueViolation(crate::error::UniqueViolation {
                    constraint: None,
                    table: Some(M::TABLE_NAME.to_string()),
                    columns: clause.target.iter().map(|c| c.to_string()).collect(),
                    field: match clause.target[..] {
                        [column] => crate::model::column::<M>(column).map(|c| c.field.to_string()),
                        _ => None,
                    },
                    message: format!(
                        "a row of {} with the same {} exists outside this repository's scope",
                        M::TABLE_NAME,
                        clause.target.join(", ")
                    ),
                }));
            }
        }
        existing.extend(found);
        Ok(Where::new(Scope::default(), Keys::All).filtered(filters))
    }

    /// On PostgreSQL under READ COMMITTED, a row with a new key that another transaction
    /// inserts and commits between the locking read and the `INSERT` turns the insert into an
    /// update the read did not see: it would be reported as inserted and audited without its
    /// old values. The statement itself says which rows it updated (`RETURNING ..., (xmax =
    /// 0)`); one updated row the read did not find fails the upsert with a transient
    /// [`Error::SerializationFailure`], so it is rolled back and a retry
    /// (`TransactionOptions::retries`) reads the row this time. SQLite serialises writers and
    /// MySQL's locking read takes gap locks (at REPEATABLE READ), so neither interleaves so.
    fn check_inserted(
        &self,
        stored: &[M],
        flags: &[bool],
        said: &HashMap<M::Id, bool>,
    ) -> Result<()> {
        let raced = stored
            .iter()
            .zip(flags)
            .filter(|(row, taken_as_inserted)| {
                **taken_as_inserted && said.get(&row.id()) == Some(&false)
            })
            .count();
        if raced > 0 {
            return Err(Error::SerializationFailure {
                message: format!(
                    "upsert into {}: {raced} row(s) with a new key were inserted by a \
                     concurrent transaction while this upsert ran; it was rolled back, run it \
                     again",
                    M::TABLE_NAME
                ),
            });
        }
        Ok(())
    }

    /// The rows a chunk's target values conflict with, as a filter.
    fn conflicting(&self, clause: &ConflictClause, keys: &[TargetKey]) -> Result<Predicate> {
        IntoPredicate::<M>::into_predicate(matching_filter(&clause.target, keys))
    }

    fn count_matching(&self, predicate: Where<M>) -> Result<u64> {
        let n = self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::count_where(c, predicate)))?;
        Ok(n.max(0) as u64)
    }

    /// The columns of the unique constraint or index `name` of the model's table.
    fn unique_key_columns(&self, name: &str) -> Result<Vec<String>> {
        let columns = self
            .conn
            .with_connection(|c| crate::connection::unique_key_columns(c, M::TABLE_NAME, name))?
            .map_err(|e| self.error(e))?;
        columns.ok_or_else(|| {
            Error::InvalidArgument(format!(
                "upsert: {} has no unique constraint or index named `{name}`",
                M::TABLE_NAME
            ))
        })
    }
}

/// `rows` in the order of the inputs whose target values they hold.
fn in_input_order<M: Model>(
    rows: Vec<M>,
    keys: &[TargetKey],
    target: &[&'static str],
) -> Result<Vec<M>> {
    let mut exact: HashMap<TargetKey, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), i))
        .collect();
    let mut slots: Vec<Option<M>> = (0..keys.len()).map(|_| None).collect();
    let mut unmatched = Vec::new();
    for row in rows {
        let key = target_key(&row.to_json(), target);
        match exact.remove(&key) {
            Some(i) => slots[i] = Some(row),
            None => unmatched.push((folded(&key), row)),
        }
    }
    if !unmatched.is_empty() {
        let mut by_folded: HashMap<TargetKey, usize> =
            exact.into_iter().map(|(k, i)| (folded(&k), i)).collect();
        for (key, row) in unmatched {
            if let Some(i) = by_folded.remove(&key) {
                slots[i] = Some(row);
            }
        }
    }
    slots
        .into_iter()
        .collect::<Option<Vec<M>>>()
        .ok_or_else(|| {
            Error::Query(format!(
                "upsert: a row written to {} was not read back",
                M::TABLE_NAME
            ))
        })
}
