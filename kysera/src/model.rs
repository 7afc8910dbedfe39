//! The [`Model`] trait: what `#[derive(Repository)]` tells the runtime about a struct.

use diesel::query_source::{Column, Table};
use diesel::Expression;

use crate::behaviours::Behaviours;
use crate::json::JsonFields;
use crate::validate::Validate;

pub use crate::column::{ColumnInfo, SqlKind};

/// A struct mapped to one table: the data half of a repository.
///
/// Implemented by `#[derive(Repository)]`; the behaviour lives in [`Repo`](crate::Repo), which works for
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
