//! Reading tables back for assertions: [`row_count`], and [`snapshot`] of a table's rows as
//! JSON in primary-key order.

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use serde_json::Value;

use super::schema::{Column, Schema, Table};
use super::source::ConnectionSource;
use super::sql::Statement;
use crate::error::{BackendKind, Error, Result};
use crate::executor::Conn;
use crate::json::JsonMap;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    j: String,
}

/// The number of rows in `table`.
///
/// An unknown table is an [`Error::InvalidArgument`] listing the tables that exist.
///
/// ```
/// # fn main() -> kysera::Result<()> {
/// let conn = kysera::Conn::establish("sqlite::memory:")?;
/// conn.batch_execute("CREATE TABLE tags (name TEXT PRIMARY KEY); INSERT INTO tags VALUES ('a'), ('b')")?;
/// assert_eq!(kysera::testing::row_count(&conn, "tags")?, 2);
/// kysera::assert_row_count!(conn, "tags", 2);
/// assert!(kysera::testing::row_count(&conn, "tag").is_err());
/// # Ok(()) }
/// ```
pub fn row_count<S: ConnectionSource + ?Sized>(source: &S, table: &str) -> Result<u64> {
    let conn = source.connection()?;
    let counted = Statement::new("SELECT COUNT(*) AS n FROM ")
        .identifier(table)
        .load::<Count>(&conn);
    match counted {
        Ok(rows) => Ok(rows
            .first()
            .map_or(0, |row| u64::try_from(row.n).unwrap_or(0))),
        // Say which tables exist rather than relay the backend's wording, when that is the cause.
        Err(err) => match Schema::introspect(&conn) {
            Ok(schema) if schema.table(table).is_none() => Err(schema.unknown_table(table)),
            _ => Err(err),
        },
    }
}

/// Every row of `table` as a JSON object `{column: value}`, ordered by primary key (by every
/// column when the table has none), in one JSON array: deterministic, so it can be compared
/// with `assert_eq!` against `serde_json::json!` or stored as a snapshot file.
///
/// Values are normalised across backends: booleans stored as 0/1 (MySQL `tinyint(1)`, SQLite
/// `BOOLEAN`) read as `true`/`false`, and date-times are written `YYYY-MM-DDTHH:MM:SS` like
/// kysera's JSON everywhere else. Leave out columns that change every run (generated
/// timestamps) with [`snapshot_columns`].
///
/// ```
/// use serde_json::json;
/// # fn main() -> kysera::Result<()> {
/// let conn = kysera::Conn::establish("sqlite::memory:")?;
/// conn.batch_execute("CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT, pinned BOOLEAN);
///                     INSERT INTO tags VALUES (2, 'b', 0), (1, 'a', 1)")?;
/// assert_eq!(
///     kysera::testing::snapshot(&conn, "tags")?,
///     json!([{"id": 1, "name": "a", "pinned": true}, {"id": 2, "name": "b", "pinned": false}])
/// );
/// # Ok(()) }
/// ```
pub fn snapshot<S: ConnectionSource + ?Sized>(source: &S, table: &str) -> Result<Value> {
    let conn = source.connection()?;
    let schema = Schema::introspect(&conn)?;
    let table = schema.require(table)?;
    let columns: Vec<&Column> = table.columns.iter().collect();
    read_rows(&conn, table, &columns)
}

/// Like [`snapshot`], with only `columns` in each object (still ordered by primary key).
///
/// A column the table does not have is an [`Error::InvalidArgument`].
pub fn snapshot_columns<S: ConnectionSource + ?Sized>(
    source: &S,
    table: &str,
    columns: &[&str],
) -> Result<Value> {
    let conn = source.connection()?;
    let schema = Schema::introspect(&conn)?;
    let table = schema.require(table)?;
    if columns.is_empty() {
        return Err(Error::InvalidArgument(
            "a snapshot needs at least one column".into(),
        ));
    }
    let columns = columns
        .iter()
        .map(|name| {
            table.column(name).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "table `{}` has no column `{name}` (columns: {})",
                    table.name,
                    column_list(table)
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    read_rows(&conn, table, &columns)
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Selects `columns` of `table` as one JSON text per row, built by the database.
fn read_rows(conn: &Conn, table: &Table, columns: &[&Column]) -> Result<Value> {
    let statement = match conn.backend() {
        BackendKind::Postgres => {
            // A lateral row of the chosen columns, so the ORDER BY can use the key even when
            // the snapshot leaves it out.
            let mut s = Statement::new("SELECT row_to_json(r)::text AS j FROM ")
                .identifier(&table.name)
                .sql(" s CROSS JOIN LATERAL (SELECT ");
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    s = s.sql(", ");
                }
                s = s.sql("s.").identifier(&column.name);
            }
            s.sql(") r")
        }
        backend => {
            let function = if backend == BackendKind::Mysql {
                "CAST(JSON_OBJECT("
            } else {
                "json_object("
            };
            let mut s = Statement::new("SELECT ").sql(function);
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    s = s.sql(", ");
                }
                s = s
                    .bind(column.name.as_str())
                    .sql(", ")
                    .identifier(&column.name);
            }
            let close = if backend == BackendKind::Mysql {
                ") AS CHAR)"
            } else {
                ")"
            };
            s.sql(close)
                .sql(" AS j FROM ")
                .identifier(&table.name)
                .sql(" s")
        }
    };
    let mut statement = statement.sql(" ORDER BY ");
    for (i, column) in table.order_columns().into_iter().enumerate() {
        if i > 0 {
            statement = statement.sql(", ");
        }
        statement = statement.sql("s.").identifier(&column.name);
    }
    let rows: Vec<JsonRow> = statement.load(conn)?;
    rows.into_iter()
        .map(|row| {
            let mut object: JsonMap = serde_json::from_str(&row.j).map_err(|e| {
                Error::Query(format!(
                    "snapshot of `{}`: the database returned a row that is not a JSON object: {e}",
                    table.name
                ))
            })?;
            for column in columns {
                if let Some(value) = object.get_mut(&column.name) {
                    normalise(column, value);
                }
            }
            Ok(Value::Object(object))
        })
        .collect::<Result<Vec<_>>>()
        .map(Value::Array)
}

/// Makes a value read the same on every backend (see [`snapshot`]).
fn normalise(column: &Column, value: &mut Value) {
    if column.is_boolean() {
        if let Some(n) = value.as_i64() {
            *value = Value::Bool(n != 0);
        }
    } else if column.is_datetime() {
        if let Value::String(text) = value {
            if text.len() > 10 && text.as_bytes()[10] == b' ' {
                text.replace_range(10..11, "T");
            }
        }
    }
}

/// Asserts that a table has the expected number of rows; panics with both counts (or the
/// error) otherwise. The source is anything [`row_count`](crate::testing::row_count)
/// accepts.
///
/// ```
/// # fn main() -> kysera::Result<()> {
/// let conn = kysera::Conn::establish("sqlite::memory:")?;
/// conn.batch_execute("CREATE TABLE tags (name TEXT PRIMARY KEY)")?;
/// kysera::assert_row_count!(conn, "tags", 0);
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! assert_row_count {
    ($source:expr, $table:expr, $expected:expr $(,)?) => {{
        let table: &str = $table;
        let expected: u64 = $expected;
        match $crate::testing::row_count(&$source, table) {
            Ok(actual) => assert_eq!(
                actual, expected,
                "table `{}` has {} rows, expected {}",
                table, actual, expected
            ),
            Err(err) => panic!("counting the rows of `{}` failed: {}", table, err),
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(data_type: &str) -> Column {
        Column {
            name: "c".into(),
            data_type: data_type.into(),
            key_position: 0,
        }
    }

    #[test]
    fn normalises_booleans_and_datetimes() {
        let mut flag = Value::from(1);
        normalise(&column("tinyint(1)"), &mut flag);
        assert_eq!(flag, Value::Bool(true));
        let mut count = Value::from(1);
        normalise(&column("integer"), &mut count);
        assert_eq!(count, Value::from(1));
        let mut at = Value::from("2024-01-02 03:04:05");
        normalise(&column("datetime"), &mut at);
        assert_eq!(at, Value::from("2024-01-02T03:04:05"));
        let mut text = Value::from("2024-01-02 03:04:05");
        normalise(&column("text"), &mut text);
        assert_eq!(text, Value::from("2024-01-02 03:04:05"));
    }
}
