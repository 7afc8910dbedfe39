//! What the derive knows about a column ([`ColumnInfo`], [`SqlKind`]): plain data, at the
//! bottom of the crate, so errors can name fields and filters can read types without
//! importing the model layer.

/// One column of a model, as the derive saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Name of the struct field.
    pub field: &'static str,
    /// Name of the column in the database.
    pub column: &'static str,
    /// True for `Option<T>` fields.
    pub nullable: bool,
    /// True for the primary key.
    pub primary_key: bool,
    /// True for columns the database fills in (not part of the Create struct).
    pub generated: bool,
    /// True for columns the Create struct sets (managed timestamps included, the soft-delete
    /// column and `generated` ones not).
    pub insertable: bool,
    /// True for columns an Update struct may change (not the key, `generated`, `skip_update`,
    /// `created_at` or the soft-delete column).
    pub updatable: bool,
    /// The kind of value the column holds, as far as the derive knows it.
    pub kind: SqlKind,
}

/// The kind of value a column holds: the portable Diesel SQL type of its field.
///
/// Keyset pagination binds a cursor's values with this type, so a value is compared with a
/// column of its own type (a PostgreSQL `TIMESTAMP` column with a timestamp, not with text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlKind {
    /// `SMALLINT` (`i16`).
    SmallInt,
    /// `INTEGER` (`i32`).
    Integer,
    /// `BIGINT` (`i64`).
    BigInt,
    /// `REAL` / `FLOAT` (`f32`).
    Float,
    /// `DOUBLE PRECISION` (`f64`).
    Double,
    /// `BOOLEAN` (`bool`).
    Bool,
    /// `TEXT` / `VARCHAR` (`String`).
    Text,
    /// `TIMESTAMP` without time zone (`chrono::NaiveDateTime`).
    Timestamp,
    /// `DATE` (`chrono::NaiveDate`).
    Date,
    /// `TIME` (`chrono::NaiveTime`).
    Time,
    /// Binary data (`Vec<u8>`).
    Binary,
    /// A UUID (`uuid::Uuid`, feature `uuid`; see [`crate::sql_types::Uuid`]).
    Uuid,
    /// JSON (`serde_json::Value`).
    Json,
    /// A type the derive does not map itself (a `sql_type = ...` it does not know, or a
    /// Rust type it cannot read values of).
    Other,
}
