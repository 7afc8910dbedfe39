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
#[cfg(feature = "tokio")]
pub mod bridge;
pub mod clock;
pub mod column;
pub mod connection;
pub mod context;
pub mod database;
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
mod datetime;
pub mod error;
mod executor;
pub mod filter;
pub mod health;
pub mod instrument;
pub mod json;
pub mod key;
pub mod manager;
pub mod mask;
pub mod migrate;
pub mod model;
pub mod ops;
pub mod pagination;
pub mod plugin;
pub mod query;
pub mod relation;
mod repository;
pub mod resilience;
pub mod scope;
pub mod sql_types;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transaction;
pub mod validate;

#[doc(hidden)]
pub mod __private;

pub use audit::{AuditEntry, Operation};
#[cfg(feature = "tokio")]
pub use bridge::AsyncDatabase;
pub use connection::{mask_password, AnyConnection, DatabaseUrl};
pub use context::Context;
pub use database::{Database, PoolConfig, PoolState};
pub use error::{BackendKind, Error, Result};
pub use executor::Conn;
pub use filter::{Filter, IntoOrder, IntoPredicate, OrderTerm};
pub use instrument::{QueryMonitor, QueryRecord};
pub use model::{ColumnInfo, Model, NewRow, Patch};
pub use pagination::{CursorPage, CursorRequest, Keyset, Page, PageRequest};
pub use plugin::Plugin;
pub use relation::{BelongsTo, RelatedFilter};
pub use repository::{
    ChunkStream, Find, HasRepository, Repo, RepoSet, Restored, RowStream, Upsert, Upserted,
    STREAM_CHUNK,
};
pub use scope::{Condition, Scope, ScopeValue};
#[cfg(feature = "uuid")]
pub use sql_types::UuidValue as Uuid;
pub use transaction::{Isolation, TransactionOptions};
pub use validate::{Validate, ValidationErrors, ValidationMode};

/// `#[derive(Repository)]`: see the crate documentation.
#[cfg(feature = "derive")]
pub use kysera_derive::Repository;

/// `#[kysera::transactional]`: runs a function's body in a transaction on its `&Conn`
/// parameter, with an optional isolation level and retry count.
///
/// ```
/// use kysera::{Conn, Error};
/// use kysera::prelude::*;
///
/// diesel::table! { accounts (id) { id -> BigInt, balance -> BigInt, } }
///
/// #[kysera::transactional(isolation = "serializable", retries = 3)]
/// fn transfer(conn: &Conn, from: i64, to: i64, amount: i64) -> Result<(), Error> {
///     use crate::accounts::{balance, table as accounts};
///     conn.execute(diesel::update(accounts.find(from)).set(balance.eq(balance - amount)))?;
///     conn.execute(diesel::update(accounts.find(to)).set(balance.eq(balance + amount)))?;
///     Ok(())
/// }
/// # fn main() -> kysera::Result<()> {
/// let conn = Conn::establish("sqlite::memory:")?;
/// conn.batch_execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL);
///                     INSERT INTO accounts VALUES (1, 100), (2, 0)")?;
/// transfer(&conn, 1, 2, 30)?;
/// let balances: Vec<i64> = conn.load(accounts::table.select(accounts::balance).order(accounts::id))?;
/// assert_eq!(balances, [70, 30]);
/// # Ok(()) }
/// ```
#[cfg(feature = "derive")]
pub use kysera_derive::transactional;

/// Embeds a migrations directory into the binary: see [`migrate`].
#[cfg(feature = "derive")]
pub use kysera_derive::embed_migrations;

/// Diesel, as kysera uses it: for custom queries without a separate dependency line.
pub use diesel;

/// Everything a typical user of kysera needs in scope.
pub mod prelude {
    pub use crate::{
        Conn, CursorPage, CursorRequest, Database, Error, Filter, Find, Keyset, Model, OrderTerm,
        Page, PageRequest, Repo, Upsert, Validate,
    };
    pub use diesel::prelude::*;
    #[cfg(feature = "derive")]
    pub use kysera_derive::Repository;
}
