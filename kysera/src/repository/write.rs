//! Writes: create, update, update_many, bulk_update (with timestamps, audit and plugins).

#[allow(unused_imports)]
use super::*;

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
            let chunk = self.chunk_rows(M::INSERT_BINDS, 0);
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
        let rows = self.update_keys(Keys::One(id), &[], patch, true)?;
        rows.into_iter().next().ok_or_else(|| self.not_found(&key))
    }

    /// Like [`Repo::update`], but leaves `updated_at` alone unless the patch sets it.
    pub fn update_without_timestamps<'a>(&self, id: M::Id, patch: &'a M::Update) -> Result<M>
    where
        M: Writable<'a>,
    {
        let key = id.clone();
        let rows = self.update_keys(Keys::One(id), &[], patch, false)?;
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
                rows.extend(self.update_keys(Keys::Many(chunk.to_vec()), &[], patch, true)?);
            }
            Ok(())
        })?;
        if chunks > 1 {
            crate::ops::sort_by_key_order(&mut rows);
        }
        Ok(rows)
    }

    pub(super) fn update_keys<'a>(
        &self,
        keys: Keys<M>,
        filters: &[Predicate],
        patch: &'a M::Update,
        auto: bool,
    ) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        patch.validate()?;
        let scope = self.scope_with(Deleted::Exclude);
        // The caller's own filters (a guard): a row they no longer match was not stale.
        let callers = filters;
        let guarded;
        let (filters, expected) = match M::VERSION {
            None => (filters, None),
            Some(column) => {
                let expected = self.expected_version(patch)?;
                let mut with_version = filters.to_vec();
                with_version.push(IntoPredicate::<M>::into_predicate(
                    crate::filter::Filter::eq(column, expected),
                )?);
                guarded = with_version;
                (&guarded[..], Some(expected))
            }
        };
        if patch.is_empty() {
            return self.checked_all(self.load_where(Where::new(scope, keys).filtered(filters))?);
        }
        clock::frozen(auto, |_| {
            let changed = self.before_write(Operation::Update, || vec![patch.to_json()])?;
            let statements = 1 + usize::from(self.captures_old_values());
            // A stale row among several rolls back the others.
            let many = expected.is_some() && matches!(keys, Keys::Many(_));
            self.atomically(self.needs_transaction(statements) || changed.is_some() || many, || {
                let predicate = || Where::new(scope.clone(), keys.clone()).filtered(filters);
                let old = if self.captures_old_values() { self.lock_where(predicate())? } else { Vec::new() };
                let predicate = predicate();
                let new = match &changed {
                    None => self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::update_where(c, predicate, patch)))?,
                    Some(values) => {
                        let owned = M::Update::from_json(&values[0])?;
                        owned.validate()?;
                        self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::update_owned(c, predicate, owned)))?
                    }
                };
                if let Some(expected) = expected {
                    self.check_stale(&scope, &keys, callers, &new, expected)?;
                }
                self.after_write(Operation::Update, &old, &new)?;
                Ok(new)
            })
        })
    }

    /// The version a patch of a `#[kysera(version)]` model was made from.
    fn expected_version(&self, patch: &M::Update) -> Result<i64> {
        patch.expected_version().ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{} is versioned: set `{}` in the patch to the version the change was made from",
                M::TABLE_NAME,
                M::VERSION.unwrap_or("version")
            ))
        })
    }

    /// [`Error::StaleVersion`] when a row the update addressed exists (in scope, matching the
    /// caller's own filters) but was not updated: its version moved on.
    fn check_stale(
        &self,
        scope: &Scope,
        keys: &Keys<M>,
        filters: &[Predicate],
        updated: &[M],
        expected: i64,
    ) -> Result<()> {
        let wanted: Vec<M::Id> = match keys {
            Keys::One(id) => vec![id.clone()],
            Keys::Many(ids) => ids.clone(),
            Keys::All | Keys::After(_) => return Ok(()),
        };
        let done: std::collections::HashSet<M::Id> = updated.iter().map(Model::id).collect();
        let missed: Vec<M::Id> = wanted.into_iter().filter(|id| !done.contains(id)).collect();
        if missed.is_empty() {
            return Ok(());
        }
        let still_matching = Where::new(scope.clone(), Keys::Many(missed)).filtered(filters);
        match self.load_where(still_matching)?.first() {
            None => Ok(()),
            Some(row) => Err(Error::StaleVersion {
                table: M::TABLE_NAME.to_string(),
                key: M::key_text(&row.id()),
                expected,
            }),
        }
    }

    /// Before a bulk update of a versioned model: every row still at the version its patch
    /// names (`old` holds the rows, locked).
    fn check_bulk_versions(&self, rows: &[(M::Id, M::Update)], old: &[M]) -> Result<()> {
        let Some(column) = M::VERSION else {
            return Ok(());
        };
        let current: std::collections::HashMap<M::Id, Option<i64>> = old
            .iter()
            .map(|row| {
                (
                    row.id(),
                    row.to_json()
                        .get(column)
                        .and_then(serde_json::Value::as_i64),
                )
            })
            .collect();
        for (id, patch) in rows {
            let expected = self.expected_version(patch)?;
            if let Some(at) = current.get(id) {
                if *at != Some(expected) {
                    return Err(Error::StaleVersion {
                        table: M::TABLE_NAME.to_string(),
                        key: M::key_text(id),
                        expected,
                    });
                }
            }
        }
        Ok(())
    }

    /// Applies a different patch to each row: one `UPDATE ... CASE` statement per chunk (plus
    /// one read-back on MySQL), all in one transaction. Returns the updated rows in input
    /// order, like [`Repo::create_many`]; keys with no row (or outside the scope) are skipped.
    pub fn bulk_update<'a>(&self, rows: &'a [(M::Id, M::Update)]) -> Result<Vec<M>>
    where
        M: Writable<'a>,
    {
        for (_, patch) in rows {
            patch.validate()?;
        }
        let ids: Vec<M::Id> = rows.iter().map(|(id, _)| id.clone()).collect();
        if rows.iter().all(|(_, patch)| patch.is_empty()) {
            let found = self.find_by_ids(&ids)?;
            return Ok(crate::ops::in_key_order(found, &ids));
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
        let scope = self.scope_with(Deleted::Exclude);
        // Each row binds its key in every CASE it appears in, plus the IN list; the statement
        // binds the scope's values and the managed timestamp once.
        let binds_per_row = 1 + 2 * M::COLUMNS.len();
        let chunk = self
            .chunk_rows(binds_per_row, scope.bind_count() + 1)
            .min(IDS_PER_STATEMENT);
        let captured = self.captures_old_values();
        let versioned = M::VERSION.is_some();
        let statements =
            rows.len().div_ceil(chunk) * (1 + usize::from(captured)) + usize::from(versioned);
        clock::frozen(true, |at| {
            let at = self.timestamps_column().map(|_| at);
            self.atomically(self.needs_transaction(statements), || {
                let old = if captured || versioned {
                    concat_chunks(ids.chunks(IDS_PER_STATEMENT), |part| {
                        self.lock_keys(scope.clone(), Keys::Many(part.to_vec()))
                    })?
                } else {
                    Vec::new()
                };
                self.check_bulk_versions(rows, &old)?;
                let parts = rows.chunks(chunk).filter(|part| !part.iter().all(|(_, patch)| patch.is_empty()));
                let updated = concat_chunks(parts, |part| {
                    let scope = &scope;
                    self.run(|c| dispatch!(c, c => <M as WriteOps<'a, _>>::bulk_update_chunk(c, part, scope, at)))
                })?;
                let updated = crate::ops::in_key_order(updated, &ids);
                self.after_write(Operation::Update, &old, &updated)?;
                Ok(updated)
            })
        })
    }
}
