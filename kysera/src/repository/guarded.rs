//! Guarded updates: compare-and-swap in one `UPDATE ... WHERE key = ? AND <guard>`.

use serde_json::Value;

#[allow(unused_imports)]
use super::*;
use crate::filter::Filter;

impl<'c, M: Supported> Repo<'c, M> {
    /// Applies `patch` to the row with key `id` only if it also matches `guard`, in one
    /// `UPDATE ... WHERE key = ? AND <guard>`: the stored row, or `None` when the guard did
    /// not hold (or there is no such row in scope). No read comes first, so no other
    /// transaction can slip in between the check and the write.
    ///
    /// ```
    /// # use kysera::prelude::*;
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "seats")]
    /// # pub struct Seat { #[kysera(primary_key, generated)] pub id: i64, pub holder: Option<String> }
    /// use diesel::prelude::*;
    /// # fn main() -> kysera::Result<()> {
    /// # let conn = kysera::Conn::establish("sqlite::memory:")?;
    /// # conn.batch_execute("CREATE TABLE seats (id INTEGER PRIMARY KEY, holder TEXT); INSERT INTO seats (holder) VALUES (NULL)")?;
    /// let seats = conn.repo::<Seat>();
    /// let take = |who: &str| SeatUpdate { holder: Some(Some(who.into())) };
    /// assert!(seats.update_if(1, seats::holder.is_null(), &take("ada"))?.is_some());
    /// assert!(seats.update_if(1, seats::holder.is_null(), &take("bo"))?.is_none()); // taken
    /// # Ok(()) }
    /// ```
    pub fn update_if<'a>(
        &self,
        id: M::Id,
        guard: impl IntoPredicate<M>,
        patch: &'a M::Update,
    ) -> Result<Option<M>>
    where
        M: Writable<'a>,
    {
        let guard = [guard.into_predicate()?];
        let rows = self.update_keys(Keys::One(id), &guard, patch, true)?;
        Ok(rows.into_iter().next())
    }

    /// Moves the row with key `id` from state `from` to state `to` of `column` (an
    /// `UPDATE ... SET column = to WHERE key = ? AND column = from`), applying `extra` in the
    /// same statement: the stored row, or `None` when the row was not in state `from` (or
    /// does not exist in scope). A status machine's step that two workers can race on: one
    /// wins, the other gets `None`.
    ///
    /// `column` is checked against the model ([`Error::UnknownColumn`]) and must be one an
    /// update may change; `from` and `to` are read with the column's type, as a run-time
    /// [`Filter`] value is ([`Error::InvalidFilter`] for text given to an integer column).
    /// Validated, timestamped, audited and seen by plugins as any update.
    ///
    /// ```
    /// # use kysera::prelude::*;
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "orders")]
    /// # pub struct Order { #[kysera(primary_key, generated)] pub id: i64, pub status: String, pub note: Option<String> }
    /// # fn main() -> kysera::Result<()> {
    /// # let conn = kysera::Conn::establish("sqlite::memory:")?;
    /// # conn.batch_execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT NOT NULL, note TEXT); INSERT INTO orders (status) VALUES ('pending')")?;
    /// let orders = conn.repo::<Order>();
    /// let note = OrderUpdate { note: Some(Some("paid by card".into())), ..Default::default() };
    /// let paid = orders.transition(1, "status", "pending", "paid", &note)?;
    /// assert_eq!(paid.map(|o| o.status), Some("paid".to_string()));
    /// assert!(orders.transition(1, "status", "pending", "paid", &note)?.is_none()); // already paid
    /// # Ok(()) }
    /// ```
    pub fn transition(
        &self,
        id: M::Id,
        column: &str,
        from: impl Into<Value>,
        to: impl Into<Value>,
        extra: &M::Update,
    ) -> Result<Option<M>>
    where
        M: for<'a> Writable<'a>,
    {
        let info = crate::filter::column_of::<M>(column)?;
        if !info.updatable {
            return Err(Error::InvalidArgument(format!(
                "transition: column `{column}` of {} is not one an update may change",
                M::TABLE_NAME
            )));
        }
        let (from, to) = (from.into(), to.into());
        if to.is_null() && !info.nullable {
            return Err(Error::InvalidFilter(format!(
                "transition: `{column}` of {} is NOT NULL, so it cannot become null",
                M::TABLE_NAME
            )));
        }
        let guard = IntoPredicate::<M>::into_predicate(Filter::eq(column, from))?;
        // The target value is checked like a filter value, so a wrong type is a typed error
        // before it reaches the Update struct.
        IntoPredicate::<M>::into_predicate(Filter::eq(column, to.clone()))?;
        let mut values = extra.to_json();
        values.insert(info.column.to_string(), to);
        let patch = M::Update::from_json(&values)?;
        let rows = self.update_keys(Keys::One(id), &[guard], &patch, true)?;
        Ok(rows.into_iter().next())
    }
}
