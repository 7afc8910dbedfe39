//! `#[audited]`: the `audit_logs` table and its rows.
//!
//! Every audited write adds rows here in the same transaction as the change, so a rollback
//! leaves no audit row behind. Values are JSON text in every backend.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::error::{BackendKind, Error, Result};
use crate::json::JsonMap;

diesel::table! {
    /// The audit log.
    audit_logs (id) {
        /// Assigned by the database.
        id -> BigInt,
        /// Table of the changed row.
        table_name -> Text,
        /// Primary key of the changed row, as text.
        entity_id -> Text,
        /// `insert`, `update`, `delete`, `soft_delete` or `restore`.
        operation -> Text,
        /// Values before the change (JSON object), when captured.
        old_values -> Nullable<Text>,
        /// Values after the change (JSON object), when captured.
        new_values -> Nullable<Text>,
        /// Who made the change ([`Context::actor`](crate::Context::actor)).
        changed_by -> Nullable<Text>,
        /// When, in UTC.
        changed_at -> Timestamp,
        /// Free metadata (JSON), from the context.
        metadata -> Nullable<Text>,
    }
}

/// The DDL of `audit_logs` for `backend`, to add as a migration.
///
/// ```
/// let sql = kysera::audit::migration_sql(kysera::BackendKind::Postgres);
/// assert!(sql.contains("CREATE TABLE audit_logs"));
/// ```
pub fn migration_sql(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Sqlite => {
            "CREATE TABLE audit_logs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                table_name TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                operation TEXT NOT NULL,
                old_values TEXT,
                new_values TEXT,
                changed_by TEXT,
                changed_at TIMESTAMP NOT NULL,
                metadata TEXT);
             CREATE INDEX audit_logs_entity ON audit_logs (table_name, entity_id);"
        }
        BackendKind::Postgres => {
            "CREATE TABLE audit_logs (
                id BIGSERIAL PRIMARY KEY,
                table_name TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                operation TEXT NOT NULL,
                old_values TEXT,
                new_values TEXT,
                changed_by TEXT,
                changed_at TIMESTAMP NOT NULL,
                metadata TEXT);
             CREATE INDEX audit_logs_entity ON audit_logs (table_name, entity_id);"
        }
        BackendKind::Mysql => {
            "CREATE TABLE audit_logs (
                id BIGINT AUTO_INCREMENT PRIMARY KEY,
                table_name VARCHAR(255) NOT NULL,
                entity_id VARCHAR(255) NOT NULL,
                operation VARCHAR(32) NOT NULL,
                old_values LONGTEXT,
                new_values LONGTEXT,
                changed_by VARCHAR(255),
                changed_at DATETIME(6) NOT NULL,
                metadata LONGTEXT,
                INDEX audit_logs_entity (table_name, entity_id)) ENGINE = InnoDB;"
        }
    }
}

/// What a write did to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A row was created.
    Insert,
    /// A row was changed.
    Update,
    /// A row was removed (hard delete).
    Delete,
    /// A row was marked deleted.
    SoftDelete,
    /// A soft-deleted row was brought back.
    Restore,
}

impl Operation {
    /// The name stored in `audit_logs.operation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::SoftDelete => "soft_delete",
            Operation::Restore => "restore",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "insert" => Operation::Insert,
            "update" => Operation::Update,
            "delete" => Operation::Delete,
            "soft_delete" => Operation::SoftDelete,
            "restore" => Operation::Restore,
            _ => return None,
        })
    }
}

/// One row of `audit_logs`.
#[derive(Debug, Clone, PartialEq, Queryable, Serialize)]
#[diesel(table_name = audit_logs)]
pub struct AuditEntry {
    /// The audit row's id.
    pub id: i64,
    /// Table of the changed row.
    pub table_name: String,
    /// Key of the changed row, as text.
    pub entity_id: String,
    /// Operation name (see [`Operation`]).
    pub operation: String,
    /// Values before (JSON text).
    pub old_values: Option<String>,
    /// Values after (JSON text).
    pub new_values: Option<String>,
    /// Who made the change.
    pub changed_by: Option<String>,
    /// When (UTC).
    pub changed_at: NaiveDateTime,
    /// Free metadata (JSON text).
    pub metadata: Option<String>,
}

impl AuditEntry {
    /// The operation, parsed.
    pub fn operation(&self) -> Result<Operation> {
        Operation::parse(&self.operation).ok_or_else(|| {
            Error::InvalidArgument(format!("unknown audit operation `{}`", self.operation))
        })
    }

    /// The old values as a JSON object.
    pub fn old(&self) -> Result<Option<JsonMap>> {
        parse_map(self.old_values.as_deref())
    }

    /// The new values as a JSON object.
    pub fn new_values(&self) -> Result<Option<JsonMap>> {
        parse_map(self.new_values.as_deref())
    }
}

fn parse_map(text: Option<&str>) -> Result<Option<JsonMap>> {
    text.map(|t| match serde_json::from_str::<Value>(t) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(Error::InvalidArgument(format!(
            "audit values are not an object: {other}"
        ))),
        Err(e) => Err(Error::InvalidArgument(format!(
            "audit values are not JSON: {e}"
        ))),
    })
    .transpose()
}

/// Values one [`NewAuditEntry`] binds in an INSERT: every column but the id.
pub(crate) const BINDS_PER_ROW: usize = 8;

/// A row to add to `audit_logs`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_logs)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewAuditEntry {
    /// Table of the changed row.
    pub table_name: String,
    /// Key of the changed row, as text.
    pub entity_id: String,
    /// Operation name.
    pub operation: String,
    /// Values before (JSON text).
    pub old_values: Option<String>,
    /// Values after (JSON text).
    pub new_values: Option<String>,
    /// Who made the change.
    pub changed_by: Option<String>,
    /// When (UTC).
    pub changed_at: NaiveDateTime,
    /// Free metadata (JSON text).
    pub metadata: Option<String>,
}

/// The audit rows of one entity, oldest first.
pub fn history(conn: &crate::Conn, table: &str, entity_id: &str) -> Result<Vec<AuditEntry>> {
    let query = audit_logs::table
        .filter(audit_logs::table_name.eq(table.to_string()))
        .filter(audit_logs::entity_id.eq(entity_id.to_string()))
        .order(audit_logs::id)
        .select(audit_logs::all_columns);
    conn.load(query)
}

/// One audit row by id.
pub fn entry(conn: &crate::Conn, audit_id: i64) -> Result<AuditEntry> {
    let query = audit_logs::table
        .filter(audit_logs::id.eq(audit_id))
        .select(audit_logs::all_columns);
    conn.first(query)?.ok_or_else(|| Error::NotFound {
        table: "audit_logs".into(),
        key: audit_id.to_string(),
    })
}

/// Applies `#[audited(exclude(...), redact(...))]` to captured values.
pub(crate) fn filter_values(mut values: JsonMap, audit: &crate::behaviours::Audit) -> JsonMap {
    for column in audit.exclude {
        values.remove(*column);
    }
    for column in audit.redact {
        if let Some(v) = values.get_mut(*column) {
            *v = Value::String("[REDACTED]".into());
        }
    }
    values
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn binds_per_row_counts_every_bound_column() {
        let entry = NewAuditEntry {
            table_name: "t".into(),
            entity_id: "1".into(),
            operation: "insert".into(),
            old_values: None,
            new_values: None,
            changed_by: None,
            changed_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
            metadata: None,
        };
        let insert = diesel::insert_into(audit_logs::table).values(&entry);
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&insert).to_string();
        let statement = sql.split(" -- binds").next().unwrap();
        assert_eq!(statement.matches('?').count(), BINDS_PER_ROW, "{sql}");
    }
}
