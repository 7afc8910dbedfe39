//! The one error type of kysera, built from Diesel's errors on every backend.
//!
//! Every fallible kysera call returns [`Error`]. Constraint violations carry the names the
//! backend reported (constraint, table, columns), parsed from the message where that is the
//! only source, and [`Error::is_transient`] tells the retry logic which failures are worth
//! another attempt.

mod classify;

use serde::Serialize;

use crate::validate::ValidationErrors;

pub(crate) mod cursor;
pub use cursor::CursorError;

#[cfg(feature = "mysql")]
pub(crate) use classify::field_of;
pub use classify::{from_diesel, ErrorContext};

/// Result type used across kysera.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which database backend produced an error or serves a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

impl BackendKind {
    /// Most bind parameters one statement may carry: every statement kysera builds from
    /// input of any length is split to stay under it.
    pub const fn max_bind_params(self) -> usize {
        match self {
            // SQLITE_MAX_VARIABLE_NUMBER is 32766 since SQLite 3.32.
            BackendKind::Sqlite => 32_766,
            // Both protocols count parameters in 16 bits.
            BackendKind::Postgres | BackendKind::Mysql => 65_535,
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
            BackendKind::Mysql => "mysql",
        })
    }
}

/// A unique constraint was violated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UniqueViolation {
    /// Constraint or index name, where the backend reports it.
    pub constraint: Option<String>,
    /// Table the constraint belongs to.
    pub table: Option<String>,
    /// Columns covered by the constraint, in order, where known.
    pub columns: Vec<String>,
    /// The struct field of the model when the constraint covers exactly one mapped column.
    pub field: Option<String>,
    /// The backend's own message.
    pub message: String,
}

/// A foreign-key constraint was violated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKeyViolation {
    /// Constraint name, where the backend reports it.
    pub constraint: Option<String>,
    /// Table holding the referencing row.
    pub table: Option<String>,
    /// Table the key refers to, where known.
    pub referenced_table: Option<String>,
    /// The backend's own message.
    pub message: String,
}

/// Errors returned by kysera.
///
/// Match on the variant to react to a specific failure:
///
/// ```
/// # use kysera::Error;
/// fn describe(err: &Error) -> String {
///     match err {
///         Error::UniqueViolation(v) => format!("taken: {:?}", v.field),
///         Error::NotFound { table, key } => format!("no {table} with key {key}"),
///         Error::Validation(errors) => format!("{} invalid field(s)", errors.len()),
///         other => other.to_string(),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A unique constraint was violated.
    #[error("unique constraint violated{}: {}", fmt_opt(" on ", &.0.constraint), .0.message)]
    UniqueViolation(UniqueViolation),
    /// A foreign-key constraint was violated.
    #[error("foreign key constraint violated{}: {}", fmt_opt(" on ", &.0.constraint), .0.message)]
    ForeignKeyViolation(ForeignKeyViolation),
    /// A NOT NULL column received NULL.
    #[error("column {} cannot be null: {message}", column.as_deref().unwrap_or("?"))]
    NotNullViolation {
        /// Table, where known.
        table: Option<String>,
        /// Column, where known.
        column: Option<String>,
        /// The backend's own message.
        message: String,
    },
    /// A CHECK constraint was violated.
    #[error("check constraint violated{}: {message}", fmt_opt(" on ", constraint))]
    CheckViolation {
        /// Constraint name, where known.
        constraint: Option<String>,
        /// Table, where known.
        table: Option<String>,
        /// The backend's own message.
        message: String,
    },
    /// No row with the given key exists (or it is outside the repository's scope).
    #[error("no row in {table} with key {key}")]
    NotFound {
        /// Table searched.
        table: String,
        /// The key, formatted for display.
        key: String,
    },
    /// Input (or a row read back) failed validation; lists every failing field.
    #[error("{0}")]
    Validation(ValidationErrors),
    /// The transaction could not be serialised; retrying it may succeed.
    #[error("serialization failure: {message}")]
    SerializationFailure {
        /// The backend's own message.
        message: String,
    },
    /// The backend detected a deadlock and aborted this transaction.
    #[error("deadlock detected: {message}")]
    Deadlock {
        /// The backend's own message.
        message: String,
    },
    /// The database (SQLite file or row lock) was busy or locked.
    #[error("database busy or locked: {message}")]
    Busy {
        /// The backend's own message.
        message: String,
    },
    /// Could not connect, or the connection was lost.
    #[error("connection error ({backend}): {message}")]
    Connection {
        /// Backend being connected to.
        backend: BackendKind,
        /// What went wrong; never contains a password.
        message: String,
        /// True when an established connection was lost (worth a retry).
        lost: bool,
    },
    /// No pooled connection became free within the pool's timeout.
    #[error("timed out waiting for a pooled connection: {message}")]
    PoolTimeout {
        /// r2d2's description.
        message: String,
    },
    /// The connection URL or configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A caller passed an argument outside its domain (page 0, limit 0, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The backend was not compiled in (enable the cargo feature).
    #[error("the {0} backend is not enabled: enable kysera's `{0}` cargo feature")]
    BackendNotEnabled(&'static str),
    /// The connection is already in use by an enclosing call on the same executor.
    #[error("connection is busy: a repository call was made while the connection was lent out")]
    ConnectionBusy,
    /// Any other database error.
    #[error("database error: {message}")]
    Database {
        /// Backend-specific kind as Diesel classified it.
        kind: String,
        /// The backend's own message.
        message: String,
    },
    /// A query could not be built or its result could not be decoded.
    #[error("query error: {0}")]
    Query(String),
    /// A migration could not be read, planned or applied.
    #[error("migration error: {0}")]
    Migration(String),
    /// Applied migrations whose files changed since; nothing was run.
    #[error("applied migrations changed since they ran: {}; run with accept-changed to record the new contents", .0.join(", "))]
    MigrationChanged(Vec<String>),
    /// The database is shutting down and takes no new work.
    #[error("the database is shutting down")]
    ShuttingDown,
    /// A circuit breaker is open: the call was not attempted.
    #[error("circuit open: the database failed repeatedly; retry in {retry_after:?}")]
    CircuitOpen {
        /// Time until the breaker lets a trial call through.
        retry_after: std::time::Duration,
    },
    /// No database of this name is configured in the
    /// [`DatabaseManager`](crate::manager::DatabaseManager).
    #[error("no database named `{name}`; configured: {}", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    UnknownDatabase {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// A test fixture (`kysera::testing`) could not be loaded; nothing from it was written.
    #[error(
        "fixture {file}{}{}: {message}",
        fmt_opt(", table ", table),
        fmt_opt(", column ", column)
    )]
    Fixture {
        /// The fixture file (or the label given to fixture text).
        file: String,
        /// The table concerned, where there is one.
        table: Option<String>,
        /// The column concerned, where there is one.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A keyset pagination cursor could not be used: garbled, truncated, altered, signed
    /// with another key, or made for another ordering. Never a page of wrong rows.
    #[error("invalid cursor: {reason}")]
    InvalidCursor {
        /// Why it was refused.
        reason: CursorError,
    },
    /// A filter or ordering named a column the model does not have.
    #[error("`{table}` has no column `{column}` (columns: {})", valid.join(", "))]
    UnknownColumn {
        /// The model's table.
        table: String,
        /// The name given.
        column: String,
        /// The columns it has, in field order.
        valid: Vec<String>,
    },
    /// A run-time filter is malformed or does not fit its column (a string for an integer
    /// column, a `LIKE` on a number): the message says where.
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// An update of a `#[kysera(version)]` model named a version the row is no longer at:
    /// another write came first. Nothing was changed; read the row again and redo the change.
    #[error("stale version: {table} {key} is no longer at version {expected}")]
    StaleVersion {
        /// The table.
        table: String,
        /// The row's key, as text.
        key: String,
        /// The version the update was made from.
        expected: i64,
    },
    /// A closure run by the async bridge (`kysera::AsyncDatabase`, feature `tokio`) panicked.
    /// Its connection went back to the pool, or was discarded if the panic left a transaction
    /// open (that transaction is rolled back, never committed). Not transient: a bug, not a
    /// passing condition.
    #[error("database closure panicked: {message}")]
    Panicked {
        /// The panic's message, when it was a string (`panic!("...")`).
        message: String,
    },
    /// A call handed to the async bridge (`kysera::AsyncDatabase`, feature `tokio`) was
    /// cancelled before it ran, because its Tokio runtime is shutting down. Not transient.
    #[error("database call cancelled: the Tokio runtime is shutting down")]
    Cancelled,
    /// A plugin refused an operation.
    #[error("plugin `{plugin}` refused: {message}")]
    Plugin {
        /// The plugin's name.
        plugin: String,
        /// Why.
        message: String,
    },
}

fn fmt_opt(prefix: &str, value: &Option<String>) -> String {
    value
        .as_deref()
        .map(|v| format!("{prefix}{v}"))
        .unwrap_or_default()
}

impl Error {
    /// True for failures where running the same transaction again may succeed:
    /// serialization failures, deadlocks, SQLite busy/locked and lost connections.
    ///
    /// A lost connection during a write is reported as transient because the failure is; whether
    /// the write committed is for the caller (or the retry helper) to decide.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::SerializationFailure { .. }
                | Error::Deadlock { .. }
                | Error::Busy { .. }
                | Error::PoolTimeout { .. }
                | Error::Connection { lost: true, .. }
        )
    }

    /// A plugin's refusal.
    pub fn plugin(plugin: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Plugin {
            plugin: plugin.into(),
            message: message.into(),
        }
    }

    /// True when this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// A short stable code for logs and API responses (`unique_violation`, `not_found`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Error::UniqueViolation(_) => "unique_violation",
            Error::ForeignKeyViolation(_) => "foreign_key_violation",
            Error::NotNullViolation { .. } => "not_null_violation",
            Error::CheckViolation { .. } => "check_violation",
            Error::NotFound { .. } => "not_found",
            Error::Validation(_) => "validation",
            Error::SerializationFailure { .. } => "serialization_failure",
            Error::Deadlock { .. } => "deadlock",
            Error::Busy { .. } => "busy",
            Error::Connection { .. } => "connection",
            Error::PoolTimeout { .. } => "pool_timeout",
            Error::Config(_) => "config",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::BackendNotEnabled(_) => "backend_not_enabled",
            Error::ConnectionBusy => "connection_busy",
            Error::Database { .. } => "database",
            Error::Query(_) => "query",
            Error::Plugin { .. } => "plugin",
            Error::InvalidCursor { .. } => "invalid_cursor",
            Error::UnknownColumn { .. } => "unknown_column",
            Error::InvalidFilter(_) => "invalid_filter",
            Error::Fixture { .. } => "fixture",
            Error::UnknownDatabase { .. } => "unknown_database",
            Error::CircuitOpen { .. } => "circuit_open",
            Error::ShuttingDown => "shutting_down",
            Error::Migration(_) => "migration",
            Error::MigrationChanged(_) => "migration_changed",
            Error::StaleVersion { .. } => "stale_version",
            Error::Panicked { .. } => "panicked",
            Error::Cancelled => "cancelled",
        }
    }
}

impl From<ValidationErrors> for Error {
    fn from(errors: ValidationErrors) -> Self {
        Error::Validation(errors)
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Self {
        from_diesel(err, &ErrorContext::default())
    }
}
