//! # Kysera
//!
//! Repositories, validation, pagination and typed errors over Diesel, on SQLite, PostgreSQL and
//! MySQL/MariaDB alike. Annotate a struct with `#[derive(Repository)]` and get the Diesel table,
//! a Create and an Update struct, field validation and a repository:
//!
//! ```
//! use kysera::prelude::*;
//!
//! #[derive(Repository, Debug, Clone, PartialEq)]
//! #[kysera(table = "users")]
//! pub struct User {
//!     #[kysera(primary_key, generated)]
//!     pub id: i64,
//!     #[kysera(validate(email))]
//!     pub email: String,
//!     pub bio: Option<String>,
//! }
//!
//! # fn main() -> kysera::Result<()> {
//! let db = Database::connect("sqlite::memory:")?;
//! let conn = db.conn()?;
//! conn.batch_execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, bio TEXT)")?;
//! let users = conn.repo::<User>();
//! let ada = users.create(&NewUser { email: "ada@example.com".into(), bio: None })?;
//! let ada = users.update(ada.id, &UserUpdate { bio: Some(Some("analyst".into())), ..Default::default() })?;
//! assert_eq!(users.find_by_email("ada@example.com")?, vec![ada]);
//! assert!(matches!(
//!     users.create(&NewUser { email: "ada@example.com".into(), bio: None }),
//!     Err(kysera::Error::UniqueViolation(_))
//! ));
//! # Ok(()) }
//! ```
//!
//! See `ARCHITECTURE.md` for how a struct becomes SQL and back.

pub mod audit;
pub mod behaviours;
pub mod clock;
pub mod connection;
pub mod context;
pub mod error;
mod executor;
pub mod health;
pub mod json;
pub mod migrate;
pub mod model;
pub mod ops;
pub mod pagination;
pub mod plugin;
pub mod query;
mod repository;
pub mod resilience;
pub mod scope;
pub mod validate;

#[doc(hidden)]
pub mod __private;

pub use audit::{AuditEntry, Operation};
pub use connection::{mask_password, AnyConnection, Database, DatabaseUrl, PoolConfig, PoolState};
pub use context::Context;
pub use error::{BackendKind, Error, Result};
pub use executor::Conn;
pub use model::{ColumnInfo, Model, NewRow, Patch};
pub use pagination::{Page, PageRequest};
pub use plugin::Plugin;
pub use repository::{Repo, RepoSet};
pub use scope::{Condition, Scope, ScopeValue};
pub use validate::{Validate, ValidationErrors, ValidationMode};

/// `#[derive(Repository)]`: see the crate documentation.
#[cfg(feature = "derive")]
pub use kysera_derive::Repository;

/// Embeds a migrations directory into the binary: see [`migrate`].
#[cfg(feature = "derive")]
pub use kysera_derive::embed_migrations;

/// Diesel, as kysera uses it: for custom queries without a separate dependency line.
pub use diesel;

/// Everything a typical user of kysera needs in scope.
pub mod prelude {
    pub use crate::{Conn, Database, Error, Model, Page, PageRequest, Repo, Validate};
    pub use diesel::prelude::*;
    #[cfg(feature = "derive")]
    pub use kysera_derive::Repository;
}
