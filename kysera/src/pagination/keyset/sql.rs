//! The keyset predicate and `ORDER BY` as Diesel expressions, on every backend.
//!
//! Both are built at run time from checked column names. Identifiers are qualified with the
//! model's table and quoted by Diesel; values are always bound, each with its column's SQL
//! type ([`KeyValue`]).

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::expression_types::NotSelectable;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;
use diesel::QueryResult;

use super::order::{Direction, Term};
use super::value::KeyValue;
use crate::model::Model;

mod sealed {
    pub trait Sealed {}
}

/// What the keyset SQL needs from a backend: how to bind each kind of value, whether
/// `NULLS FIRST`/`LAST` must be spelled out, and whether row-value comparisons use an index.
/// Implemented for the enabled backends only.
pub trait KeysetBackend: Backend + sealed::Sealed {
    /// True when `(a, b) > (?, ?)` is answered by an index range scan. PostgreSQL and
    /// SQLite do; MariaDB scans the index from its start and filters (see
    /// `docs/keyset-pagination.md`), so MySQL-family backends get the expanded form.
    const ROW_VALUES: bool;
    /// True when NULL placement must be written out: PostgreSQL sorts NULL as larger than
    /// every value, SQLite and MySQL as smaller, which is kysera's placement everywhere.
    const NULLS_CLAUSE: bool;
    /// Binds `value` with its kind's SQL type.
    fn push_key_value<'b>(value: &'b KeyValue, out: &mut AstPass<'_, 'b, Self>) -> QueryResult<()>;
}

macro_rules! keyset_backend {
    ($feature:literal, $db:ty, row_values: $row:expr, nulls_clause: $nulls:expr) => {
        #[cfg(feature = $feature)]
        impl sealed::Sealed for $db {}

        #[cfg(feature = $feature)]
        impl KeysetBackend for $db {
            const ROW_VALUES: bool = $row;
            const NULLS_CLAUSE: bool = $nulls;

            fn push_key_value<'b>(
                value: &'b KeyValue,
                out: &mut AstPass<'_, 'b, Self>,
            ) -> QueryResult<()> {
                use diesel::sql_types as st;
                match value {
                    KeyValue::Null => {
                        out.push_sql("NULL");
                        Ok(())
                    }
                    KeyValue::SmallInt(v) => out.push_bind_param::<st::SmallInt, i16>(v),
                    KeyValue::Integer(v) => out.push_bind_param::<st::Integer, i32>(v),
                    KeyValue::BigInt(v) => out.push_bind_param::<st::BigInt, i64>(v),
                    KeyValue::Float(v) => out.push_bind_param::<st::Float, f32>(v),
                    KeyValue::Double(v) => out.push_bind_param::<st::Double, f64>(v),
                    KeyValue::Bool(v) => out.push_bind_param::<st::Bool, bool>(v),
                    KeyValue::Text(v) => out.push_bind_param::<st::Text, String>(v),
                    KeyValue::Timestamp(v) => {
                        out.push_bind_param::<st::Timestamp, chrono::NaiveDateTime>(v)
                    }
                    KeyValue::Date(v) => out.push_bind_param::<st::Date, chrono::NaiveDate>(v),
                    KeyValue::Time(v) => out.push_bind_param::<st::Time, chrono::NaiveTime>(v),
                    KeyValue::Binary(v) => out.push_bind_param::<st::Binary, Vec<u8>>(v),
                    #[cfg(feature = "uuid")]
                    KeyValue::Uuid(v) => out
                        .push_bind_param::<crate::sql_types::Uuid, crate::sql_types::UuidValue>(v),
                }
            }
        }
    };
}

keyset_backend!("sqlite", diesel::sqlite::Sqlite, row_values: true, nulls_clause: false);
keyset_backend!("postgres", diesel::pg::Pg, row_values: true, nulls_clause: true);
keyset_backend!("mysql", diesel::mysql::Mysql, row_values: false, nulls_clause: false);

/// One order column as a query scans it: the direction is the requested one, reversed for
/// a page read backwards.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanTerm {
    pub term: Term,
    pub descending: bool,
}

/// `WHERE` part of a keyset page: the rows strictly after the position in scan order (or at
/// it, for the cursors of an empty page), or every row (`1=1`) for the first or last page.
///
/// NULL counts as smaller than every value. With `(c1, v1) … (cn, vn)` and every column
/// ascending, the expanded form is
/// `c1 >= v1 AND (c1 > v1 OR (c1 = v1 AND c2 > v2) OR …)`, where a NULL value turns
/// `c = v` into `c IS NULL` and `c > v` into `c IS NOT NULL`; descending columns use `<`
/// (and `OR c IS NULL` when nullable). When every direction agrees, no column is nullable
/// and the backend's index serves it, the row-value form `(c1, …, cn) > (v1, …, vn)` is used.
pub struct KeysetFilter<M: Model> {
    terms: Vec<ScanTerm>,
    position: Option<Vec<KeyValue>>,
    inclusive: bool,
    table: M::Table,
    model: PhantomData<fn() -> M>,
}

/// `ORDER BY` part of a keyset page: every order column in scan order, with
/// `NULLS FIRST`/`NULLS LAST` spelled out for nullable columns where the backend needs it.
pub struct KeysetOrder<M: Model> {
    terms: Vec<ScanTerm>,
    table: M::Table,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> KeysetFilter<M> {
    pub(crate) fn new(
        terms: Vec<ScanTerm>,
        position: Option<Vec<KeyValue>>,
        inclusive: bool,
    ) -> Self {
        KeysetFilter {
            terms,
            position,
            inclusive,
            table: M::Table::default(),
            model: PhantomData,
        }
    }
}

impl<M: Model> KeysetOrder<M> {
    pub(crate) fn new(terms: Vec<ScanTerm>) -> Self {
        KeysetOrder {
            terms,
            table: M::Table::default(),
            model: PhantomData,
        }
    }
}

impl<M: Model> Expression for KeysetFilter<M> {
    type SqlType = Bool;
}

impl<M: Model> Expression for KeysetOrder<M> {
    type SqlType = NotSelectable;
}

impl<M: Model> ValidGrouping<()> for KeysetFilter<M> {
    type IsAggregate = is_aggregate::No;
}

impl<M: Model> ValidGrouping<()> for KeysetOrder<M> {
    type IsAggregate = is_aggregate::No;
}

impl<M: Model, QS> AppearsOnTable<QS> for KeysetFilter<M> where M::PrimaryKey: AppearsOnTable<QS> {}

impl<M: Model, QS> AppearsOnTable<QS> for KeysetOrder<M> where M::PrimaryKey: AppearsOnTable<QS> {}

impl<M: Model> QueryId for KeysetFilter<M> {
    type QueryId = ();
    // Columns, directions and the presence of a position vary at run time.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<M: Model> QueryId for KeysetOrder<M> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<M, DB> QueryFragment<DB> for KeysetFilter<M>
where
    M: Model,
    DB: KeysetBackend,
    M::Table: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let Some(values) = &self.position else {
            out.push_sql("1=1");
            return Ok(());
        };
        if values.len() != self.terms.len() {
            // Plans check this when they decode a cursor; a mismatch here is a bug.
            return Err(diesel::result::Error::QueryBuilderError(
                "keyset position and ordering differ in length".into(),
            ));
        }
        let uniform = self
            .terms
            .iter()
            .all(|t| t.descending == self.terms[0].descending);
        let nullable = self.terms.iter().any(|t| t.term.nullable);
        if DB::ROW_VALUES && uniform && !nullable && self.terms.len() > 1 {
            self.walk_row_values(values, &mut out)
        } else {
            self.walk_expanded(values, &mut out)
        }
    }
}

impl<M> KeysetFilter<M>
where
    M: Model,
{
    fn column<'b, DB>(&'b self, term: &ScanTerm, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: KeysetBackend,
        M::Table: QueryFragment<DB>,
    {
        push_column(&self.table, term, out)
    }

    /// `(c1, …, cn) > (v1, …, vn)` (`<` when descending).
    fn walk_row_values<'b, DB>(
        &'b self,
        values: &'b [KeyValue],
        out: &mut AstPass<'_, 'b, DB>,
    ) -> QueryResult<()>
    where
        DB: KeysetBackend,
        M::Table: QueryFragment<DB>,
    {
        out.push_sql("(");
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            self.column(term, out)?;
        }
        out.push_sql(match (self.terms[0].descending, self.inclusive) {
            (false, false) => ") > (",
            (false, true) => ") >= (",
            (true, false) => ") < (",
            (true, true) => ") <= (",
        });
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            DB::push_key_value(value, out)?;
        }
        out.push_sql(")");
        Ok(())
    }

    /// `[lead AND] (after1 OR (eq1 AND after2) OR …)`.
    fn walk_expanded<'b, DB>(
        &'b self,
        values: &'b [KeyValue],
        out: &mut AstPass<'_, 'b, DB>,
    ) -> QueryResult<()>
    where
        DB: KeysetBackend,
        M::Table: QueryFragment<DB>,
    {
        out.push_sql("(");
        if self.terms.len() > 1 && self.walk_leading_bound(&self.terms[0], &values[0], out)? {
            out.push_sql(" AND ");
        }
        out.push_sql("(");
        let mut any = false;
        for (i, (term, value)) in self.terms.iter().zip(values).enumerate() {
            // Nothing sorts after NULL in a descending column: that branch matches no row.
            if term.descending && value.is_null() {
                continue;
            }
            if any {
                out.push_sql(" OR ");
            }
            any = true;
            out.push_sql("(");
            for (prefix, prefix_value) in self.terms[..i].iter().zip(values) {
                self.walk_equal(prefix, prefix_value, out)?;
                out.push_sql(" AND ");
            }
            self.walk_after(term, value, out)?;
            out.push_sql(")");
        }
        if self.inclusive {
            // The position's own row: every column equal.
            if any {
                out.push_sql(" OR ");
            }
            any = true;
            out.push_sql("(");
            for (i, (term, value)) in self.terms.iter().zip(values).enumerate() {
                if i > 0 {
                    out.push_sql(" AND ");
                }
                self.walk_equal(term, value, out)?;
            }
            out.push_sql(")");
        }
        if !any {
            out.push_sql("1=0");
        }
        out.push_sql("))");
        Ok(())
    }

    /// A bound on the first column alone, implied by the predicate, so that an index on
    /// `(c1, …)` is scanned as a range. Returns false when it wrote nothing (no such bound
    /// narrows the scan: a nullable descending column past a value).
    fn walk_leading_bound<'b, DB>(
        &'b self,
        term: &ScanTerm,
        value: &'b KeyValue,
        out: &mut AstPass<'_, 'b, DB>,
    ) -> QueryResult<bool>
    where
        DB: KeysetBackend,
        M::Table: QueryFragment<DB>,
    {
        match (term.descending, value.is_null()) {
            (false, false) => {
                self.column(term, out)?;
                out.push_sql(" >= ");
                DB::push_key_value(value, out)?;
            }
            (true, false) if !term.term.nullable => {
                self.column(term, out)?;
                out.push_sql(" <= ");
                DB::push_key_value(value, out)?;
            }
            (true, true) => {
                self.column(term, out)?;
                out.push_sql(" IS NULL");
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `c = v`, or `c IS NULL`.
    fn walk_equal<'b, DB>(
        &'b self,
        term: &ScanTerm,
        value: &'b KeyValue,
        out: &mut AstPass<'_, 'b, DB>,
    ) -> QueryResult<()>
    where
        DB: KeysetBackend,
        M::Table: QueryFragment<DB>,
    {
        self.column(term, out)?;
        if value.is_null() {
            out.push_sql(" IS NULL");
            Ok(())
        } else {
            out.push_sql(" = ");
            DB::push_key_value(value, out)
        }
    }

    /// The column sorts strictly after `v` in scan order, NULL being the smallest value.
    fn walk_after<'b, DB>(
        &'b self,
        term: &ScanTerm,
        value: &'b KeyValue,
        out: &mut AstPass<'_, 'b, DB>,
    ) -> QueryResult<()>
    where
        DB: KeysetBackend,
        M::Table: QueryFragment<DB>,
    {
        match (term.descending, value.is_null()) {
            (false, true) => {
                self.column(term, out)?;
                out.push_sql(" IS NOT NULL");
            }
            (false, false) => {
                self.column(term, out)?;
                out.push_sql(" > ");
                DB::push_key_value(value, out)?;
            }
            (true, false) if term.term.nullable => {
                out.push_sql("(");
                self.column(term, out)?;
                out.push_sql(" < ");
                DB::push_key_value(value, out)?;
                out.push_sql(" OR ");
                self.column(term, out)?;
                out.push_sql(" IS NULL)");
            }
            (true, false) => {
                self.column(term, out)?;
                out.push_sql(" < ");
                DB::push_key_value(value, out)?;
            }
            // Filtered out by the caller: no value sorts after NULL when descending.
            (true, true) => out.push_sql("1=0"),
        }
        Ok(())
    }
}

impl<M, DB> QueryFragment<DB> for KeysetOrder<M>
where
    M: Model,
    DB: KeysetBackend,
    M::Table: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            push_column(&self.table, term, &mut out)?;
            out.push_sql(if term.descending { " DESC" } else { " ASC" });
            if DB::NULLS_CLAUSE && term.term.nullable {
                out.push_sql(if term.descending {
                    " NULLS LAST"
                } else {
                    " NULLS FIRST"
                });
            }
        }
        Ok(())
    }
}

/// `<table>.<column>`, both quoted by Diesel.
fn push_column<'b, T, DB>(
    table: &'b T,
    term: &ScanTerm,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    T: QueryFragment<DB>,
    DB: Backend,
{
    table.walk_ast(out.reborrow())?;
    out.push_sql(".");
    out.push_identifier(term.term.column)
}

impl ScanTerm {
    /// `term` scanned forwards, or backwards when `reverse`.
    pub(crate) fn new(term: Term, reverse: bool) -> Self {
        let descending = term.direction == Direction::Desc;
        ScanTerm {
            term,
            descending: descending != reverse,
        }
    }
}
