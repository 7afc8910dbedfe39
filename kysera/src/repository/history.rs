//! The audit trail of a model: history, one entry, and undoing a change.

#[allow(unused_imports)]
use super::*;

/// The row [`Repo::restore_from_audit`] wrote, and the columns it could not bring back.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored<M> {
    /// The row as stored after the restore.
    pub row: M,
    /// Columns the audit log does not hold (`redact(...)`, `exclude(...)`), in field order:
    /// an update leaves them as they are; a re-inserted row has them NULL.
    pub not_restored: Vec<&'static str>,
}

impl<'c, M: Supported> Repo<'c, M> {
    /// The audit rows of the row with key `id`, oldest first (`#[audited]` models).
    pub fn audit_history(&self, id: M::Id) -> Result<Vec<AuditEntry>> {
        crate::audit::history(self.conn, M::TABLE_NAME, &M::key_text(&id))
    }

    /// One audit row by its id.
    pub fn audit_entry(&self, audit_id: i64) -> Result<AuditEntry> {
        crate::audit::entry(self.conn, audit_id)
    }

    /// Undoes one audited change of this model: an update gets its old values back, a soft
    /// delete is restored, a restore is soft-deleted again, and a hard-deleted row is inserted
    /// again with its old values (generated columns included).
    ///
    /// Only what the log really holds is written: columns the audit redacts or excludes are
    /// never written back (an update leaves them alone, a re-inserted row has them NULL) and
    /// are listed in [`Restored::not_restored`]. A hard-deleted row with such a column that
    /// cannot be NULL is refused with [`Error::InvalidArgument`], and nothing is written.
    pub fn restore_from_audit<'a>(&self, audit_id: i64) -> Result<Restored<M>>
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
        let unrecorded = unrecorded_columns::<M>();
        // The recorded values, without the redaction placeholders and excluded columns.
        let recorded = || -> Result<JsonMap> {
            let mut values = entry.old()?.ok_or_else(|| {
                Error::InvalidArgument(format!("audit row {audit_id} has no old values to restore"))
            })?;
            values.retain(|column, _| !unrecorded.iter().any(|c| c.column == column));
            Ok(values)
        };
        let names = |columns: &[&'static crate::model::ColumnInfo]| -> Vec<&'static str> {
            columns.iter().map(|c| c.column).collect()
        };
        match entry.operation()? {
            Operation::Insert => Err(Error::InvalidArgument(format!(
                "audit row {audit_id} records an insert: there are no old values to restore"
            ))),
            Operation::Update => {
                let mut values = recorded()?;
                let id = M::key_from_json(&values)?;
                // Only the columns an update may change go back into the patch.
                values.retain(|column, _| crate::model::column::<M>(column).is_some());
                let patch = M::Update::from_json(&values)?;
                patch.validate()?;
                let scope = self.scope_with(Deleted::Include);
                let row = clock::frozen(true, |_| {
                    self.atomically(true, || {
                        let before = self.lock_keys(scope.clone(), Keys::One(id.clone()))?;
                        let predicate = Where::new(scope.clone(), Keys::One(id.clone()));
                        let new = self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::update_owned(c, predicate, patch)))?;
                        self.after_write(Operation::Update, &before, &new)?;
                        new.into_iter().next().ok_or_else(|| self.not_found(&id))
                    })
                })?;
                let not_restored = unrecorded
                    .iter()
                    .filter(|c| !c.primary_key && !c.generated)
                    .copied()
                    .collect::<Vec<_>>();
                Ok(Restored {
                    row,
                    not_restored: names(&not_restored),
                })
            }
            Operation::SoftDelete => {
                let row = self.restore(M::key_from_json(&recorded()?)?)?;
                Ok(Restored {
                    row,
                    not_restored: Vec::new(),
                })
            }
            Operation::Restore => {
                let row = self.soft_delete(M::key_from_json(&recorded()?)?)?;
                Ok(Restored {
                    row,
                    not_restored: Vec::new(),
                })
            }
            Operation::Delete => {
                let required: Vec<&str> = unrecorded
                    .iter()
                    .filter(|c| !c.nullable)
                    .map(|c| c.column)
                    .collect();
                if !required.is_empty() {
                    return Err(Error::InvalidArgument(format!(
                        "audit row {audit_id} cannot bring back the deleted row: the audit log does not hold \
                         `{}`, which cannot be NULL",
                        required.join("`, `")
                    )));
                }
                let row = M::from_json(&complete_with_nulls::<M>(recorded()?))?;
                let id = row.id();
                let row = self.atomically(true, || {
                    self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::insert_row(c, row)))?;
                    let restored = self.load_keys(Scope::default(), Keys::One(id.clone()))?;
                    self.after_write(Operation::Insert, &[], &restored)?;
                    restored
                        .into_iter()
                        .next()
                        .ok_or_else(|| self.not_found(&id))
                })?;
                Ok(Restored {
                    row,
                    not_restored: names(&unrecorded),
                })
            }
        }
    }
}

/// The columns of `M` whose values audit rows do not hold, in field order.
fn unrecorded_columns<M: Model>() -> Vec<&'static crate::model::ColumnInfo> {
    let Some(audit) = M::BEHAVIOURS.audit else {
        return Vec::new();
    };
    M::COLUMNS
        .iter()
        .filter(|c| audit.redact.contains(&c.column) || audit.exclude.contains(&c.column))
        .collect()
}

/// `values` with an explicit NULL for every nullable column it lacks.
fn complete_with_nulls<M: Model>(mut values: JsonMap) -> JsonMap {
    for column in M::COLUMNS.iter().filter(|c| c.nullable) {
        values
            .entry(column.column.to_string())
            .or_insert(serde_json::Value::Null);
    }
    values
}
