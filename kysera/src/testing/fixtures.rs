//! Seeding tables from JSON fixture files: [`load_fixtures`].

use std::fmt;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::schema::{Column, Schema, Table};
use super::source::ConnectionSource;
use super::sql::Statement;
use crate::datetime::Temporal;
use crate::error::{BackendKind, Error, Result};
use crate::executor::Conn;
use crate::json::JsonMap;
use crate::scope::ScopeValue;

/// Bind parameters per INSERT: under SQLite's historical limit of 999.
const BINDS_PER_STATEMENT: usize = 900;

/// Rows inserted per table, in the order of the fixture.
pub type Loaded = Vec<(String, usize)>;

/// Inserts the rows of a JSON fixture file, all in one transaction (a savepoint inside an open
/// transaction).
///
/// The file maps table names to arrays of rows, each row an object of column values:
///
/// ```json
/// { "users": [ { "id": 1, "email": "ada@example.com", "name": "Ada" } ],
///   "posts": [ { "id": 1, "author_id": 1, "title": "Hello", "published": true } ] }
/// ```
///
/// Tables are filled in the order they appear in the file (parents before children), rows in
/// array order. Every value is a bind parameter: strings, integers, floats, booleans and
/// `null`; an array or object is stored as its JSON text (for JSON columns). Text for a
/// date, time or date-time column is read in ISO 8601 forms (`T` or space, fractional
/// seconds, `Z` or an offset, converted to UTC) and written the way repositories write it, so
/// fixture rows and repository rows compare correctly (on SQLite, which compares text). On PostgreSQL a
/// string is cast to the column's type, so dates, times and UUIDs can be written as text, and
/// the sequence of an integer column given explicit values is moved past the largest one, so
/// later inserts that let the database pick the key do not collide.
///
/// Every table and column is checked against the database's schema before anything is written.
/// Malformed JSON, an unknown table or column, or a failing insert is an [`Error::Fixture`]
/// naming the file and the table (and column) concerned, and nothing from the file stays
/// written.
pub fn load_fixtures<S: ConnectionSource + ?Sized>(
    source: &S,
    path: impl AsRef<Path>,
) -> Result<Loaded> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Fixture {
        file: file.clone(),
        table: None,
        column: None,
        message: format!("cannot read the file: {e}"),
    })?;
    load_fixtures_str(source, &file, &text)
}

/// Like [`load_fixtures`], from JSON text; `label` stands for the file name in errors.
///
/// ```
/// use kysera::testing::{load_fixtures_str, snapshot};
/// use serde_json::json;
/// # fn main() -> kysera::Result<()> {
/// let conn = kysera::Conn::establish("sqlite::memory:")?;
/// conn.batch_execute("CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")?;
/// let loaded = load_fixtures_str(&conn, "tags.json", r#"{"tags": [{"id": 1, "name": "rust"}]}"#)?;
/// assert_eq!(loaded, vec![("tags".to_string(), 1)]);
/// assert_eq!(snapshot(&conn, "tags")?, json!([{"id": 1, "name": "rust"}]));
///
/// let err = load_fixtures_str(&conn, "bad.json", r#"{"tags": [{"id": 2, "colour": "red"}]}"#).unwrap_err();
/// assert!(matches!(&err, kysera::Error::Fixture { column: Some(c), .. } if c == "colour"), "{err}");
/// # Ok(()) }
/// ```
pub fn load_fixtures_str<S: ConnectionSource + ?Sized>(
    source: &S,
    label: &str,
    json: &str,
) -> Result<Loaded> {
    let fail = |table: Option<&str>, column: Option<&str>, message: String| Error::Fixture {
        file: label.to_string(),
        table: table.map(str::to_string),
        column: column.map(str::to_string),
        message,
    };
    let OrderedTables(entries) = serde_json::from_str(json)
        .map_err(|e| fail(None, None, format!("not a valid fixture: {e}")))?;
    let conn = source.connection()?;
    let schema = Schema::introspect(&conn)?;
    let plans = entries
        .iter()
        .map(|(table, rows)| plan_table(&schema, table, rows, conn.backend()))
        .collect::<std::result::Result<Vec<_>, Problem>>()
        .map_err(|p| fail(Some(&p.table), p.column.as_deref(), p.message))?;
    conn.transaction(|tx| {
        for plan in &plans {
            for insert in &plan.inserts {
                insert.statement.clone().execute(tx).map_err(|e| {
                    fail(
                        Some(&plan.table),
                        None,
                        format!("inserting {}: {e}", insert.rows),
                    )
                })?;
            }
        }
        if tx.backend() == BackendKind::Postgres {
            for plan in &plans {
                for column in &plan.sequence_columns {
                    advance_sequence(tx, &plan.table, column).map_err(|e| {
                        fail(
                            Some(&plan.table),
                            Some(column),
                            format!("moving its sequence past the fixture's keys: {e}"),
                        )
                    })?;
                }
            }
        }
        Ok(plans
            .iter()
            .map(|p| (p.table.clone(), p.row_count))
            .collect())
    })
}

/// The top-level object of a fixture, with its tables in file order (a JSON map would sort
/// them by name).
struct OrderedTables(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedTables {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct TablesVisitor;
        impl<'de> Visitor<'de> for TablesVisitor {
            type Value = OrderedTables;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object mapping table names to arrays of rows")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<OrderedTables, A::Error> {
                let mut tables = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    tables.push(entry);
                }
                Ok(OrderedTables(tables))
            }
        }
        deserializer.deserialize_map(TablesVisitor)
    }
}

/// What is wrong with one table of a fixture.
struct Problem {
    table: String,
    column: Option<String>,
    message: String,
}

/// The statements filling one table.
struct TablePlan {
    table: String,
    row_count: usize,
    inserts: Vec<Insert>,
    /// Integer columns given explicit values (PostgreSQL sequences to move).
    sequence_columns: Vec<String>,
}

struct Insert {
    statement: Statement,
    /// `row 3` or `rows 1-5`, for errors.
    rows: String,
}

fn plan_table(
    schema: &Schema,
    table_name: &str,
    rows: &Value,
    backend: BackendKind,
) -> std::result::Result<TablePlan, Problem> {
    let problem = |column: Option<&str>, message: String| Problem {
        table: table_name.to_string(),
        column: column.map(str::to_string),
        message,
    };
    let table = schema.table(table_name).ok_or_else(|| {
        problem(
            None,
            format!(
                "no such table in the database (tables: {})",
                schema.table_names().join(", ")
            ),
        )
    })?;
    let rows = rows
        .as_array()
        .ok_or_else(|| problem(None, format!("expected an array of rows, got {rows}")))?;
    let mut objects: Vec<&JsonMap> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let object = row.as_object().ok_or_else(|| {
            problem(
                None,
                format!(
                    "row {}: expected an object of column values, got {row}",
                    i + 1
                ),
            )
        })?;
        for (column, value) in object {
            if table.column(column).is_none() {
                return Err(problem(
                    Some(column),
                    format!(
                        "row {}: no such column (columns: {})",
                        i + 1,
                        table
                            .columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            let declared = table.column(column).expect("checked above");
            column_bind(declared, value)
                .map_err(|m| problem(Some(column), format!("row {}: {m}", i + 1)))?;
        }
        objects.push(object);
    }
    let mut sequence_columns: Vec<String> = Vec::new();
    for object in &objects {
        for (name, value) in *object {
            let integer = table.column(name).is_some_and(is_integer);
            if integer && !value.is_null() && !sequence_columns.contains(name) {
                sequence_columns.push(name.clone());
            }
        }
    }
    Ok(TablePlan {
        table: table.name.clone(),
        row_count: objects.len(),
        inserts: inserts(table, &objects, backend),
        sequence_columns,
    })
}

fn is_integer(column: &Column) -> bool {
    matches!(column.data_type.as_str(), "smallint" | "integer" | "bigint")
}

/// A JSON value as a bind parameter.
fn to_bind(value: &Value) -> std::result::Result<ScopeValue, String> {
    Ok(match value {
        Value::Null => ScopeValue::Null,
        Value::Bool(b) => ScopeValue::Bool(*b),
        Value::String(s) => ScopeValue::Text(s.clone()),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => ScopeValue::Int(i),
            (None, Some(_)) if n.is_u64() => {
                return Err(format!("{n} does not fit a 64-bit signed integer"))
            }
            (None, Some(f)) => ScopeValue::Float(f),
            (None, None) => return Err(format!("{n} is not a number SQL can store")),
        },
        Value::Array(_) | Value::Object(_) => ScopeValue::Text(value.to_string()),
    })
}

/// A JSON value as the bind parameter for `column`: date-times given as text are written in
/// the form repositories write them (see [`crate::datetime`]), so that they compare alike.
fn column_bind(column: &Column, value: &Value) -> std::result::Result<ScopeValue, String> {
    match (
        to_bind(value)?,
        Temporal::of_declared_type(&column.data_type),
    ) {
        (ScopeValue::Text(text), Some(kind)) => kind.canonical(&text).map(ScopeValue::Text),
        (bind, _) => Ok(bind),
    }
}

/// Multi-row INSERTs for consecutive rows giving the same columns, under the bind limit.
fn inserts(table: &Table, rows: &[&JsonMap], backend: BackendKind) -> Vec<Insert> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let columns: Vec<&String> = rows[start].keys().collect();
        let per_statement = (BINDS_PER_STATEMENT / columns.len().max(1)).max(1);
        let mut end = start + 1;
        while end < rows.len()
            && end - start < per_statement
            && !columns.is_empty()
            && rows[end].keys().eq(columns.iter().copied())
        {
            end += 1;
        }
        out.push(Insert {
            statement: insert(table, &columns, &rows[start..end], backend),
            rows: if end - start == 1 {
                format!("row {}", start + 1)
            } else {
                format!("rows {}-{}", start + 1, end)
            },
        });
        start = end;
    }
    out
}

fn insert(
    table: &Table,
    columns: &[&String],
    rows: &[&JsonMap],
    backend: BackendKind,
) -> Statement {
    let statement = Statement::new("INSERT INTO ").identifier(&table.name);
    if columns.is_empty() {
        return statement.sql(if backend == BackendKind::Mysql {
            " () VALUES ()"
        } else {
            " DEFAULT VALUES"
        });
    }
    let mut statement = statement
        .sql(" (")
        .identifiers(columns.iter().map(|c| c.as_str()))
        .sql(") VALUES ");
    for (r, row) in rows.iter().enumerate() {
        statement = statement.sql(if r == 0 { "(" } else { ", (" });
        for (i, name) in columns.iter().enumerate() {
            if i > 0 {
                statement = statement.sql(", ");
            }
            // Checked by `plan_table`: every column exists and every value converts.
            let column = table.column(name);
            let value = match (row.get(*name), column) {
                (Some(value), Some(column)) => column_bind(column, value),
                _ => Ok(ScopeValue::Null),
            };
            let value = value.unwrap_or(ScopeValue::Null);
            statement = match (&value, column) {
                // PostgreSQL has no implicit cast from text to most types (dates, uuid,
                // json...): cast to the column's type, from the catalog.
                (ScopeValue::Text(_), Some(column)) if backend == BackendKind::Postgres => {
                    statement
                        .sql("CAST(")
                        .bind(value)
                        .sql(" AS ")
                        .sql(&column.data_type)
                        .sql(")")
                }
                _ => statement.bind(value),
            };
        }
        statement = statement.sql(")");
    }
    statement
}

/// Moves the PostgreSQL sequence behind `table.column` (if it has one) past its largest value.
fn advance_sequence(conn: &Conn, table: &str, column: &str) -> Result<()> {
    Statement::new("SELECT setval(pg_get_serial_sequence(quote_ident(")
        .bind(table)
        .sql("), ")
        .bind(column)
        .sql("), COALESCE((SELECT MAX(")
        .identifier(column)
        .sql(") FROM ")
        .identifier(table)
        .sql("), 0) + 1, false) WHERE pg_get_serial_sequence(quote_ident(")
        .bind(table)
        .sql("), ")
        .bind(column)
        .sql(") IS NOT NULL")
        .execute(conn)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_tables_in_file_order() {
        let OrderedTables(tables) =
            serde_json::from_str(r#"{"users": [], "posts": [{"id": 1}], "authors": []}"#).unwrap();
        let names: Vec<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, vec!["users", "posts", "authors"]);
        assert!(serde_json::from_str::<OrderedTables>("[1, 2]").is_err());
    }

    #[test]
    fn converts_scalars_and_refuses_what_sql_cannot_bind() {
        assert_eq!(to_bind(&Value::from(3)), Ok(ScopeValue::Int(3)));
        assert_eq!(to_bind(&Value::from(1.5)), Ok(ScopeValue::Float(1.5)));
        assert_eq!(to_bind(&Value::from("x")), Ok(ScopeValue::Text("x".into())));
        assert_eq!(to_bind(&Value::Null), Ok(ScopeValue::Null));
        assert_eq!(
            to_bind(&serde_json::json!({"a": [1]})),
            Ok(ScopeValue::Text(r#"{"a":[1]}"#.into()))
        );
        assert!(to_bind(&Value::from(u64::MAX)).is_err());
    }
}
