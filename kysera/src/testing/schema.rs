//! What the helpers know about the database: its tables, their columns and primary keys, and
//! the foreign keys between tables, read from the backend's catalog.
//!
//! Table and column names that callers pass as strings are checked against this before they
//! reach SQL.

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;

use crate::error::{BackendKind, Error, Result};
use crate::executor::Conn;

/// Tables kysera's and Diesel's migration runners keep their history in: never cleaned,
/// seeded or snapshotted.
pub const BOOKKEEPING_TABLES: &[&str] = &[
    "__diesel_schema_migrations",
    "kysera_migrations",
    "kysera_migration_lock",
];

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    /// The declared type, lower case (`boolean`, `tinyint(1)`, `timestamp`...).
    pub data_type: String,
    /// 1-based position in the primary key, 0 when not part of it.
    pub key_position: i64,
}

impl Column {
    /// Booleans that the backend returns as 0/1 (MySQL `tinyint(1)`, SQLite `BOOLEAN`).
    pub(crate) fn is_boolean(&self) -> bool {
        self.data_type == "tinyint(1)" || self.data_type.contains("bool")
    }

    /// Date-times without a time zone, which backends print with a space or a `T`.
    pub(crate) fn is_datetime(&self) -> bool {
        matches!(
            crate::datetime::Temporal::of_declared_type(&self.data_type),
            Some(crate::datetime::Temporal::Timestamp | crate::datetime::Temporal::TimestampTz)
        )
    }
}

/// One table and its columns, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub name: String,
    pub columns: Vec<Column>,
}

impl Table {
    pub(crate) fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Primary-key columns in key order; every column when the table has no key, so that an
    /// `ORDER BY` on them is still deterministic.
    pub(crate) fn order_columns(&self) -> Vec<&Column> {
        let mut key: Vec<&Column> = self.columns.iter().filter(|c| c.key_position > 0).collect();
        key.sort_by_key(|c| c.key_position);
        if key.is_empty() {
            self.columns.iter().collect()
        } else {
            key
        }
    }
}

/// A foreign key from `child` to `parent` (one per pair of tables).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ForeignKey {
    pub child: String,
    pub parent: String,
}

/// The user tables of the connection's database (or PostgreSQL schema), migration bookkeeping
/// excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schema {
    pub tables: Vec<Table>,
    pub foreign_keys: Vec<ForeignKey>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = BigInt)]
    key_position: i64,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, \
     lower(p.type) AS data_type, CAST(p.pk AS BIGINT) AS key_position \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
     ORDER BY m.name, p.cid";

const SQLITE_FOREIGN_KEYS: &str = "SELECT DISTINCT m.name AS child, f.\"table\" AS parent \
     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";

// The base type without its modifier (`character varying`, not `character varying(255)`):
// fixtures cast text to it, and a cast to `varchar(n)` would truncate silently where an
// assignment reports the overflow.
const POSTGRES_COLUMNS: &str =
    "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
     format_type(a.atttypid, NULL) AS data_type, \
     COALESCE((SELECT array_position(ix.indkey::int2[], a.attnum) FROM pg_index ix \
               WHERE ix.indrelid = c.oid AND ix.indisprimary), 0)::bigint AS key_position \
     FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_attribute a ON a.attrelid = c.oid \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
       AND a.attnum > 0 AND NOT a.attisdropped AND NOT c.relispartition \
     ORDER BY c.relname, a.attnum";

const POSTGRES_FOREIGN_KEYS: &str =
    "SELECT DISTINCT cl.relname::text AS child, pl.relname::text AS parent \
     FROM pg_constraint con \
     JOIN pg_class cl ON cl.oid = con.conrelid \
     JOIN pg_class pl ON pl.oid = con.confrelid \
     JOIN pg_namespace cn ON cn.oid = cl.relnamespace \
     JOIN pg_namespace pn ON pn.oid = pl.relnamespace \
     WHERE con.contype = 'f' AND cn.nspname = current_schema() AND pn.nspname = current_schema()";

const MYSQL_COLUMNS: &str = "SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, \
     LOWER(c.COLUMN_TYPE) AS data_type, CAST(COALESCE(k.ORDINAL_POSITION, 0) AS SIGNED) AS key_position \
     FROM information_schema.COLUMNS c \
     JOIN information_schema.TABLES t \
       ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE' \
     LEFT JOIN information_schema.KEY_COLUMN_USAGE k \
       ON k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME \
      AND k.COLUMN_NAME = c.COLUMN_NAME AND k.CONSTRAINT_NAME = 'PRIMARY' \
     WHERE c.TABLE_SCHEMA = DATABASE() \
     ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION";

const MYSQL_FOREIGN_KEYS: &str =
    "SELECT DISTINCT TABLE_NAME AS child, REFERENCED_TABLE_NAME AS parent \
     FROM information_schema.KEY_COLUMN_USAGE \
     WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_SCHEMA = DATABASE() \
       AND REFERENCED_TABLE_NAME IS NOT NULL";

impl Schema {
    /// Reads the catalog of the database `conn` is connected to.
    pub(crate) fn introspect(conn: &Conn) -> Result<Self> {
        let (columns_sql, foreign_keys_sql) = match conn.backend() {
            BackendKind::Sqlite => (SQLITE_COLUMNS, SQLITE_FOREIGN_KEYS),
            BackendKind::Postgres => (POSTGRES_COLUMNS, POSTGRES_FOREIGN_KEYS),
            BackendKind::Mysql => (MYSQL_COLUMNS, MYSQL_FOREIGN_KEYS),
        };
        let rows: Vec<ColumnRow> = conn.load(diesel::sql_query(columns_sql))?;
        let mut tables: Vec<Table> = Vec::new();
        for row in rows {
            if BOOKKEEPING_TABLES.contains(&row.table_name.as_str()) {
                continue;
            }
            let column = Column {
                name: row.column_name,
                data_type: row.data_type,
                key_position: row.key_position,
            };
            match tables.last_mut() {
                Some(table) if table.name == row.table_name => table.columns.push(column),
                _ => tables.push(Table {
                    name: row.table_name,
                    columns: vec![column],
                }),
            }
        }
        let mut foreign_keys: Vec<ForeignKey> = conn
            .load::<ForeignKeyRow, _>(diesel::sql_query(foreign_keys_sql))?
            .into_iter()
            .map(|row| ForeignKey {
                child: row.child,
                parent: row.parent,
            })
            .collect();
        foreign_keys.sort();
        foreign_keys.dedup();
        Ok(Schema {
            tables,
            foreign_keys,
        })
    }

    /// The table named `name`.
    pub(crate) fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The table named `name`, or an error listing the tables that exist.
    pub(crate) fn require(&self, name: &str) -> Result<&Table> {
        self.table(name).ok_or_else(|| self.unknown_table(name))
    }

    /// The error for a table name that is not in the schema.
    pub(crate) fn unknown_table(&self, name: &str) -> Error {
        Error::InvalidArgument(format!(
            "no table `{name}` in the database (tables: {})",
            self.table_names().join(", ")
        ))
    }

    /// Every table name, sorted.
    pub(crate) fn table_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.tables.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        names
    }
}
