//! A [`Filter`] checked against a model: every column is one of the model's, every value is
//! read with the column's type, and the SQL binds each value with that type.

use diesel::query_builder::{AstPass, QueryFragment};
use diesel::QueryResult;
use serde_json::Value;

use super::runtime::{Comparison, Filter, TextMatch};
use crate::error::{Error, Result};
use crate::model::{ColumnInfo, Model, SqlKind};
use crate::pagination::keyset::{KeyValue, KeysetBackend};

/// Values one `IN` list may hold: far below every backend's bind limit.
const MAX_IN_VALUES: usize = 10_000;

/// The escape character of `LIKE` patterns built from literal text: `!` needs no quoting in
/// any backend's string literal (a backslash does in MySQL's).
const ESCAPE: char = '!';

/// A filter whose columns and values fit the model.
#[derive(Debug, Clone)]
pub(crate) enum Checked {
    Compare(&'static ColumnInfo, Comparison, KeyValue),
    In(&'static ColumnInfo, Vec<KeyValue>, bool),
    /// Column, pattern (text), ignore case, escaped literal text.
    Like(&'static ColumnInfo, KeyValue, bool, bool),
    IsNull(&'static ColumnInfo, bool),
    Between(&'static ColumnInfo, KeyValue, KeyValue),
    And(Vec<Checked>),
    Or(Vec<Checked>),
    Not(Box<Checked>),
}

impl Checked {
    /// Checks `filter` against the columns of `M`.
    pub(crate) fn new<M: Model>(filter: &Filter) -> Result<Checked> {
        let column = |name: &str| column_of::<M>(name);
        Ok(match filter {
            Filter::Compare {
                column: name,
                op,
                value,
            } => {
                let c = column(name)?;
                Checked::Compare(c, *op, value_of(c, value)?)
            }
            Filter::In {
                column: name,
                values,
                negated,
            } => {
                let c = column(name)?;
                if values.len() > MAX_IN_VALUES {
                    return Err(Error::InvalidFilter(format!(
                        "`{name}`: an IN list takes at most {MAX_IN_VALUES} values, got {}",
                        values.len()
                    )));
                }
                let values = values
                    .iter()
                    .map(|v| value_of(c, v))
                    .collect::<Result<_>>()?;
                Checked::In(c, values, *negated)
            }
            Filter::Text {
                column: name,
                op,
                text,
            } => {
                let c = column(name)?;
                if c.kind != SqlKind::Text {
                    return Err(Error::InvalidFilter(format!(
                        "`{name}` is not a text column: it cannot be matched with {op:?}"
                    )));
                }
                let (pattern, ignore_case, escaped) = match op {
                    TextMatch::Like => (text.clone(), false, false),
                    TextMatch::ILike => (text.clone(), true, false),
                    TextMatch::Contains => (format!("%{}%", escape_like(text)), false, true),
                    TextMatch::StartsWith => (format!("{}%", escape_like(text)), false, true),
                    TextMatch::EndsWith => (format!("%{}", escape_like(text)), false, true),
                };
                Checked::Like(c, KeyValue::Text(pattern), ignore_case, escaped)
            }
            Filter::IsNull {
                column: name,
                negated,
            } => Checked::IsNull(column(name)?, *negated),
            Filter::Between {
                column: name,
                low,
                high,
            } => {
                let c = column(name)?;
                Checked::Between(c, value_of(c, low)?, value_of(c, high)?)
            }
            Filter::And(all) => {
                Checked::And(all.iter().map(Checked::new::<M>).collect::<Result<_>>()?)
            }
            Filter::Or(any) => {
                Checked::Or(any.iter().map(Checked::new::<M>).collect::<Result<_>>()?)
            }
            Filter::Not(inner) => Checked::Not(Box::new(Checked::new::<M>(inner)?)),
        })
    }
}

/// The model's column named `name`, or [`Error::UnknownColumn`] listing the valid ones.
pub(crate) fn column_of<M: Model>(name: &str) -> Result<&'static ColumnInfo> {
    crate::model::column::<M>(name).ok_or_else(|| Error::UnknownColumn {
        table: M::TABLE_NAME.to_string(),
        column: name.to_string(),
        valid: M::COLUMNS.iter().map(|c| c.column.to_string()).collect(),
    })
}

fn value_of(column: &ColumnInfo, value: &Value) -> Result<KeyValue> {
    KeyValue::from_row(column.kind, value).map_err(|e| {
        Error::InvalidFilter(format!(
            "`{}` ({:?} column): {e}",
            column.column, column.kind
        ))
    })
}

/// `text` with `LIKE`'s wildcards and the escape character escaped.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_') || ch == ESCAPE {
            out.push(ESCAPE);
        }
        out.push(ch);
    }
    out
}

impl<DB: KeysetBackend> QueryFragment<DB> for Checked {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        walk(self, &mut out)
    }
}

fn walk<'b, DB: KeysetBackend>(
    filter: &'b Checked,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()> {
    let ident = |c: &ColumnInfo, out: &mut AstPass<'_, 'b, DB>| out.push_identifier(c.column);
    match filter {
        Checked::Compare(c, op, value) => {
            let null = value.is_null();
            match (op, null) {
                (Comparison::Eq, true) => {
                    ident(c, out)?;
                    out.push_sql(" IS NULL");
                }
                (Comparison::Ne, true) => {
                    ident(c, out)?;
                    out.push_sql(" IS NOT NULL");
                }
                (_, true) => out.push_sql("1=0"),
                (Comparison::Ne, false) if c.nullable => {
                    out.push_sql("(");
                    ident(c, out)?;
                    out.push_sql(" <> ");
                    DB::push_key_value(value, out)?;
                    out.push_sql(" OR ");
                    ident(c, out)?;
                    out.push_sql(" IS NULL)");
                }
                (op, false) => {
                    ident(c, out)?;
                    out.push_sql(match op {
                        Comparison::Eq => " = ",
                        Comparison::Ne => " <> ",
                        Comparison::Gt => " > ",
                        Comparison::Gte => " >= ",
                        Comparison::Lt => " < ",
                        Comparison::Lte => " <= ",
                    });
                    DB::push_key_value(value, out)?;
                }
            }
        }
        Checked::In(c, values, negated) => {
            let has_null = values.iter().any(KeyValue::is_null);
            let present: Vec<&KeyValue> = values.iter().filter(|v| !v.is_null()).collect();
            out.push_sql("(");
            if present.is_empty() {
                out.push_sql(if *negated { "1=1" } else { "1=0" });
            } else {
                ident(c, out)?;
                out.push_sql(if *negated { " NOT IN (" } else { " IN (" });
                for (i, v) in present.into_iter().enumerate() {
                    if i > 0 {
                        out.push_sql(", ");
                    }
                    DB::push_key_value(v, out)?;
                }
                out.push_sql(")");
            }
            match (negated, has_null, c.nullable) {
                // `IN (..., NULL)` also takes the NULLs.
                (false, true, _) => {
                    out.push_sql(" OR ");
                    ident(c, out)?;
                    out.push_sql(" IS NULL");
                }
                // `NOT IN (...)` keeps NULLs unless NULL is in the list.
                (true, false, true) => {
                    out.push_sql(" OR ");
                    ident(c, out)?;
                    out.push_sql(" IS NULL");
                }
                (true, true, _) => {
                    out.push_sql(" AND ");
                    ident(c, out)?;
                    out.push_sql(" IS NOT NULL");
                }
                _ => {}
            }
            out.push_sql(")");
        }
        Checked::Like(c, pattern, ignore_case, escaped) => {
            if *ignore_case {
                out.push_sql("LOWER(");
                ident(c, out)?;
                out.push_sql(") LIKE LOWER(");
                DB::push_key_value(pattern, out)?;
                out.push_sql(")");
            } else {
                ident(c, out)?;
                out.push_sql(" LIKE ");
                DB::push_key_value(pattern, out)?;
            }
            if *escaped {
                out.push_sql(" ESCAPE '!'");
            }
        }
        Checked::IsNull(c, negated) => {
            ident(c, out)?;
            out.push_sql(if *negated { " IS NOT NULL" } else { " IS NULL" });
        }
        Checked::Between(c, low, high) => {
            ident(c, out)?;
            out.push_sql(" BETWEEN ");
            DB::push_key_value(low, out)?;
            out.push_sql(" AND ");
            DB::push_key_value(high, out)?;
        }
        Checked::And(all) => list(all, " AND ", "1=1", out)?,
        Checked::Or(any) => list(any, " OR ", "1=0", out)?,
        Checked::Not(inner) => {
            out.push_sql("NOT (");
            walk(inner, out)?;
            out.push_sql(")");
        }
    }
    Ok(())
}

fn list<'b, DB: KeysetBackend>(
    filters: &'b [Checked],
    joiner: &str,
    empty: &str,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()> {
    if filters.is_empty() {
        out.push_sql(empty);
        return Ok(());
    }
    out.push_sql("(");
    for (i, filter) in filters.iter().enumerate() {
        if i > 0 {
            out.push_sql(joiner);
        }
        walk(filter, out)?;
    }
    out.push_sql(")");
    Ok(())
}
