//! A page request, the plan that reads it, and the page with its cursors.

use std::marker::PhantomData;

use serde::Serialize;
use serde_json::Value;

use super::cursor::{self, CursorError, CursorKey, Payload, Side};
use super::order::{Keyset, Ordering};
use super::sql::{KeysetFilter, KeysetOrder, ScanTerm};
use super::value::KeyValue;
use crate::error::{Error, Result};
use crate::json::JsonFields;
use crate::model::Model;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Start {
    First,
    Last,
    After(String),
    Before(String),
    Resume(String),
}

/// Which keyset page to read: the first or last `limit` rows, or `limit` rows after or
/// before a cursor from an earlier page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorRequest {
    start: Start,
    limit: u64,
}

impl CursorRequest {
    /// Largest page size accepted.
    pub const MAX_LIMIT: u64 = 10_000;

    /// The first `limit` rows.
    pub fn first(limit: u64) -> Self {
        CursorRequest {
            start: Start::First,
            limit,
        }
    }

    /// The last `limit` rows (walking backwards from the end).
    pub fn last(limit: u64) -> Self {
        CursorRequest {
            start: Start::Last,
            limit,
        }
    }

    /// The `limit` rows after a page: `cursor` is that page's
    /// [`next_cursor`](CursorPage::next_cursor).
    pub fn after(cursor: impl Into<String>, limit: u64) -> Self {
        CursorRequest {
            start: Start::After(cursor.into()),
            limit,
        }
    }

    /// The `limit` rows before a page: `cursor` is that page's
    /// [`prev_cursor`](CursorPage::prev_cursor).
    pub fn before(cursor: impl Into<String>, limit: u64) -> Self {
        CursorRequest {
            start: Start::Before(cursor.into()),
            limit,
        }
    }

    /// The page a cursor points to, whichever it is: for APIs that take one `cursor`
    /// parameter for both directions.
    pub fn resume(cursor: impl Into<String>, limit: u64) -> Self {
        CursorRequest {
            start: Start::Resume(cursor.into()),
            limit,
        }
    }

    /// Rows per page.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    fn checked_limit(&self) -> Result<u64> {
        if self.limit == 0 || self.limit > Self::MAX_LIMIT {
            return Err(Error::InvalidArgument(format!(
                "page limit must be between 1 and {}, got {}",
                Self::MAX_LIMIT,
                self.limit
            )));
        }
        Ok(self.limit)
    }
}

/// One keyset page: its rows and the cursors of the pages around it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CursorPage<T> {
    /// The rows, in the keyset's order (also when the page was read backwards).
    pub items: Vec<T>,
    /// Reads the following page with [`CursorRequest::after`]; `Some` exactly when
    /// `has_next`.
    pub next_cursor: Option<String>,
    /// Reads the preceding page with [`CursorRequest::before`]; `Some` exactly when
    /// `has_prev`.
    pub prev_cursor: Option<String>,
    /// True when rows follow this page. Read forwards, from one extra row; read backwards
    /// from a cursor, true (the cursor's page follows).
    pub has_next: bool,
    /// True when rows precede this page. Read backwards, from one extra row; read forwards
    /// from a cursor, true (the cursor's page precedes).
    pub has_prev: bool,
}

impl<T> CursorPage<T> {
    /// Converts the rows, keeping the cursors.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> CursorPage<U> {
        CursorPage {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            prev_cursor: self.prev_cursor,
            has_next: self.has_next,
            has_prev: self.has_prev,
        }
    }
}

/// A decoded cursor position.
#[derive(Debug, Clone, PartialEq)]
struct Position {
    values: Vec<KeyValue>,
    inclusive: bool,
}

/// One page request checked against model `M`: the predicate, order and limit to add to a
/// query, and the conversion of the rows it returns into a [`CursorPage`].
///
/// [`Repo::keyset_page`](crate::Repo::keyset_page) uses it; use it directly to page a query
/// on a Diesel connection of your own:
///
/// ```text
/// let plan = keyset.plan::<User>(&request)?;
/// let rows = users::table.filter(plan.filter()).order(plan.order()).limit(plan.fetch_limit()).load(&mut conn)?;
/// let page = plan.page(rows)?;
/// ```
pub struct KeysetPlan<M> {
    ordering: Ordering,
    key: Option<CursorKey>,
    scan: Vec<ScanTerm>,
    backward: bool,
    position: Option<Position>,
    limit: u64,
    model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for KeysetPlan<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeysetPlan")
            .field("model", &std::any::type_name::<M>())
            .field("ordering", &self.ordering)
            .field("backward", &self.backward)
            .field("position", &self.position)
            .field("limit", &self.limit)
            .finish()
    }
}

impl Keyset {
    /// Checks the ordering against `M` and decodes the request's cursor: every problem
    /// (unknown column, bad limit, invalid cursor) is reported here, before any query.
    pub fn plan<M: Model>(&self, request: &CursorRequest) -> Result<KeysetPlan<M>> {
        let limit = request.checked_limit()?;
        let ordering = self.resolve::<M>()?;
        let (backward, position) = match &request.start {
            Start::First => (false, None),
            Start::Last => (true, None),
            Start::After(token) => (
                false,
                Some(self.position(&ordering, token, Some(Side::After))?),
            ),
            Start::Before(token) => (
                true,
                Some(self.position(&ordering, token, Some(Side::Before))?),
            ),
            Start::Resume(token) => {
                let payload = self.read(&ordering, token, None)?;
                let backward = payload.side == Side::Before;
                (backward, Some(position(&ordering, &payload)?))
            }
        };
        let scan = ordering
            .terms
            .iter()
            .map(|t| ScanTerm::new(*t, backward))
            .collect();
        Ok(KeysetPlan {
            ordering,
            key: self.key().cloned(),
            scan,
            backward,
            position,
            limit,
            model: PhantomData,
        })
    }

    fn position(&self, ordering: &Ordering, token: &str, side: Option<Side>) -> Result<Position> {
        let payload = self.read(ordering, token, side)?;
        Ok(position(ordering, &payload)?)
    }

    /// Decodes a token and checks that it belongs to this ordering and side.
    fn read(&self, ordering: &Ordering, token: &str, side: Option<Side>) -> Result<Payload> {
        let payload = cursor::decode(token, self.key())?;
        if payload.ordering != ordering.fingerprint {
            return Err(CursorError::Ordering.into());
        }
        match (side, payload.side) {
            (Some(Side::After), Side::Before) => Err(CursorError::Direction {
                found: "previous",
                expected: "before",
            }
            .into()),
            (Some(Side::Before), Side::After) => Err(CursorError::Direction {
                found: "next",
                expected: "after",
            }
            .into()),
            _ => Ok(payload),
        }
    }
}

/// The payload's position, each value checked against its column.
fn position(ordering: &Ordering, payload: &Payload) -> Result<Position, CursorError> {
    if payload.values.len() != ordering.terms.len() {
        return Err(CursorError::Payload(format!(
            "{} values for {} order columns",
            payload.values.len(),
            ordering.terms.len()
        )));
    }
    let values = ordering
        .terms
        .iter()
        .zip(&payload.values)
        .map(|(term, value)| {
            KeyValue::from_tagged(term.kind, term.nullable, value).map_err(|reason| {
                CursorError::Value {
                    column: term.column.to_string(),
                    reason,
                }
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Position {
        values,
        inclusive: payload.inclusive,
    })
}

impl<M: Model> KeysetPlan<M> {
    /// The `WHERE` condition: rows past the cursor's position (`1=1` without a cursor).
    pub fn filter(&self) -> KeysetFilter<M> {
        let (values, inclusive) = match &self.position {
            Some(p) => (Some(p.values.clone()), p.inclusive),
            None => (None, false),
        };
        KeysetFilter::new(self.scan.clone(), values, inclusive)
    }

    /// The `ORDER BY` list, reversed when the page is read backwards.
    pub fn order(&self) -> KeysetOrder<M> {
        KeysetOrder::new(self.scan.clone())
    }

    /// The `LIMIT`: one row more than the page, to tell whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        // `checked_limit` keeps the limit far below i64::MAX.
        self.limit as i64 + 1
    }

    /// True when the page is read backwards (`last`, `before`).
    pub fn is_backward(&self) -> bool {
        self.backward
    }

    /// Turns the rows of the query (at most [`fetch_limit`](Self::fetch_limit), in the
    /// order of [`order`](Self::order)) into the page and its cursors.
    pub fn page(&self, mut rows: Vec<M>) -> Result<CursorPage<M>> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        if self.backward {
            rows.reverse();
        }
        let from_cursor = self.position.is_some();
        let (has_next, has_prev) = if self.backward {
            (from_cursor, more)
        } else {
            (more, from_cursor)
        };
        // An empty page read from a cursor still has a neighbour: the rows on the other side
        // of the cursor's position, that position's own row included.
        let next_cursor = match (has_next, rows.last()) {
            (false, _) => None,
            (true, Some(row)) => Some(self.cursor(Side::After, &self.row_position(row)?, false)?),
            (true, None) => self.position_cursor(Side::After)?,
        };
        let prev_cursor = match (has_prev, rows.first()) {
            (false, _) => None,
            (true, Some(row)) => {
                Some(self.cursor(Side::Before, &self.row_position(row)?, false)?)
            }
            (true, None) => self.position_cursor(Side::Before)?,
        };
        Ok(CursorPage {
            items: rows,
            next_cursor,
            prev_cursor,
            has_next,
            has_prev,
        })
    }

    fn position_cursor(&self, side: Side) -> Result<Option<String>> {
        self.position
            .as_ref()
            .map(|p| self.cursor(side, &p.values, true))
            .transpose()
    }

    fn row_position(&self, row: &M) -> Result<Vec<KeyValue>> {
        let json = JsonFields::to_json(row);
        self.ordering
            .terms
            .iter()
            .map(|term| {
                let value = json.get(term.column).unwrap_or(&Value::Null);
                let value = KeyValue::from_row(term.kind, value)
                    .map_err(|e| Error::Query(format!("order column `{}`: {e}", term.column)))?;
                if value.is_null() && !term.nullable {
                    // `to_json` writes NaN and infinities as null: no cursor can hold them.
                    return Err(Error::Query(format!(
                        "order column `{}` of `{}` holds a value a cursor cannot record (NaN or infinity)",
                        term.column,
                        M::TABLE_NAME
                    )));
                }
                Ok(value)
            })
            .collect()
    }

    fn cursor(&self, side: Side, values: &[KeyValue], inclusive: bool) -> Result<String> {
        let payload = Payload {
            ordering: self.ordering.fingerprint.clone(),
            side,
            values: values.iter().map(KeyValue::to_tagged).collect(),
            inclusive,
        };
        cursor::encode(&payload, self.key.as_ref())
    }
}
