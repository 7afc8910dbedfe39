//! Turns Diesel's errors into [`Error`], filling in names each backend reports.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::{BackendKind, Error, ForeignKeyViolation, UniqueViolation};
use crate::model::ColumnInfo;

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
pub fn from_diesel(err: DieselError, ctx: &ErrorContext) -> Error {
    match err {
        DieselError::NotFound => Error::NotFound {
            table: ctx.table.unwrap_or("?").to_string(),
            key: "?".to_string(),
        },
        DieselError::DatabaseError(kind, info) => {
            let message = info.message().to_string();
            match kind {
                DatabaseErrorKind::UniqueViolation => Error::UniqueViolation(UniqueViolation {
                    constraint: info.constraint_name().map(str::to_string),
                    table: info.table_name().map(str::to_string).or(ctx.table.map(str::to_string)),
                    columns: Vec::new(),
                    field: None,
                    message,
                }),
                DatabaseErrorKind::ForeignKeyViolation => {
                    Error::ForeignKeyViolation(ForeignKeyViolation {
                        constraint: info.constraint_name().map(str::to_string),
                        table: info.table_name().map(str::to_string),
                        referenced_table: None,
                        message,
                    })
                }
                DatabaseErrorKind::NotNullViolation => Error::NotNullViolation {
                    table: info.table_name().map(str::to_string),
                    column: info.column_name().map(str::to_string),
                    message,
                },
                DatabaseErrorKind::CheckViolation => Error::CheckViolation {
                    constraint: info.constraint_name().map(str::to_string),
                    table: info.table_name().map(str::to_string),
                    message,
                },
                DatabaseErrorKind::SerializationFailure => Error::SerializationFailure { message },
                DatabaseErrorKind::ClosedConnection => Error::Connection {
                    backend: ctx.backend.unwrap_or(BackendKind::Sqlite),
                    message,
                    lost: true,
                },
                other => Error::Database { kind: format!("{other:?}"), message },
            }
        }
        other => Error::Query(other.to_string()),
    }
}
