//! The audit trail of a model: history, one entry, and undoing a change.

#[allow(unused_imports)]
use super::*;

impl<'c, M: Supported> Repo<'c, M> {
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
}
