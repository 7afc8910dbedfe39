//! The ordering of a keyset: columns named at run time, checked against the model.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cursor::CursorKey;
use super::value;
use crate::error::{Error, Result};
use crate::model::{Model, SqlKind};

/// The direction of one order column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smallest first (NULL before every value).
    Asc,
    /// Largest first (NULL after every value).
    Desc,
}

/// How to order the rows a keyset pages through: one or more columns, each ascending or
/// descending, plus the key to make the order total.
///
/// Columns are named by their database names and checked against the model's columns when a
/// page is read ([`Keyset::plan`]). When the primary key is not among them it is appended,
/// in the direction of the last column, so that the order is unique and a two-column index
/// `(col, id)` serves it in either direction.
///
/// ```
/// use kysera::pagination::{CursorKey, Keyset};
///
/// let newest_first = Keyset::new().desc("created_at").asc("email");
/// let signed = Keyset::new().asc("name").signed(CursorKey::new(b"a secret of 16+ bytes")?);
/// # Ok::<(), kysera::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Keyset {
    columns: Vec<(String, Direction)>,
    key: Option<CursorKey>,
}

impl Keyset {
    /// An empty ordering: by primary key, ascending, until columns are added.
    pub fn new() -> Self {
        Keyset::default()
    }

    /// Adds `column`, smallest first.
    pub fn asc(self, column: impl Into<String>) -> Self {
        self.by(column, Direction::Asc)
    }

    /// Adds `column`, largest first.
    pub fn desc(self, column: impl Into<String>) -> Self {
        self.by(column, Direction::Desc)
    }

    /// Adds `column` in `direction`.
    pub fn by(mut self, column: impl Into<String>, direction: Direction) -> Self {
        self.columns.push((column.into(), direction));
        self
    }

    /// Signs cursors with `key` (HMAC-SHA256) instead of checksumming them, so that clients
    /// cannot forge a position. Cursors made without the key are then refused.
    pub fn signed(mut self, key: CursorKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The columns as given, before the key is appended.
    pub fn columns(&self) -> impl Iterator<Item = (&str, Direction)> {
        self.columns.iter().map(|(c, d)| (c.as_str(), *d))
    }

    pub(crate) fn key(&self) -> Option<&CursorKey> {
        self.key.as_ref()
    }

    /// Checks the columns against `M` and appends the key when missing.
    pub(crate) fn resolve<M: Model>(&self) -> Result<Ordering> {
        let mut terms: Vec<Term> = Vec::with_capacity(self.columns.len() + 1);
        for (name, direction) in &self.columns {
            let info = M::COLUMNS
                .iter()
                .find(|c| c.column == name.as_str())
                .ok_or_else(|| unknown_column::<M>(name))?;
            if terms.iter().any(|t| t.column == info.column) {
                return Err(Error::InvalidArgument(format!(
                    "order column `{name}` appears twice in the keyset of `{}`",
                    M::TABLE_NAME
                )));
            }
            terms.push(Term::new(info.column, info.nullable, info.kind, *direction));
        }
        if !terms.iter().any(|t| t.column == M::PRIMARY_KEY) {
            let key = M::COLUMNS
                .iter()
                .find(|c| c.primary_key)
                .ok_or_else(|| unknown_column::<M>(M::PRIMARY_KEY))?;
            let direction = terms.last().map_or(Direction::Asc, |t| t.direction);
            terms.push(Term::new(key.column, key.nullable, key.kind, direction));
        }
        for term in &terms {
            if value::tag(term.kind).is_none() {
                return Err(Error::InvalidArgument(format!(
                    "column `{}` of `{}` holds {:?} values, which a keyset cannot order by; \
                     order by integer, float, text, boolean, date/time or binary columns",
                    term.column,
                    M::TABLE_NAME,
                    term.kind
                )));
            }
        }
        let fingerprint = fingerprint(M::TABLE_NAME, &terms);
        Ok(Ordering { terms, fingerprint })
    }
}

fn unknown_column<M: Model>(name: &str) -> Error {
    let valid: Vec<&str> = M::COLUMNS.iter().map(|c| c.column).collect();
    Error::InvalidArgument(format!(
        "unknown order column `{name}` for `{}`; valid columns: {}",
        M::TABLE_NAME,
        valid.join(", ")
    ))
}

/// One resolved order column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Term {
    /// Column name in the database.
    pub column: &'static str,
    /// True for a nullable column.
    pub nullable: bool,
    /// Kind of its values.
    pub kind: SqlKind,
    /// Direction in the ordering as requested.
    pub direction: Direction,
}

impl Term {
    fn new(column: &'static str, nullable: bool, kind: SqlKind, direction: Direction) -> Self {
        Term {
            column,
            nullable,
            kind,
            direction,
        }
    }
}

/// A checked ordering, the key included, with its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ordering {
    /// The columns, the key last (or where the caller put it).
    pub terms: Vec<Term>,
    /// Identifies table and ordering in cursors.
    pub fingerprint: String,
}

/// 96 bits of SHA-256 over the table, the columns, their directions and kinds: a cursor made
/// for another table, ordering or column type does not match.
fn fingerprint(table: &str, terms: &[Term]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"kysera-keyset\0");
    hash.update(table.as_bytes());
    for term in terms {
        hash.update(b"\0");
        hash.update(term.column.as_bytes());
        hash.update(match term.direction {
            Direction::Asc => b"\0a",
            Direction::Desc => b"\0d",
        });
        hash.update(value::tag(term.kind).unwrap_or("?").as_bytes());
    }
    URL_SAFE_NO_PAD.encode(&hash.finalize()[..12])
}
