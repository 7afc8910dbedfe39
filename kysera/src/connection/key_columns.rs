//! The columns of a violated MySQL/MariaDB unique key, read from the catalog.
//!
//! MySQL's duplicate-key message names only the key (`for key 'org_id'`, MySQL 8:
//! `'members.org_id'`), and MariaDB names an unnamed key after its first column, so
//! `UNIQUE (org_id, email)` reads like a key on `org_id` alone. The key's real columns are in
//! `information_schema.STATISTICS`; they are looked up once per table and key and kept for
//! the life of the pool (a key redefined under the same name while the pool runs keeps its
//! old columns until the pool is rebuilt).
//!
//! [`unique_key_columns`] answers the same question on every backend for an upsert whose
//! conflict target is a constraint's name.

use std::collections::HashMap;
use std::sync::Mutex;

#[cfg(feature = "mysql")]
use diesel::sql_types::{Nullable, Text};
#[cfg(feature = "mysql")]
use diesel::{MysqlConnection, QueryResult, QueryableByName, RunQueryDsl};

use super::AnyConnection;
#[cfg(feature = "mysql")]
use crate::error::UniqueViolation;
use crate::error::{Error, ErrorContext};

#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
/// A key as the catalog describes it: its table and its columns in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    table: String,
    columns: Vec<String>,
}

/// Catalog answers by (table, key name); the table is empty when the message named none.
#[derive(Debug, Default)]
pub(crate) struct KeyColumns {
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    known: Mutex<HashMap<(String, String), Option<Key>>>,
}

#[cfg(feature = "mysql")]
#[derive(QueryableByName)]
struct KeyPart {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    column_name: Option<String>,
}

impl KeyColumns {
    /// Completes `error` when it is a unique violation whose key the catalog knows: its
    /// table, its columns and, for a one-column key, the model's field.
    #[cfg_attr(not(feature = "mysql"), allow(unused_variables))]
    pub(crate) fn complete(&self, conn: &mut AnyConnection, error: &mut Error, ctx: &ErrorContext) {
        #[cfg(feature = "mysql")]
        if let (Error::UniqueViolation(violation), AnyConnection::Mysql(conn)) = (error, conn) {
            self.complete_mysql(conn, violation, ctx);
        }
    }

    #[cfg(feature = "mysql")]
    fn complete_mysql(
        &self,
        conn: &mut MysqlConnection,
        violation: &mut UniqueViolation,
        ctx: &ErrorContext,
    ) {
        let Some(name) = violation.constraint.clone() else {
            return;
        };
        let table = violation.table.clone().unwrap_or_default();
        let cache_key = (table, name);
        let cached = self
            .known
            .lock()
            .ok()
            .and_then(|k| k.get(&cache_key).cloned());
        let key = match cached {
            Some(key) => key,
            None => {
                // A failed lookup (no privilege on the catalog) keeps what the message said.
                let Ok(key) = lookup(conn, &cache_key.0, &cache_key.1) else {
                    return;
                };
                if let Ok(mut known) = self.known.lock() {
                    known.insert(cache_key, key.clone());
                }
                key
            }
        };
        if let Some(key) = key {
            apply(violation, key, ctx);
        }
    }
}

#[cfg(feature = "mysql")]
/// The unique key `name` of `table` (of any table in the database when `table` is empty and
/// exactly one has such a key); `None` when there is none or it covers an expression.
fn lookup(conn: &mut MysqlConnection, table: &str, name: &str) -> QueryResult<Option<Key>> {
    let parts: Vec<KeyPart> = diesel::sql_query(
        "SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name \
         FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = ? AND NON_UNIQUE = 0 \
           AND (? = '' OR TABLE_NAME = ?) \
         ORDER BY TABLE_NAME, SEQ_IN_INDEX",
    )
    .bind::<Text, _>(name)
    .bind::<Text, _>(table)
    .bind::<Text, _>(table)
    .load(conn)?;
    let Some(first) = parts.first() else {
        return Ok(None);
    };
    let table = first.table_name.clone();
    if parts.iter().any(|p| p.table_name != table) {
        // Several tables have a key of that name and the message did not say which.
        return Ok(None);
    }
    let columns: Option<Vec<String>> = parts.into_iter().map(|p| p.column_name).collect();
    Ok(columns.map(|columns| Key { table, columns }))
}

#[cfg(feature = "mysql")]
fn apply(violation: &mut UniqueViolation, key: Key, ctx: &ErrorContext) {
    // The model's fields name columns of its own table only.
    violation.field = if ctx.table == Some(key.table.as_str()) {
        crate::error::field_of(&key.columns, ctx)
    } else {
        None
    };
    violation.table = Some(key.table);
    violation.columns = key.columns;
}

#[derive(diesel::QueryableByName)]
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
struct IndexColumn {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    column_name: Option<String>,
}

#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
fn columns_of(parts: Vec<IndexColumn>) -> Option<Vec<String>> {
    if parts.is_empty() {
        return None;
    }
    // A NULL column is an expression: no column list can name it.
    parts.into_iter().map(|p| p.column_name).collect()
}

/// The columns, in key order, of the unique constraint or unique index `name` on `table`;
/// `None` when the table has no such key or it covers an expression.
pub(crate) fn unique_key_columns(
    conn: &mut AnyConnection,
    table: &str,
    name: &str,
) -> diesel::QueryResult<Option<Vec<String>>> {
    // Not every build has every arm that uses these.
    #[allow(unused_imports)]
    use diesel::sql_types::Text as SqlText;
    #[allow(unused_imports)]
    use diesel::RunQueryDsl as _;
    match conn {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(c) => {
            let parts: Vec<IndexColumn> = diesel::sql_query(
                "SELECT ii.name AS column_name \
                 FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii \
                 WHERE il.name = ? AND il.\"unique\" = 1 ORDER BY ii.seqno",
            )
            .bind::<SqlText, _>(table)
            .bind::<SqlText, _>(name)
            .load(c)?;
            Ok(columns_of(parts))
        }
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => {
            // A unique constraint is backed by a unique index of the same name.
            let parts: Vec<IndexColumn> = diesel::sql_query(
                "SELECT a.attname::text AS column_name \
                 FROM pg_index i \
                 JOIN pg_class ic ON ic.oid = i.indexrelid \
                 JOIN pg_class t ON t.oid = i.indrelid \
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
                 LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                 WHERE i.indisunique AND ic.relname = $1 AND t.relname = $2 \
                   AND pg_table_is_visible(t.oid) \
                 ORDER BY k.ord",
            )
            .bind::<SqlText, _>(name)
            .bind::<SqlText, _>(table)
            .load(c)?;
            Ok(columns_of(parts))
        }
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => Ok(lookup(c, table, name)?.map(|key| key.columns)),
    }
}
