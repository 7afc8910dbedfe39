//! [`Redaction`]: which bind parameters a monitor records and which it hides.

use std::sync::Arc;

use super::bind_columns::bind_columns;
use super::event::REDACTED;

/// A bind parameter as the redaction predicate sees it.
#[derive(Debug, Clone, Copy)]
pub struct BindParam<'a> {
    /// Its position in the statement, from 0.
    pub index: usize,
    /// The column it is compared with, assigned to or inserted into, where the SQL shows one
    /// (see [`Redaction::hide_columns`]).
    pub column: Option<&'a str>,
    /// The value as Diesel formats it (`42`, `"ada"`, `None`).
    pub value: &'a str,
    /// The statement's SQL.
    pub sql: &'a str,
}

type Predicate = Arc<dyn Fn(&BindParam<'_>) -> bool + Send + Sync>;

/// Which bind parameters are hidden (replaced by [`REDACTED`](super::REDACTED)) before a
/// record is stored, written or passed on. The default shows every value.
///
/// Only bind parameters are redacted: values written into the SQL text itself (a
/// hand-written `batch_execute` with literals) are recorded as written, and so are the
/// database's error messages.
///
/// ```
/// use kysera::instrument::Redaction;
///
/// // Hide the password hash and any value that looks like an email address.
/// let policy = Redaction::default()
///     .hide_columns(["password_hash"])
///     .hide_when(|bind| bind.value.contains('@'));
/// # let _ = policy;
/// ```
#[derive(Clone, Default)]
pub struct Redaction {
    hide_all: bool,
    columns: Vec<String>,
    predicate: Option<Predicate>,
}

impl std::fmt::Debug for Redaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redaction")
            .field("hide_all", &self.hide_all)
            .field("columns", &self.columns)
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

impl Redaction {
    /// Every value recorded as is (the default).
    pub fn show_all() -> Self {
        Redaction::default()
    }

    /// Every value hidden; the number of binds stays visible.
    pub fn hide_all() -> Self {
        Redaction {
            hide_all: true,
            ..Redaction::default()
        }
    }

    /// Also hides the values bound to these columns (compared case-insensitively, without
    /// table or quotes): in `col = ?` and other comparisons, `col IN (...)`, `SET col = ?`
    /// (and `col = CASE ... THEN ? END`) and `INSERT INTO t (col, ...) VALUES (?, ...)`. A
    /// value the SQL does not tie to a column (a function argument, a hand-written fragment)
    /// is not covered: use [`Redaction::hide_when`] or [`Redaction::hide_all`] for those.
    pub fn hide_columns<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.columns
            .extend(columns.into_iter().map(|c| c.as_ref().to_ascii_lowercase()));
        self
    }

    /// Also hides every value for which `predicate` returns true.
    pub fn hide_when(
        mut self,
        predicate: impl Fn(&BindParam<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.predicate = Some(Arc::new(predicate));
        self
    }

    /// True when this policy can hide anything.
    pub fn hides_anything(&self) -> bool {
        self.hide_all || !self.columns.is_empty() || self.predicate.is_some()
    }

    /// Replaces the hidden values of `binds` (the binds of `sql`, in order).
    pub(crate) fn apply(&self, sql: &str, binds: &mut [String]) {
        if binds.is_empty() || !self.hides_anything() {
            return;
        }
        if self.hide_all {
            binds.iter_mut().for_each(hide);
            return;
        }
        let columns = bind_columns(sql);
        for (index, value) in binds.iter_mut().enumerate() {
            let column = columns.get(index).copied().flatten();
            let named =
                column.is_some_and(|c| self.columns.iter().any(|h| h.eq_ignore_ascii_case(c)));
            let matched = named
                || self.predicate.as_ref().is_some_and(|p| {
                    p(&BindParam {
                        index,
                        column,
                        value,
                        sql,
                    })
                });
            if matched {
                hide(value);
            }
        }
    }
}

fn hide(value: &mut String) {
    value.clear();
    value.push_str(REDACTED);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binds(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    const SQL: &str =
        r#"INSERT INTO "users" ("email", "password_hash", "age") VALUES ($1, $2, $3)"#;

    #[test]
    fn show_all_keeps_values() {
        let mut b = binds(&[r#""a@b""#, r#""h""#, "3"]);
        Redaction::show_all().apply(SQL, &mut b);
        assert_eq!(b, binds(&[r#""a@b""#, r#""h""#, "3"]));
    }

    #[test]
    fn hide_all_keeps_the_count() {
        let mut b = binds(&["1", "2", "3"]);
        Redaction::hide_all().apply(SQL, &mut b);
        assert_eq!(b, vec![REDACTED; 3]);
    }

    #[test]
    fn columns_and_predicate() {
        let mut b = binds(&[r#""a@b""#, r#""h""#, "3"]);
        Redaction::default()
            .hide_columns(["PASSWORD_HASH"])
            .apply(SQL, &mut b);
        assert_eq!(b, binds(&[r#""a@b""#, REDACTED, "3"]));
        let mut b = binds(&[r#""a@b""#, r#""h""#, "3"]);
        Redaction::default()
            .hide_when(|p| p.column == Some("age") || p.value.contains('@'))
            .apply(SQL, &mut b);
        assert_eq!(b, binds(&[REDACTED, r#""h""#, REDACTED]));
    }
}
