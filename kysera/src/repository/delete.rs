//! Deletes: hard and soft deletes, restores, and `touch`.

#[allow(unused_imports)]
use super::*;

impl<'c, M: Supported> Repo<'c, M> {
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
                        self.lock_keys(scope.clone(), Keys::Many(chunk.to_vec()))?
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

    /// Removes the rows matching `filters` within the scope for good (audited and seen by
    /// plugins like [`Repo::hard_delete_many`]); returns how many were deleted.
    pub(super) fn hard_delete_matching<'a>(&self, filters: &[Predicate]) -> Result<u64>
    where
        M: Writable<'a>,
    {
        let scope = self.scope_with(Deleted::Include);
        self.before_write(Operation::Delete, Vec::new)?;
        let audited = M::BEHAVIOURS.audit.is_some() || self.has_plugins();
        let predicate = || Where::new(scope.clone(), Keys::All).filtered(filters);
        self.atomically(self.needs_transaction(1 + usize::from(audited)), || {
            let old = if audited {
                self.lock_where(predicate())?
            } else {
                Vec::new()
            };
            let predicate = predicate();
            let deleted =
                self.run(|c| dispatch!(c, c => <M as ReadOps<_>>::delete_where(c, predicate)))?;
            self.after_write(Operation::Delete, &old, &[])?;
            Ok(deleted as u64)
        })
    }

    /// Marks the row with key `id` deleted (`#[soft_delete]` models); returns it as stored, or
    /// [`Error::NotFound`] when it is missing or already deleted.
    pub fn soft_delete<'a>(&self, id: M::Id) -> Result<M>
    where
        M: Writable<'a>,
    {
        let key = id.clone();
        self.set_deleted(Operation::SoftDelete, Keys::One(id), &[])?
            .into_iter()
            .next()
            .ok_or_else(|| self.not_found(&key))
    }

    /// Marks the rows with keys in `ids` deleted in one transaction; returns the rows it
    /// changed, ordered by key.
    pub fn soft_delete_many<'a>(&self, ids: &[M::Id]) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        self.set_deleted(Operation::SoftDelete, Keys::Many(ids.to_vec()), &[])
    }

    /// Brings back the soft-deleted row with key `id`; [`Error::NotFound`] when it is missing
    /// or not deleted.
    pub fn restore<'a>(&self, id: M::Id) -> Result<M>
    where
        M: Writable<'a>,
    {
        let key = id.clone();
        self.set_deleted(Operation::Restore, Keys::One(id), &[])?
            .into_iter()
            .next()
            .ok_or_else(|| self.not_found(&key))
    }

    /// Brings back the soft-deleted rows with keys in `ids` in one transaction; returns the
    /// rows it changed, ordered by key.
    pub fn restore_many<'a>(&self, ids: &[M::Id]) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        self.set_deleted(Operation::Restore, Keys::Many(ids.to_vec()), &[])
    }

    pub(super) fn set_deleted<'a>(
        &self,
        operation: Operation,
        keys: Keys<M>,
        filters: &[Predicate],
    ) -> Result<Vec<M>>
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
            let chunks = Self::key_chunks(keys);
            let statements = chunks.len() * (1 + usize::from(captured));
            let several = chunks.len() > 1;
            self.atomically(self.needs_transaction(statements), || {
                let mut changed = concat_chunks(chunks.into_iter(), |keys| {
                    let predicate = || Where::new(scope.clone(), keys.clone()).filtered(filters);
                    let old = if captured { self.lock_where(predicate())? } else { Vec::new() };
                    let predicate = predicate();
                    let assignments = assignments.clone();
                    let new = self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::set_where(c, assignments, predicate)))?;
                    self.after_write(operation, &old, &new)?;
                    Ok(new)
                })?;
                if several {
                    crate::ops::sort_by_key_order(&mut changed);
                }
                Ok(changed)
            })
        })
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
