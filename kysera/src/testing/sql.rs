//! [`Statement`]: SQL assembled at run time from fixed text, quoted identifiers and bound
//! scalars, for the helpers that work on tables named by strings (cleaning, fixtures,
//! snapshots).
//!
//! Identifiers go through Diesel's `push_identifier`, so each backend quotes them its own way;
//! values are always bind parameters.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Double, HasSqlType, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

use crate::error::{BackendKind, Error, Result};
use crate::executor::Conn;
use crate::query::Loadable;
use crate::scope::{push_value, ScopeValue};

#[derive(Debug, Clone)]
enum Piece {
    Sql(String),
    Identifier(String),
    Bind(ScopeValue),
}

/// A statement built piece by piece; run it with [`Statement::execute`] or
/// [`Statement::load`] (rows read by name, like `diesel::sql_query`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Statement {
    pieces: Vec<Piece>,
}

impl Statement {
    /// A statement starting with `sql`.
    pub(crate) fn new(sql: &str) -> Self {
        Statement::default().sql(sql)
    }

    /// Appends SQL text (never user input).
    pub(crate) fn sql(mut self, sql: &str) -> Self {
        self.pieces.push(Piece::Sql(sql.to_string()));
        self
    }

    /// Appends a quoted identifier.
    pub(crate) fn identifier(mut self, name: &str) -> Self {
        self.pieces.push(Piece::Identifier(name.to_string()));
        self
    }

    /// Appends `a, b, c` with each name quoted.
    pub(crate) fn identifiers<'n>(mut self, names: impl IntoIterator<Item = &'n str>) -> Self {
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                self = self.sql(", ");
            }
            self = self.identifier(name);
        }
        self
    }

    /// Appends a bind parameter (`NULL` for [`ScopeValue::Null`]).
    pub(crate) fn bind(mut self, value: impl Into<ScopeValue>) -> Self {
        self.pieces.push(Piece::Bind(value.into()));
        self
    }

    /// Runs the statement; the number of rows it affected.
    pub(crate) fn execute(self, conn: &Conn) -> Result<usize> {
        conn.execute(self)
    }

    /// Runs the statement and reads each row by column name.
    pub(crate) fn load<U>(self, conn: &Conn) -> Result<Vec<U>>
    where
        Self: Loadable<'static, U>,
    {
        conn.load(self)
    }

    /// The SQL text for `backend`, for statements without binds that must run through the
    /// simple protocol (`CREATE DATABASE`, `TRUNCATE` on MySQL).
    pub(crate) fn render(&self, backend: BackendKind) -> Result<String> {
        if self.pieces.iter().any(|p| matches!(p, Piece::Bind(_))) {
            return Err(Error::Query(
                "a statement with bind parameters cannot be rendered as text".into(),
            ));
        }
        fn to_sql<DB>(statement: &Statement, backend: DB) -> QueryResult<String>
        where
            DB: Backend,
            DB::QueryBuilder: Default,
            Statement: QueryFragment<DB>,
        {
            use diesel::query_builder::QueryBuilder;
            let mut out = DB::QueryBuilder::default();
            statement.to_sql(&mut out, &backend)?;
            Ok(out.finish())
        }
        let rendered = match backend {
            #[cfg(feature = "sqlite")]
            BackendKind::Sqlite => to_sql(self, diesel::sqlite::Sqlite),
            #[cfg(feature = "postgres")]
            BackendKind::Postgres => to_sql(self, diesel::pg::Pg),
            #[cfg(feature = "mysql")]
            BackendKind::Mysql => to_sql(self, diesel::mysql::Mysql),
            #[allow(unreachable_patterns)]
            other => return Err(Error::Query(format!("the {other} backend is not enabled"))),
        };
        rendered.map_err(Error::from)
    }
}

impl<DB> QueryFragment<DB> for Statement
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Double> + HasSqlType<Text> + HasSqlType<Bool>,
    i64: ToSql<BigInt, DB>,
    f64: ToSql<Double, DB>,
    String: ToSql<Text, DB>,
    bool: ToSql<Bool, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for piece in &self.pieces {
            match piece {
                Piece::Sql(sql) => out.push_sql(sql),
                Piece::Identifier(name) => out.push_identifier(name)?,
                Piece::Bind(value) => push_value(value, &mut out)?,
            }
        }
        Ok(())
    }
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement {
    type SqlType = Untyped;
}

impl<C> RunQueryDsl<C> for Statement {}

#[cfg(all(test, feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_per_backend() {
        let statement = Statement::new("DELETE FROM ").identifier("we\"ird`name");
        assert_eq!(
            statement.render(BackendKind::Postgres).unwrap(),
            "DELETE FROM \"we\"\"ird`name\""
        );
        assert_eq!(
            statement.render(BackendKind::Mysql).unwrap(),
            "DELETE FROM `we\"ird``name`"
        );
        assert_eq!(
            statement.render(BackendKind::Sqlite).unwrap(),
            "DELETE FROM `we\"ird``name`"
        );
    }

    #[test]
    fn refuses_to_render_binds() {
        let statement = Statement::new("SELECT ").bind(1i64);
        assert!(matches!(
            statement.render(BackendKind::Sqlite),
            Err(Error::Query(_))
        ));
    }
}
