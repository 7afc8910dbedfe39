//! The [`Model`] trait: what `#[derive(Repository)]` tells the runtime about a struct.

use diesel::query_source::{Column, Table};
use diesel::Expression;

use crate::behaviours::Behaviours;
use crate::json::JsonFields;
use crate::repository::Repo;
use crate::validate::Validate;

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
    /// JSON (`serde_json::Value`).
    Json,
    /// A type the derive does not map itself (a `sql_type = ...` it does not know, or a
    /// Rust type it cannot read values of).
    Other,
}

/// A struct mapped to one table: the data half of a repository.
///
/// Implemented by `#[derive(Repository)]`; the behaviour lives in [`Repo`], which works for
/// every `Model` on every enabled backend.
pub trait Model: Validate + JsonFields + Sized + Send + 'static {
    /// The Diesel table type (`users::table`).
    type Table: Table + Default + Copy + Send + 'static;
    /// The primary-key column type (`users::id`).
    type PrimaryKey: Column<Table = Self::Table> + Default + Copy + Send + 'static;
    /// The tuple of columns selected to build `Self`, in field order.
    type Selection: Expression + Default + Copy + Send + 'static;
    /// The Rust type of the primary key.
    type Id: Clone + std::fmt::Debug + Eq + std::hash::Hash + Ord + Send + 'static;
    /// The Create struct (`NewUser`): every field a caller supplies.
    type New: Validate + JsonFields + NewRow + Send + 'static;
    /// The Update struct (`UserUpdate`): a patch where every field is optional.
    type Update: Validate + JsonFields + Patch + Clone + Send + 'static;
    /// The generated repository type (`UserRepository<'c>`), a thin wrapper over [`Repo`].
    type Repository<'c>: From<Repo<'c, Self>>;

    /// Table name in the database.
    const TABLE_NAME: &'static str;
    /// Primary-key column name in the database.
    const PRIMARY_KEY: &'static str;
    /// True when the database generates the primary key (auto-increment, default).
    const PRIMARY_KEY_GENERATED: bool;
    /// Every column, in field order.
    const COLUMNS: &'static [ColumnInfo];
    /// Number of values one Create struct binds in an INSERT.
    const INSERT_BINDS: usize;
    /// `#[timestamps]`, `#[soft_delete]` and `#[audited]`.
    const BEHAVIOURS: Behaviours = Behaviours::NONE;
    /// The `#[kysera(version)]` column (optimistic locking), if any.
    const VERSION: Option<&'static str> = None;

    /// The primary key of this row.
    fn id(&self) -> Self::Id;

    /// A key as plain text (see [`crate::key`]): audit rows' `entity_id`, not-found errors.
    fn key_text(id: &Self::Id) -> String;

    /// The key recorded in a row's values (`{column: value}`, as audit rows hold them).
    fn key_from_json(values: &crate::json::JsonMap) -> crate::Result<Self::Id>;

    /// The primary key a Create struct supplies, when the key is not generated.
    fn new_id(new: &Self::New) -> Option<Self::Id>;

    /// Converts a MySQL `LAST_INSERT_ID()` into a key, for integer generated keys.
    fn id_from_insert_id(insert_id: u64) -> Option<Self::Id>;
}

/// A Create struct.
pub trait NewRow {
    /// True when every timestamp managed by `#[timestamps]` has an explicit value (always
    /// true without `#[timestamps]`).
    fn has_timestamps(&self) -> bool {
        true
    }
}

/// An Update struct: a set of optional changes.
pub trait Patch {
    /// True when no field is set, so the patch would change nothing.
    fn is_empty(&self) -> bool;

    /// The version the change was made from, on a `#[kysera(version)]` model.
    fn expected_version(&self) -> Option<i64> {
        None
    }
}

/// The column named `column` of model `M`, if it has one.
pub fn column<M: Model>(column: &str) -> Option<&'static ColumnInfo> {
    M::COLUMNS.iter().find(|c| c.column == column)
}
