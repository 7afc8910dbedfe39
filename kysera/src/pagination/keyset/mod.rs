//! Keyset (cursor) pagination: pages that stay fast at any depth and stable while rows are
//! added, on every backend.
//!
//! A [`Keyset`] names the order columns (checked against the model, the primary key appended
//! as tie-breaker); a [`CursorRequest`] says which page; [`Repo::keyset_page`] reads it
//! within the repository's scope and [`Repo::keyset_page_of`] reads it from any Diesel query
//! of the table. Each page carries opaque cursors to its neighbours.
//!
//! ```
//! use kysera::prelude::*;
//! use kysera::pagination::{CursorRequest, Keyset};
//!
//! #[derive(Repository, Debug, Clone, PartialEq)]
//! #[kysera(table = "people")]
//! pub struct Person {
//!     #[kysera(primary_key, generated)]
//!     pub id: i64,
//!     pub name: String,
//!     pub age: Option<i32>,
//! }
//!
//! # fn main() -> kysera::Result<()> {
//! let conn = Conn::establish("sqlite::memory:")?;
//! conn.batch_execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER);
//!     CREATE INDEX people_age_id ON people (age, id);
//!     INSERT INTO people (name, age) VALUES ('a', 30), ('b', NULL), ('c', 20), ('d', 30), ('e', 40)")?;
//! let people = conn.repo::<Person>();
//! let oldest_first = Keyset::new().desc("age");
//!
//! let page = people.keyset_page(&oldest_first, &CursorRequest::first(2))?;
//! assert_eq!(page.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["e", "d"]);
//! let next = page.next_cursor.expect("more rows");
//!
//! // Ties on `age` are broken by `id`, descending like the last column; NULL comes last.
//! let page = people.keyset_page(&oldest_first, &CursorRequest::after(next, 2))?;
//! assert_eq!(page.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["a", "c"]);
//! let page = people.keyset_page(&oldest_first, &CursorRequest::after(page.next_cursor.unwrap(), 2))?;
//! assert_eq!(page.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["b"]);
//! assert!(!page.has_next && page.has_prev);
//!
//! // Back one page, and any Diesel query of the table.
//! let back = people.keyset_page(&oldest_first, &CursorRequest::before(page.prev_cursor.unwrap(), 2))?;
//! assert_eq!(back.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["a", "c"]);
//! let adults = people.query().filter(people::age.ge(21));
//! let page = people.keyset_page_of(adults, &Keyset::new().asc("name"), &CursorRequest::first(10))?;
//! assert_eq!(page.items.len(), 3);
//!
//! // A garbled cursor is a typed error.
//! assert!(matches!(
//!     people.keyset_page(&oldest_first, &CursorRequest::after("garbage", 2)),
//!     Err(kysera::Error::InvalidCursor { .. })
//! ));
//! # Ok(()) }
//! ```
//!
//! **NULL placement.** NULL sorts as smaller than every value on every backend: first in an
//! ascending column, last in a descending one. That is SQLite's and MySQL's own order;
//! on PostgreSQL kysera writes `NULLS FIRST` / `NULLS LAST` for nullable columns, so index
//! them the same way there (`CREATE INDEX ON t (col NULLS FIRST, id)` for `asc("col")`).
//!
//! **SQL.** When every direction agrees, no order column is nullable and the backend's index
//! serves it (SQLite, PostgreSQL), the predicate is a row-value comparison
//! `(a, id) > (?, ?)`; otherwise the expanded form
//! `a >= ? AND (a > ? OR (a = ? AND id > ?))`, led by a bound on the first column so that the
//! index is scanned as a range. Values are bound with each column's SQL type.
//!
//! **Cursors** are base64url (no padding) over a version byte, a small JSON payload (a
//! fingerprint of the table and ordering, the side, the position's values tagged by kind)
//! and a tag: HMAC-SHA256 under a [`CursorKey`] when the keyset is [`Keyset::signed`],
//! SHA-256 otherwise. A cursor that is garbled, truncated, altered, signed with another key or
//! made for another ordering is [`Error::InvalidCursor`](crate::Error::InvalidCursor) with
//! a [`CursorError`] saying why.
//!
//! See `docs/keyset-pagination.md` for the query plans on each backend.
//!
//! [`Repo::keyset_page`]: crate::Repo::keyset_page
//! [`Repo::keyset_page_of`]: crate::Repo::keyset_page_of

mod cursor;
mod order;
mod page;
mod sql;
mod value;

pub use cursor::{CursorError, CursorKey};
pub use order::{Direction, Keyset};
pub use page::{CursorPage, CursorRequest, KeysetPlan};
pub use sql::{KeysetBackend, KeysetFilter, KeysetOrder};
pub use value::KeyValue;
