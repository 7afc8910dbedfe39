//! Migrations: Diesel's directory layout, embedded at compile time or read from disk, run by a
//! runner that takes a lock, checks checksums, and records each migration with its change.
//!
//! ```
//! use kysera::migrate::{Migration, Migrations, Migrator, Target};
//! # fn main() -> kysera::Result<()> {
//! let conn = kysera::Conn::establish("sqlite::memory:")?;
//! let migrations = Migrations::new(vec![
//!     Migration::new("2024-01-01-000000_create_users", "CREATE TABLE users (id INTEGER PRIMARY KEY);", Some("DROP TABLE users;"), None)?,
//! ])?;
//! let migrator = Migrator::new(&conn, &migrations);
//! assert_eq!(migrator.up(Target::All)?.len(), 1);
//! assert!(migrator.up(Target::All)?.is_empty(), "nothing left to do");
//! assert_eq!(migrator.down(Target::Steps(1))?.len(), 1);
//! # Ok(()) }
//! ```

mod runner;
mod source;

pub use runner::{Applied, Direction, MigrationState, MigrationStatus, Migrator, Target};
pub use source::{checksum, EmbeddedMigration, Metadata, Migration, Migrations};

// `kysera::embed_migrations!("migrations")` embeds a directory as `&[EmbeddedMigration]`
// for `Migrations::from_embedded`.
