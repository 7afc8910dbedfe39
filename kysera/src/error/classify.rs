//! Turns Diesel's errors into [`Error`], filling in names each backend reports.
//!
//! Diesel hands over a [`DatabaseErrorKind`] plus the backend's message, and only PostgreSQL
//! also fills in constraint, table and column. Everything else has to be read from the message,
//! and the kind is not always right either (checked against diesel 2.3 and live servers):
//!
//! * MySQL/MariaDB errors arrive as `Unknown` unless diesel knows the error number, and never
//!   with a number attached: a deadlock (1213) arrives as `SerializationFailure`, a lock wait
//!   timeout (1205), a lost connection and MariaDB's CHECK failure (4025) as `Unknown`.
//!   Statements run through `batch_execute` (the text protocol) are always `Unknown`.
//! * PostgreSQL's deadlock (40P01) arrives as `Unknown`; a terminated session as
//!   `ClosedConnection`.
//! * SQLite's "database is locked" arrives as `Unknown`.
//!
//! So transient failures are recognised from the message (anchored at its start, never a
//! substring search that user data in the message could trigger), and an `Unknown` error whose
//! message has the unmistakable shape of a constraint violation is classified as one.
//!
//! Each parser below recognises the message of one backend and returns `None` for anything
//! else, so classification does not depend on `ErrorContext::backend` being set.

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

use super::{BackendKind, Error, ForeignKeyViolation, UniqueViolation};
use crate::column::ColumnInfo;
use crate::mask::mask_password;

/// What the caller knows when an error happens: the backend and, inside a repository, the
/// table and its column-to-field mapping (used to name the field of a unique violation).
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorContext {
    /// Backend that produced the error, if known.
    pub backend: Option<BackendKind>,
    /// Table the statement targeted, if known.
    pub table: Option<&'static str>,
    /// Columns of the model, for mapping a column back to its struct field.
    pub columns: &'static [ColumnInfo],
}

/// Converts a Diesel error into a kysera [`Error`] using what `ctx` knows.
///
/// Constraint violations get the constraint, table and column names the backend reported
/// (falling back to `ctx.table` for the table); deadlocks, serialization failures, busy or
/// locked databases and lost connections become the transient variants that
/// [`Error::is_transient`] recognises. Every stored message is passed through
/// [`mask_password`].
pub fn from_diesel(err: DieselError, ctx: &ErrorContext) -> Error {
    match err {
        DieselError::NotFound => Error::NotFound {
            table: ctx.table.unwrap_or("?").to_string(),
            key: "?".to_string(),
        },
        DieselError::DatabaseError(kind, info) => from_database_error(kind, info.as_ref(), ctx),
        // The commit failed and so did the rollback after it: the commit error is the cause
        // (a serialization failure at COMMIT, typically), so that is what decides retrying.
        DieselError::RollbackErrorOnCommit { commit_error, .. } => from_diesel(*commit_error, ctx),
        // Problems of building a query or converting values: nothing the database said.
        err @ (DieselError::QueryBuilderError(_)
        | DieselError::DeserializationError(_)
        | DieselError::SerializationError(_)
        | DieselError::InvalidCString(_)) => Error::Query(mask_password(&err.to_string())),
        // Transaction-manager states: the variant name (`NotInTransaction`, ...) becomes the
        // kind, so callers can tell them apart without matching on the message.
        err @ (DieselError::RollbackTransaction
        | DieselError::AlreadyInTransaction
        | DieselError::NotInTransaction
        | DieselError::BrokenTransactionManager) => Error::Database {
            kind: format!("{err:?}"),
            message: mask_password(&err.to_string()),
        },
        // `diesel::result::Error` is non-exhaustive.
        other => Error::Query(mask_password(&other.to_string())),
    }
}

fn from_database_error(
    kind: DatabaseErrorKind,
    info: &dyn DatabaseErrorInformation,
    ctx: &ErrorContext,
) -> Error {
    let raw = info.message();
    let message = mask_password(raw);
    if let Some(transient) = transient(kind, raw, &message, ctx) {
        return transient;
    }
    let kind = match kind {
        DatabaseErrorKind::Unknown => kind_from_message(raw).unwrap_or(kind),
        known => known,
    };
    match kind {
        DatabaseErrorKind::UniqueViolation => {
            Error::UniqueViolation(unique_violation(info, ctx, message))
        }
        DatabaseErrorKind::ForeignKeyViolation => {
            Error::ForeignKeyViolation(foreign_key_violation(info, message))
        }
        DatabaseErrorKind::NotNullViolation => {
            let (table, column) = pg_column(info)
                .or_else(|| sqlite_not_null(raw))
                .or_else(|| mysql_not_null(raw))
                .unwrap_or((None, None));
            Error::NotNullViolation {
                table: table.or_else(|| ctx_table(ctx)),
                column,
                message,
            }
        }
        DatabaseErrorKind::CheckViolation => {
            let (constraint, table) = pg_constraint(info)
                .or_else(|| sqlite_check(raw))
                .or_else(|| mariadb_check(raw))
                .or_else(|| mysql_check(raw))
                .unwrap_or((None, None));
            Error::CheckViolation {
                constraint,
                table: table.or_else(|| ctx_table(ctx)),
                message,
            }
        }
        other => Error::Database {
            kind: format!("{other:?}"),
            message,
        },
    }
}

fn ctx_table(ctx: &ErrorContext) -> Option<String> {
    ctx.table.map(str::to_string)
}

// ---------------------------------------------------------------------------------------------
// Transient failures
// ---------------------------------------------------------------------------------------------

/// Deadlock, serialization failure, busy/locked and lost connection, or `None`.
///
/// Only consulted for the kinds these failures arrive as: a message of a constraint violation
/// can quote user data ("Duplicate entry 'Deadlock found...'"), so it is never searched here.
fn transient(
    kind: DatabaseErrorKind,
    raw: &str,
    message: &str,
    ctx: &ErrorContext,
) -> Option<Error> {
    match kind {
        DatabaseErrorKind::Unknown
        | DatabaseErrorKind::SerializationFailure
        | DatabaseErrorKind::ClosedConnection
        | DatabaseErrorKind::UnableToSendCommand => {}
        _ => return None,
    }
    let message = message.to_string();
    if is_deadlock(raw) {
        // Checked before the kind: MySQL's deadlock (1213) arrives as SerializationFailure.
        return Some(Error::Deadlock { message });
    }
    if kind == DatabaseErrorKind::SerializationFailure || is_serialization_failure(raw) {
        return Some(Error::SerializationFailure { message });
    }
    if is_busy(raw) {
        return Some(Error::Busy { message });
    }
    let guessed = lost_connection_backend(raw);
    if kind == DatabaseErrorKind::ClosedConnection || guessed.is_some() {
        // Only diesel's PostgreSQL backend reports ClosedConnection, hence the last fallback.
        let backend = ctx.backend.or(guessed).unwrap_or(BackendKind::Postgres);
        return Some(Error::Connection {
            backend,
            message,
            lost: true,
        });
    }
    None
}

/// PostgreSQL 40P01 "deadlock detected"; MySQL/MariaDB 1213 "Deadlock found when trying to
/// get lock; try restarting transaction".
fn is_deadlock(raw: &str) -> bool {
    raw.starts_with("deadlock detected") || raw.starts_with("Deadlock found")
}

/// PostgreSQL 40001 "could not serialize access due to ..." (diesel maps the SQLSTATE, this
/// covers errors that reach us as `Unknown`).
fn is_serialization_failure(raw: &str) -> bool {
    raw.starts_with("could not serialize access")
}

/// Lock conflicts that did not resolve in time.
fn is_busy(raw: &str) -> bool {
    const PREFIXES: &[&str] = &[
        // MySQL/MariaDB 1205.
        "Lock wait timeout exceeded",
        // SQLite SQLITE_BUSY / SQLITE_LOCKED ("database table is locked: t" in shared cache).
        "database is locked",
        "database table is locked",
        "database schema is locked",
        "database is busy",
        // PostgreSQL 55P03: `lock_timeout` expired, or NOWAIT found the row locked.
        "canceling statement due to lock timeout",
        "could not obtain lock on",
        // MySQL 8 3572: NOWAIT found the row locked.
        "Statement aborted because lock(s) could not be acquired immediately and NOWAIT is set",
    ];
    PREFIXES.iter().any(|p| raw.starts_with(p))
}

/// The backend whose wording says an established connection was lost, or `None`.
fn lost_connection_backend(raw: &str) -> Option<BackendKind> {
    const POSTGRES: &[&str] = &[
        // 57P01 after pg_terminate_backend / shutdown, 57P05 idle-session timeout.
        "terminating connection",
        // libpq once the socket is gone.
        "server closed the connection unexpectedly",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "SSL connection has been closed unexpectedly",
        "connection to server was lost",
    ];
    const MYSQL: &[&str] = &[
        // CR_SERVER_LOST (2013): MariaDB Connector/C and libmysqlclient spellings.
        "Lost connection to server",
        "Lost connection to MySQL server",
        // CR_SERVER_GONE_ERROR (2006).
        "Server has gone away",
        "MySQL server has gone away",
        // MariaDB ER_CONNECTION_KILLED (1927).
        "Connection was killed",
    ];
    if POSTGRES.iter().any(|p| raw.starts_with(p)) {
        Some(BackendKind::Postgres)
    } else if MYSQL.iter().any(|p| raw.starts_with(p)) {
        Some(BackendKind::Mysql)
    } else {
        None
    }
}

/// The constraint kind an `Unknown` error's message unmistakably describes.
///
/// Needed for MariaDB's CHECK failure (4025, unknown to diesel) and for anything run through
/// `batch_execute`, where MySQL errors never get a kind.
fn kind_from_message(raw: &str) -> Option<DatabaseErrorKind> {
    if mariadb_check(raw).is_some() || mysql_check(raw).is_some() || sqlite_check(raw).is_some() {
        Some(DatabaseErrorKind::CheckViolation)
    } else if mysql_duplicate_key(raw).is_some() || sqlite_unique(raw).is_some() {
        Some(DatabaseErrorKind::UniqueViolation)
    } else if mysql_foreign_key(raw).is_some() || raw.starts_with("FOREIGN KEY constraint failed") {
        Some(DatabaseErrorKind::ForeignKeyViolation)
    } else if mysql_not_null(raw).is_some() || sqlite_not_null(raw).is_some() {
        Some(DatabaseErrorKind::NotNullViolation)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Unique violations
// ---------------------------------------------------------------------------------------------

/// What a unique-violation message names.
#[derive(Debug, Default, PartialEq, Eq)]
struct UniqueNames {
    constraint: Option<String>,
    table: Option<String>,
    columns: Vec<String>,
}

fn unique_violation(
    info: &dyn DatabaseErrorInformation,
    ctx: &ErrorContext,
    message: String,
) -> UniqueViolation {
    let raw = info.message();
    let mut names = pg_unique(info)
        .or_else(|| sqlite_unique(raw))
        .or_else(|| mysql_duplicate_key(raw))
        .unwrap_or_default();
    if names.table.is_none() {
        names.table = ctx_table(ctx);
    }
    if names.columns.is_empty() {
        // MySQL names only the key (and PostgreSQL omits the detail when the user may not
        // read the columns): derive the columns from the key name where it is unambiguous.
        if let Some(constraint) = &names.constraint {
            names.columns = columns_from_key_name(constraint, names.table.as_deref(), ctx.columns);
        }
    }
    let field = field_of(&names.columns, ctx);
    UniqueViolation {
        constraint: names.constraint,
        table: names.table,
        columns: names.columns,
        field,
        message,
    }
}

/// The model's field for a key of exactly one column the model maps.
pub(crate) fn field_of(columns: &[String], ctx: &ErrorContext) -> Option<String> {
    match columns {
        [only] => ctx
            .columns
            .iter()
            .find(|c| c.column == only)
            .map(|c| c.field.to_string()),
        _ => None,
    }
}

/// PostgreSQL: constraint and table from the error fields, columns from the detail
/// `Key (email)=(a@x) already exists.` / `Key (tenant, handle)=(1, ann) already exists.`
fn pg_unique(info: &dyn DatabaseErrorInformation) -> Option<UniqueNames> {
    let constraint = info.constraint_name()?.to_string();
    Some(UniqueNames {
        constraint: Some(constraint),
        table: info.table_name().map(str::to_string),
        columns: info.details().and_then(pg_key_columns).unwrap_or_default(),
    })
}

/// The column list of PostgreSQL's `Key (a, b)=(...) ...` detail, unquoted.
///
/// Expression indexes show the expression (`lower(email::text)`); it is kept as reported.
fn pg_key_columns(details: &str) -> Option<Vec<String>> {
    let rest = details.strip_prefix("Key (")?;
    let list = &rest[..rest.find(")=(")?];
    Some(split_top_level(list).into_iter().map(unquote_pg).collect())
}

/// Splits `a, lower(b, c), "d"` at the commas outside parentheses and quotes.
fn split_top_level(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0usize);
    for (i, ch) in list.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                parts.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(list[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// `"Email"` -> `Email` (a doubled quote inside stands for one quote).
fn unquote_pg(ident: &str) -> String {
    match ident.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => ident.to_string(),
    }
}

/// SQLite: `UNIQUE constraint failed: users.email`, `... users.tenant, users.handle`
/// (also for primary keys), or `UNIQUE constraint failed: index 'name'` for expression indexes.
fn sqlite_unique(raw: &str) -> Option<UniqueNames> {
    let rest = raw.strip_prefix("UNIQUE constraint failed: ")?;
    if let Some(index) = rest.strip_prefix("index '") {
        let name = index.strip_suffix('\'').unwrap_or(index);
        return Some(UniqueNames {
            constraint: Some(name.to_string()),
            ..UniqueNames::default()
        });
    }
    let mut names = UniqueNames::default();
    for qualified in rest.split(", ") {
        match qualified.split_once('.') {
            Some((table, column)) => {
                names.table.get_or_insert_with(|| table.to_string());
                names.columns.push(column.to_string());
            }
            None => names.columns.push(qualified.to_string()),
        }
    }
    Some(names)
}

/// MySQL/MariaDB 1062/1586: `Duplicate entry 'a@x' for key 'email'`; MySQL 8 qualifies the key
/// (`'users.email'`), which gives the table. Only the key name is known here.
fn mysql_duplicate_key(raw: &str) -> Option<UniqueNames> {
    if !raw.starts_with("Duplicate entry") {
        return None;
    }
    // The entry quotes user data, which may itself contain " for key '": take the last one.
    let key = &raw[raw.rfind(" for key '")? + " for key '".len()..];
    let key = key.strip_suffix('\'').unwrap_or(key);
    let (table, key) = match key.rsplit_once('.') {
        Some((table, key)) => (Some(table.to_string()), key),
        None => (None, key),
    };
    Some(UniqueNames {
        constraint: Some(key.to_string()),
        table,
        columns: Vec::new(),
    })
}

/// The columns a key name stands for, using the model's columns; empty when unsure.
///
/// Recognises MySQL's `PRIMARY`, a key named after its column (MySQL's default for a
/// single-column UNIQUE), and PostgreSQL's default names `<table>_<col>[_<col>...]_key` and
/// `<table>_pkey`, which MySQL users often copy.
fn columns_from_key_name(key: &str, table: Option<&str>, columns: &[ColumnInfo]) -> Vec<String> {
    let primary_key = || {
        columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.column.to_string())
            .collect()
    };
    if key == "PRIMARY" {
        return primary_key();
    }
    if columns.iter().any(|c| c.column == key) {
        return vec![key.to_string()];
    }
    let Some(unprefixed) = table.and_then(|t| key.strip_prefix(t)?.strip_prefix('_')) else {
        return Vec::new();
    };
    if unprefixed == "pkey" {
        return primary_key();
    }
    unprefixed
        .strip_suffix("_key")
        .and_then(|joined| split_into_columns(joined, columns))
        .unwrap_or_default()
}

/// Splits `tenant_handle` into known column names (`tenant`, `handle`), trying every way a
/// column name containing `_` could match; `None` unless the whole text is consumed.
fn split_into_columns(joined: &str, columns: &[ColumnInfo]) -> Option<Vec<String>> {
    if joined.is_empty() {
        return Some(Vec::new());
    }
    columns.iter().find_map(|c| {
        let rest = joined.strip_prefix(c.column)?;
        let rest = match rest.strip_prefix('_') {
            Some(after) if !after.is_empty() => after,
            _ if rest.is_empty() => rest,
            _ => return None,
        };
        let mut tail = split_into_columns(rest, columns)?;
        tail.insert(0, c.column.to_string());
        Some(tail)
    })
}

// ---------------------------------------------------------------------------------------------
// Foreign keys
// ---------------------------------------------------------------------------------------------

/// What a foreign-key message names: constraint, referencing table, referenced table.
type ForeignKeyNames = (Option<String>, Option<String>, Option<String>);

fn foreign_key_violation(
    info: &dyn DatabaseErrorInformation,
    message: String,
) -> ForeignKeyViolation {
    // SQLite says only "FOREIGN KEY constraint failed". The statement's table (ctx.table) is
    // not used as a fallback: a DELETE of a parent targets the referenced table, not the
    // referencing one this field names.
    let (constraint, table, referenced_table) = pg_foreign_key(info)
        .or_else(|| mysql_foreign_key(info.message()))
        .unwrap_or_default();
    ForeignKeyViolation {
        constraint,
        table,
        referenced_table,
        message,
    }
}

/// PostgreSQL: constraint and referencing table from the error fields; the referenced table
/// from `Key (author_id)=(99) is not present in table "users".` (insert/update of a child) or
/// from the message `update or delete on table "users" violates ...` (delete of a parent,
/// whose detail names the referencing table: `... is still referenced from table "posts".`).
fn pg_foreign_key(info: &dyn DatabaseErrorInformation) -> Option<ForeignKeyNames> {
    let constraint = info.constraint_name()?.to_string();
    let details = info.details().unwrap_or("");
    let mut table = info.table_name().map(str::to_string);
    let referenced = if let Some(parent) = quoted_after(details, "is not present in table \"") {
        Some(parent)
    } else if let Some(child) = quoted_after(details, "is still referenced from table \"") {
        table.get_or_insert(child);
        quoted_after(info.message(), "update or delete on table \"")
    } else {
        None
    };
    Some((Some(constraint), table, referenced))
}

/// The text between `prefix` and the next `"` (PostgreSQL quotes names with `"`).
fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)? + prefix.len();
    let len = text[start..].find('"')?;
    Some(text[start..start + len].to_string())
}

/// MySQL/MariaDB 1451/1452: `Cannot add or update a child row: a foreign key constraint fails
/// (`test`.`posts`, CONSTRAINT `posts_ibfk_1` FOREIGN KEY (`author_id`) REFERENCES `users`
/// (`id`))`. The parenthesised part reads the same for both directions.
fn mysql_foreign_key(raw: &str) -> Option<ForeignKeyNames> {
    let rest = &raw[raw.find("a foreign key constraint fails (")?
        + "a foreign key constraint fails (".len()..];
    let (child, rest) = rest.split_once(", CONSTRAINT ")?;
    let constraint = first_backticked(rest);
    let referenced = rest
        .split_once(" REFERENCES ")
        .and_then(|(_, after)| after.split_once(" (").map(|(target, _)| target))
        .and_then(last_backticked);
    Some((constraint, last_backticked(child), referenced))
}

/// `name` from "`name` ...".
fn first_backticked(text: &str) -> Option<String> {
    let inner = text.strip_prefix('`')?;
    Some(inner[..inner.find('`')?].to_string())
}

/// `posts` from "`test`.`posts`" (or from "`posts`").
fn last_backticked(text: &str) -> Option<String> {
    let inner = text.trim().strip_suffix('`')?;
    Some(inner[inner.rfind('`')? + 1..].to_string())
}

// ---------------------------------------------------------------------------------------------
// NOT NULL and CHECK
// ---------------------------------------------------------------------------------------------

/// (table, column) or (constraint, table), as the parsers below return them.
type NamePair = (Option<String>, Option<String>);

/// PostgreSQL fills in table and column of a not-null violation.
fn pg_column(info: &dyn DatabaseErrorInformation) -> Option<NamePair> {
    let column = info.column_name()?.to_string();
    Some((info.table_name().map(str::to_string), Some(column)))
}

/// SQLite: `NOT NULL constraint failed: users.name`.
fn sqlite_not_null(raw: &str) -> Option<NamePair> {
    let rest = raw.strip_prefix("NOT NULL constraint failed: ")?;
    Some(match rest.split_once('.') {
        Some((table, column)) => (Some(table.to_string()), Some(column.to_string())),
        None => (None, Some(rest.to_string())),
    })
}

/// MySQL/MariaDB: `Column 'name' cannot be null` (1048) or, for an omitted column without a
/// default in strict mode, `Field 'name' doesn't have a default value` (1364).
fn mysql_not_null(raw: &str) -> Option<NamePair> {
    let column = raw
        .strip_prefix("Column '")
        .and_then(|r| r.strip_suffix("' cannot be null"))
        .or_else(|| {
            raw.strip_prefix("Field '")?
                .strip_suffix("' doesn't have a default value")
        })?;
    Some((None, Some(column.to_string())))
}

/// PostgreSQL fills in constraint and table of a check violation.
fn pg_constraint(info: &dyn DatabaseErrorInformation) -> Option<NamePair> {
    let constraint = info.constraint_name()?.to_string();
    Some((Some(constraint), info.table_name().map(str::to_string)))
}

/// SQLite: `CHECK constraint failed: age_positive`; an unnamed check reports its expression
/// (`CHECK constraint failed: length(name) > 0`), which is then what `constraint` holds.
fn sqlite_check(raw: &str) -> Option<NamePair> {
    let name = raw.strip_prefix("CHECK constraint failed: ")?;
    Some((Some(name.to_string()), None))
}

/// MariaDB 4025: ``CONSTRAINT `age_positive` failed for `test`.`users` `` (unnamed checks are
/// numbered `CONSTRAINT_1`, ...).
fn mariadb_check(raw: &str) -> Option<NamePair> {
    let rest = raw.strip_prefix("CONSTRAINT `")?;
    let (name, target) = rest.split_once("` failed for ")?;
    Some((Some(name.to_string()), last_backticked(target)))
}

/// MySQL 8 3819: `Check constraint 'age_positive' is violated.`
fn mysql_check(raw: &str) -> Option<NamePair> {
    let name = raw
        .strip_prefix("Check constraint '")?
        .strip_suffix("' is violated.")?;
    Some((Some(name.to_string()), None))
}

#[cfg(test)]
mod tests {
    //! The parsers against messages captured from PostgreSQL 15, MariaDB 10.11 and SQLite
    //! (bundled, libsqlite3-sys 0.38) through diesel 2.3.14; the MySQL 8 spellings are from
    //! its error reference. Live-server tests live in the integration suite.

    use super::*;

    /// An error as diesel's PostgreSQL backend reports it: message plus the extra fields.
    #[derive(Default)]
    struct PgInfo {
        message: &'static str,
        details: Option<&'static str>,
        table: Option<&'static str>,
        column: Option<&'static str>,
        constraint: Option<&'static str>,
    }

    impl DatabaseErrorInformation for PgInfo {
        fn message(&self) -> &str {
            self.message
        }
        fn details(&self) -> Option<&str> {
            self.details
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            self.table
        }
        fn column_name(&self) -> Option<&str> {
            self.column
        }
        fn constraint_name(&self) -> Option<&str> {
            self.constraint
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    const fn col(field: &'static str, column: &'static str, primary_key: bool) -> ColumnInfo {
        ColumnInfo {
            field,
            column,
            nullable: false,
            primary_key,
            generated: false,
            insertable: true,
            updatable: !primary_key,
            kind: crate::column::SqlKind::Text,
        }
    }

    static USERS: &[ColumnInfo] = &[
        col("id", "id", true),
        col("email_address", "email", false),
        col("full_name", "name", false),
        col("tenant_id", "tenant", false),
        col("handle", "handle", false),
    ];

    fn users_ctx(backend: BackendKind) -> ErrorContext {
        ErrorContext {
            backend: Some(backend),
            table: Some("users"),
            columns: USERS,
        }
    }

    fn db(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_string()))
    }

    fn pg(kind: DatabaseErrorKind, info: PgInfo) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(info))
    }

    fn unique(err: Error) -> UniqueViolation {
        match err {
            Error::UniqueViolation(v) => v,
            other => panic!("expected UniqueViolation, got {other:?}"),
        }
    }

    fn foreign_key(err: Error) -> ForeignKeyViolation {
        match err {
            Error::ForeignKeyViolation(v) => v,
            other => panic!("expected ForeignKeyViolation, got {other:?}"),
        }
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    // --- unique -------------------------------------------------------------------------------

    #[test]
    fn postgres_unique_single_column() {
        let err = pg(
            DatabaseErrorKind::UniqueViolation,
            PgInfo {
                message: "duplicate key value violates unique constraint \"users_email_key\"",
                details: Some("Key (email)=(a@x) already exists."),
                table: Some("users"),
                constraint: Some("users_email_key"),
                ..PgInfo::default()
            },
        );
        let v = unique(from_diesel(err, &users_ctx(BackendKind::Postgres)));
        assert_eq!(v.constraint, s("users_email_key"));
        assert_eq!(v.table, s("users"));
        assert_eq!(v.columns, ["email"]);
        assert_eq!(v.field, s("email_address"));
    }

    #[test]
    fn postgres_unique_composite_and_quoted() {
        assert_eq!(
            pg_key_columns("Key (tenant, handle)=(1, ann) already exists."),
            Some(vec!["tenant".to_string(), "handle".to_string()])
        );
        assert_eq!(
            pg_key_columns("Key (\"Email\", lower(name::text))=(x, y) already exists."),
            Some(vec!["Email".to_string(), "lower(name::text)".to_string()])
        );
        let err = pg(
            DatabaseErrorKind::UniqueViolation,
            PgInfo {
                message:
                    "duplicate key value violates unique constraint \"users_tenant_handle_key\"",
                details: Some("Key (tenant, handle)=(1, ann) already exists."),
                table: Some("users"),
                constraint: Some("users_tenant_handle_key"),
                ..PgInfo::default()
            },
        );
        let v = unique(from_diesel(err, &users_ctx(BackendKind::Postgres)));
        assert_eq!(v.columns, ["tenant", "handle"]);
        assert_eq!(v.field, None);
    }

    #[test]
    fn postgres_unique_without_detail_uses_constraint_name() {
        let err = pg(
            DatabaseErrorKind::UniqueViolation,
            PgInfo {
                message: "duplicate key value violates unique constraint \"users_pkey\"",
                table: Some("users"),
                constraint: Some("users_pkey"),
                ..PgInfo::default()
            },
        );
        let v = unique(from_diesel(err, &users_ctx(BackendKind::Postgres)));
        assert_eq!((v.columns, v.field), (vec!["id".to_string()], s("id")));
    }

    #[test]
    fn sqlite_unique_single_composite_and_primary_key() {
        let ctx = users_ctx(BackendKind::Sqlite);
        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "UNIQUE constraint failed: users.email",
            ),
            &ctx,
        ));
        assert_eq!((v.constraint, v.table.as_deref()), (None, Some("users")));
        assert_eq!(
            (v.columns, v.field),
            (vec!["email".to_string()], s("email_address"))
        );

        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "UNIQUE constraint failed: users.tenant, users.handle",
            ),
            &ctx,
        ));
        assert_eq!(
            (v.columns, v.field),
            (vec!["tenant".to_string(), "handle".to_string()], None)
        );

        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "UNIQUE constraint failed: users.id",
            ),
            &ctx,
        ));
        assert_eq!(v.field, s("id"));

        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "UNIQUE constraint failed: index 'users_lower_email'",
            ),
            &ctx,
        ));
        assert_eq!((v.constraint, v.columns), (s("users_lower_email"), vec![]));
    }

    #[test]
    fn mysql_unique_key_names() {
        let ctx = users_ctx(BackendKind::Mysql);
        // MariaDB: the key is named after its column.
        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "Duplicate entry 'a@x' for key 'email'",
            ),
            &ctx,
        ));
        assert_eq!(
            (v.constraint.as_deref(), v.table.as_deref()),
            (Some("email"), Some("users"))
        );
        assert_eq!(
            (v.columns, v.field),
            (vec!["email".to_string()], s("email_address"))
        );

        // MySQL 8 qualifies the key with the table.
        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "Duplicate entry 'a@x' for key 'accounts.email'",
            ),
            &ctx,
        ));
        assert_eq!(
            (v.constraint.as_deref(), v.table.as_deref()),
            (Some("email"), Some("accounts"))
        );
        assert_eq!(v.field, s("email_address"));

        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "Duplicate entry '1' for key 'PRIMARY'",
            ),
            &ctx,
        ));
        assert_eq!((v.columns, v.field), (vec!["id".to_string()], s("id")));

        // PostgreSQL-style names, composite and single.
        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "Duplicate entry '1-ann' for key 'users_tenant_handle_key'",
            ),
            &ctx,
        ));
        assert_eq!(v.constraint.as_deref(), Some("users_tenant_handle_key"));
        assert_eq!(
            (v.columns, v.field),
            (vec!["tenant".to_string(), "handle".to_string()], None)
        );
        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "Duplicate entry 'x' for key 'users_email_key'",
            ),
            &ctx,
        ));
        assert_eq!(v.field, s("email_address"));

        // User data that looks like the message itself, and an unknown key name.
        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "Duplicate entry 'x' for key 'y' for key 'uniq_thing'",
            ),
            &ctx,
        ));
        assert_eq!(
            (v.constraint.as_deref(), v.columns),
            (Some("uniq_thing"), vec![])
        );
    }

    #[test]
    fn split_into_columns_backtracks_over_underscores() {
        static COLS: &[ColumnInfo] = &[
            col("a", "user", false),
            col("b", "user_id", false),
            col("c", "kind", false),
        ];
        assert_eq!(
            split_into_columns("user_id_kind", COLS),
            Some(vec!["user_id".to_string(), "kind".to_string()])
        );
        assert_eq!(
            split_into_columns("user_kind", COLS).map(|v| v.len()),
            Some(2)
        );
        assert_eq!(split_into_columns("user_x", COLS), None);
        assert_eq!(
            columns_from_key_name("t_user_id_key", Some("t"), COLS),
            ["user_id"]
        );
        assert!(columns_from_key_name("t_user_id_key", None, COLS).is_empty());
    }

    #[test]
    fn unique_table_falls_back_to_context() {
        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::UniqueViolation,
                "Duplicate entry 'a@x' for key 'email'",
            ),
            &ErrorContext {
                table: Some("members"),
                ..ErrorContext::default()
            },
        ));
        assert_eq!(v.table, s("members"));
        // Without the model's columns, nothing is guessed.
        assert_eq!((v.columns, v.field), (vec![], None));
    }

    // --- foreign keys ---------------------------------------------------------------------------

    #[test]
    fn postgres_foreign_key_both_directions() {
        let insert = pg(DatabaseErrorKind::ForeignKeyViolation, PgInfo {
            message: "insert or update on table \"posts\" violates foreign key constraint \"posts_author_id_fkey\"",
            details: Some("Key (author_id)=(99) is not present in table \"users\"."),
            table: Some("posts"),
            constraint: Some("posts_author_id_fkey"),
            ..PgInfo::default()
        });
        let v = foreign_key(from_diesel(insert, &ErrorContext::default()));
        assert_eq!(
            (
                v.constraint.as_deref(),
                v.table.as_deref(),
                v.referenced_table.as_deref()
            ),
            (Some("posts_author_id_fkey"), Some("posts"), Some("users"))
        );
        let delete = pg(DatabaseErrorKind::ForeignKeyViolation, PgInfo {
            message: "update or delete on table \"users\" violates foreign key constraint \"posts_author_id_fkey\" on table \"posts\"",
            details: Some("Key (id)=(1) is still referenced from table \"posts\"."),
            table: Some("posts"),
            constraint: Some("posts_author_id_fkey"),
            ..PgInfo::default()
        });
        let v = foreign_key(from_diesel(delete, &ErrorContext::default()));
        assert_eq!(
            (v.table.as_deref(), v.referenced_table.as_deref()),
            (Some("posts"), Some("users"))
        );
    }

    #[test]
    fn mysql_foreign_key_both_directions() {
        for message in [
            "Cannot add or update a child row: a foreign key constraint fails (`test`.`posts`, CONSTRAINT `posts_ibfk_1` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`))",
            "Cannot delete or update a parent row: a foreign key constraint fails (`test`.`posts`, CONSTRAINT `posts_ibfk_1` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`))",
        ] {
            let v = foreign_key(from_diesel(
                db(DatabaseErrorKind::ForeignKeyViolation, message),
                &ErrorContext::default(),
            ));
            assert_eq!(
                (v.constraint.as_deref(), v.table.as_deref(), v.referenced_table.as_deref()),
                (Some("posts_ibfk_1"), Some("posts"), Some("users"))
            );
        }
        // Cross-database reference, and the short form without details (1216/1217).
        assert_eq!(
            mysql_foreign_key("Cannot add or update a child row: a foreign key constraint fails (`app`.`posts`, CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `other`.`users` (`id`) ON DELETE CASCADE)"),
            Some((s("fk"), s("posts"), s("users")))
        );
        assert_eq!(
            mysql_foreign_key("Cannot add or update a child row: a foreign key constraint fails"),
            None
        );
    }

    #[test]
    fn sqlite_foreign_key_names_nothing() {
        let v = foreign_key(from_diesel(
            db(
                DatabaseErrorKind::ForeignKeyViolation,
                "FOREIGN KEY constraint failed",
            ),
            &users_ctx(BackendKind::Sqlite),
        ));
        assert_eq!(
            (v.constraint, v.table, v.referenced_table),
            (None, None, None)
        );
    }

    // --- not null and check --------------------------------------------------------------------

    #[test]
    fn not_null_on_every_backend() {
        let ctx = users_ctx(BackendKind::Mysql);
        let cases = [
            pg(DatabaseErrorKind::NotNullViolation, PgInfo {
                message: "null value in column \"name\" of relation \"users\" violates not-null constraint",
                details: Some("Failing row contains (3, d@x, null, null, null, null)."),
                table: Some("users"),
                column: Some("name"),
                ..PgInfo::default()
            }),
            db(DatabaseErrorKind::NotNullViolation, "NOT NULL constraint failed: users.name"),
            db(DatabaseErrorKind::NotNullViolation, "Column 'name' cannot be null"),
            db(DatabaseErrorKind::NotNullViolation, "Field 'name' doesn't have a default value"),
        ];
        for err in cases {
            match from_diesel(err, &ctx) {
                Error::NotNullViolation { table, column, .. } => {
                    assert_eq!(
                        (table.as_deref(), column.as_deref()),
                        (Some("users"), Some("name"))
                    )
                }
                other => panic!("expected NotNullViolation, got {other:?}"),
            }
        }
    }

    #[test]
    fn check_on_every_backend() {
        let ctx = users_ctx(BackendKind::Sqlite);
        let cases = [
            (
                pg(DatabaseErrorKind::CheckViolation, PgInfo {
                    message: "new row for relation \"users\" violates check constraint \"users_age_positive\"",
                    details: Some("Failing row contains (1, a@x, Ann, -1, 1, ann)."),
                    table: Some("users"),
                    constraint: Some("users_age_positive"),
                    ..PgInfo::default()
                }),
                "users_age_positive",
            ),
            (db(DatabaseErrorKind::CheckViolation, "CHECK constraint failed: users_age_positive"), "users_age_positive"),
            (db(DatabaseErrorKind::CheckViolation, "CHECK constraint failed: length(name) > 0"), "length(name) > 0"),
            // MariaDB 4025 is unknown to diesel.
            (db(DatabaseErrorKind::Unknown, "CONSTRAINT `users_age_positive` failed for `test`.`users`"), "users_age_positive"),
            (db(DatabaseErrorKind::Unknown, "CONSTRAINT `CONSTRAINT_1` failed for `test`.`users`"), "CONSTRAINT_1"),
            (db(DatabaseErrorKind::CheckViolation, "Check constraint 'users_age_positive' is violated."), "users_age_positive"),
        ];
        for (err, want) in cases {
            match from_diesel(err, &ctx) {
                Error::CheckViolation {
                    constraint, table, ..
                } => {
                    assert_eq!(
                        (constraint.as_deref(), table.as_deref()),
                        (Some(want), Some("users"))
                    )
                }
                other => panic!("expected CheckViolation, got {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_kind_is_classified_from_the_message() {
        // What MySQL reports through batch_execute (text protocol): always Unknown.
        let ctx = users_ctx(BackendKind::Mysql);
        let v = unique(from_diesel(
            db(
                DatabaseErrorKind::Unknown,
                "Duplicate entry 'a@x' for key 'email'",
            ),
            &ctx,
        ));
        assert_eq!(v.field, s("email_address"));
        assert!(matches!(
            from_diesel(
                db(DatabaseErrorKind::Unknown, "Column 'name' cannot be null"),
                &ctx
            ),
            Error::NotNullViolation { .. }
        ));
        assert!(matches!(
            from_diesel(
                db(DatabaseErrorKind::Unknown, "FOREIGN KEY constraint failed"),
                &ctx
            ),
            Error::ForeignKeyViolation(_)
        ));
        match from_diesel(
            db(
                DatabaseErrorKind::Unknown,
                "Table 'test.nope' doesn't exist",
            ),
            &ctx,
        ) {
            Error::Database { kind, .. } => assert_eq!(kind, "Unknown"),
            other => panic!("expected Database, got {other:?}"),
        }
    }

    // --- transient -----------------------------------------------------------------------------

    fn classify(kind: DatabaseErrorKind, message: &str, backend: Option<BackendKind>) -> Error {
        from_diesel(
            db(kind, message),
            &ErrorContext {
                backend,
                ..ErrorContext::default()
            },
        )
    }

    #[test]
    fn deadlocks() {
        // PostgreSQL 40P01 (Unknown to diesel), MySQL 1213 (diesel: SerializationFailure).
        for (kind, message) in [
            (DatabaseErrorKind::Unknown, "deadlock detected"),
            (
                DatabaseErrorKind::SerializationFailure,
                "Deadlock found when trying to get lock; try restarting transaction",
            ),
        ] {
            let err = classify(kind, message, None);
            assert!(matches!(err, Error::Deadlock { .. }), "{message}: {err:?}");
            assert!(err.is_transient());
        }
    }

    #[test]
    fn serialization_failures() {
        for message in [
            "could not serialize access due to read/write dependencies among transactions",
            "could not serialize access due to concurrent update",
        ] {
            let err = classify(DatabaseErrorKind::SerializationFailure, message, None);
            assert!(matches!(err, Error::SerializationFailure { .. }), "{err:?}");
        }
        // The commit failed, then the rollback too: the commit error decides.
        let err = from_diesel(
            DieselError::RollbackErrorOnCommit {
                rollback_error: Box::new(db(
                    DatabaseErrorKind::ClosedConnection,
                    "no connection to the server\n",
                )),
                commit_error: Box::new(db(
                    DatabaseErrorKind::SerializationFailure,
                    "could not serialize access due to concurrent update",
                )),
            },
            &ErrorContext::default(),
        );
        assert!(matches!(err, Error::SerializationFailure { .. }), "{err:?}");
    }

    #[test]
    fn busy_and_lock_timeouts() {
        for message in [
            "database is locked",
            "database table is locked: users",
            "database is busy",
            "Lock wait timeout exceeded; try restarting transaction",
            "canceling statement due to lock timeout",
            "could not obtain lock on row in relation \"users\"",
        ] {
            let err = classify(DatabaseErrorKind::Unknown, message, None);
            assert!(matches!(err, Error::Busy { .. }), "{message}: {err:?}");
            assert!(err.is_transient());
        }
    }

    #[test]
    fn lost_connections_and_backend_guess() {
        let cases = [
            (DatabaseErrorKind::ClosedConnection, "terminating connection due to administrator command", BackendKind::Postgres),
            (DatabaseErrorKind::UnableToSendCommand, "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.\n", BackendKind::Postgres),
            (DatabaseErrorKind::ClosedConnection, "no connection to the server\n", BackendKind::Postgres),
            (DatabaseErrorKind::Unknown, "Lost connection to server during query", BackendKind::Mysql),
            (DatabaseErrorKind::Unknown, "Lost connection to MySQL server during query", BackendKind::Mysql),
            (DatabaseErrorKind::Unknown, "Server has gone away", BackendKind::Mysql),
            (DatabaseErrorKind::Unknown, "MySQL server has gone away", BackendKind::Mysql),
        ];
        for (kind, message, backend) in cases {
            match classify(kind, message, None) {
                Error::Connection {
                    backend: b,
                    lost: true,
                    ..
                } => assert_eq!(b, backend, "{message}"),
                other => panic!("{message}: expected lost connection, got {other:?}"),
            }
        }
        // The context wins over the guess.
        match classify(
            DatabaseErrorKind::ClosedConnection,
            "whatever",
            Some(BackendKind::Mysql),
        ) {
            Error::Connection {
                backend,
                lost: true,
                ..
            } => assert_eq!(backend, BackendKind::Mysql),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn user_data_never_triggers_transient_classification() {
        let err = classify(
            DatabaseErrorKind::UniqueViolation,
            "Duplicate entry 'Deadlock found' for key 'email'",
            Some(BackendKind::Mysql),
        );
        assert!(matches!(err, Error::UniqueViolation(_)), "{err:?}");
    }

    // --- other diesel errors and masking -------------------------------------------------------

    #[test]
    fn non_database_errors() {
        let ctx = ErrorContext {
            table: Some("users"),
            ..ErrorContext::default()
        };
        match from_diesel(DieselError::NotFound, &ctx) {
            Error::NotFound { table, key } => {
                assert_eq!((table.as_str(), key.as_str()), ("users", "?"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_diesel(DieselError::NotFound, &ErrorContext::default()),
            Error::NotFound { table, .. } if table == "?"
        ));
        for (err, want) in [
            (DieselError::RollbackTransaction, "RollbackTransaction"),
            (DieselError::AlreadyInTransaction, "AlreadyInTransaction"),
            (DieselError::NotInTransaction, "NotInTransaction"),
            (
                DieselError::BrokenTransactionManager,
                "BrokenTransactionManager",
            ),
        ] {
            match from_diesel(err, &ctx) {
                Error::Database { kind, .. } => assert_eq!(kind, want),
                other => panic!("{other:?}"),
            }
        }
        let decode =
            DieselError::DeserializationError("Unexpected null for non-null column".into());
        assert!(
            matches!(from_diesel(decode, &ctx), Error::Query(m) if m.contains("Unexpected null"))
        );
        let build = DieselError::QueryBuilderError("There are no changes to save".into());
        assert!(matches!(from_diesel(build, &ctx), Error::Query(_)));
        let nul = std::ffi::CString::new("a\0b").map(|_| ()).err();
        if let Some(nul) = nul {
            assert!(matches!(
                from_diesel(DieselError::InvalidCString(nul), &ctx),
                Error::Query(_)
            ));
        }
    }

    #[test]
    fn passwords_are_masked() {
        let err = classify(
            DatabaseErrorKind::Unknown,
            "could not connect to postgres://app:hunter2@db/app",
            Some(BackendKind::Postgres),
        );
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = from_diesel(
            DieselError::QueryBuilderError("bad url mysql://root:hunter2@db/x".into()),
            &ErrorContext::default(),
        );
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
