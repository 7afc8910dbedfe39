//! Helpers for testing code that uses kysera, against a real database (cargo feature
//! `testing`, usually enabled in `[dev-dependencies]`).
//!
//! | need | helper |
//! |---|---|
//! | a database per test run, migrated, dropped afterwards | [`TestDatabase`] |
//! | a test body whose writes never commit (savepoints inside) | [`rollback`] |
//! | empty tables between tests | [`Cleaner`], [`clean`] with a [`Strategy`] |
//! | valid `New…` structs with sequences and overrides | [`Factory`] |
//! | rows from JSON fixture files | [`load_fixtures`], [`load_fixtures_str`] |
//! | assertions on tables | [`row_count`], [`assert_row_count!`](crate::assert_row_count), [`snapshot`], [`snapshot_columns`] |
//! | a test body at an isolation level | [`at_isolation`] |
//!
//! Helpers that need a connection take anything that is a [`ConnectionSource`]: a
//! [`Conn`](crate::Conn) (used as it is, so calls inside a transaction join it), a
//! [`Database`](crate::Database) or a [`TestDatabase`] (a pooled connection per call). Tables
//! and columns named by strings are checked against the database's catalog and quoted, and
//! values are always bind parameters. Migration bookkeeping tables ([`BOOKKEEPING_TABLES`])
//! are never cleaned, seeded or snapshotted.
//!
//! ```
//! use kysera::migrate::{Migration, Migrations};
//! use kysera::prelude::*;
//! use kysera::testing::{self, Cleaner, Factory, Strategy, TestDatabase};
//! use serde_json::json;
//!
//! #[derive(Repository, Debug, Clone, PartialEq)]
//! #[kysera(table = "users")]
//! pub struct User {
//!     #[kysera(primary_key, generated)]
//!     pub id: i64,
//!     #[kysera(validate(email))]
//!     pub email: String,
//!     pub name: String,
//! }
//!
//! # fn main() -> kysera::Result<()> {
//! let migrations = Migrations::new(vec![Migration::new(
//!     "2024-01-01-000000_create_users",
//!     "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL);",
//!     Some("DROP TABLE users;"),
//!     None,
//! )?])?;
//! // SQLite: a temporary file; with a server URL, a database of its own on that server.
//! let test_db = TestDatabase::builder("sqlite").migrations(&migrations).create()?;
//! let users_factory = Factory::new(|n| NewUser { email: format!("user{n}@example.com"), name: format!("User {n}") });
//!
//! // Writes inside `rollback` are visible there and gone afterwards.
//! testing::rollback(&test_db, |conn| {
//!     let users = conn.repo::<User>();
//!     users_factory.create_many(&users, 2)?;
//!     users_factory.create_with(&users, |u| u.name = "Ada".into())?;
//!     kysera::assert_row_count!(conn, "users", 3);
//!     Ok::<_, kysera::Error>(())
//! })?;
//! kysera::assert_row_count!(test_db, "users", 0);
//!
//! // Fixtures and snapshots, then a clean slate with ids from 1 again.
//! testing::load_fixtures_str(&test_db, "users.json", r#"{"users": [{"id": 7, "email": "grace@example.com", "name": "Grace"}]}"#)?;
//! assert_eq!(
//!     testing::snapshot_columns(&test_db, "users", &["id", "name"])?,
//!     json!([{"id": 7, "name": "Grace"}])
//! );
//! Cleaner::new(Strategy::Truncate).clean(&test_db)?;
//! let conn = test_db.conn()?;
//! assert_eq!(users_factory.create(&conn.repo::<User>())?.id, 1);
//! # Ok(()) }
//! ```

mod clean;
mod database;
mod factory;
mod fixtures;
mod fk_order;
mod inspect;
mod isolation;
mod rollback;
mod schema;
mod source;
mod sql;

pub use clean::{clean, Cleaner, Strategy};
pub use database::{TestDatabase, TestDatabaseBuilder};
pub use factory::Factory;
pub use fixtures::{load_fixtures, load_fixtures_str, Loaded};
pub use inspect::{row_count, snapshot, snapshot_columns};
pub use isolation::at_isolation;
pub use rollback::rollback;
pub use schema::BOOKKEEPING_TABLES;
pub use source::{ConnRef, ConnectionSource};
