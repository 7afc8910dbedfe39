//! [`TestDatabase`]: a database of its own for one test run, migrated, and dropped afterwards.

use std::sync::atomic::{AtomicU64, Ordering};

use super::source::{ConnRef, ConnectionSource};
use super::sql::Statement;
use crate::connection::{mask_password, DatabaseUrl};
use crate::database::{Database, PoolConfig};
use crate::error::{BackendKind, Error, Result};
use crate::executor::Conn;
use crate::migrate::{Migrations, Migrator, Target};

/// Databases created by this process so far: part of every generated name.
static CREATED: AtomicU64 = AtomicU64::new(0);

/// Longest prefix accepted, so that generated names stay under PostgreSQL's 63 bytes.
const MAX_PREFIX_LEN: usize = 24;

/// A database created for a test run and dropped when this value is dropped.
///
/// - **PostgreSQL, MySQL/MariaDB**: from a server URL (any database the user can connect to,
///   used only to run `CREATE DATABASE` and `DROP DATABASE`), a database with a unique
///   generated name (`kysera_test_<pid>_<n>_<suffix>`, quoted in SQL) is created. On drop it is
///   removed with `DROP DATABASE ... WITH (FORCE)` on PostgreSQL (13 or later), which closes
///   connections still open on it, and `DROP DATABASE` on MySQL.
/// - **SQLite**: any `sqlite:` URL (or just `"sqlite"`) picks the backend; the database is a
///   new file in a new temporary directory, removed on drop.
///
/// Migrations given to the builder are applied before the database is handed out.
///
/// ```
/// use kysera::migrate::{Migration, Migrations};
/// use kysera::testing::TestDatabase;
/// # fn main() -> kysera::Result<()> {
/// let migrations = Migrations::new(vec![Migration::new(
///     "2024-01-01-000000_create_tags",
///     "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
///     Some("DROP TABLE tags;"),
///     None,
/// )?])?;
/// let test_db = TestDatabase::builder("sqlite").migrations(&migrations).create()?;
/// let conn = test_db.conn()?;
/// conn.batch_execute("INSERT INTO tags (name) VALUES ('rust')")?;
/// kysera::assert_row_count!(test_db, "tags", 1);
/// let file = test_db.url().trim_start_matches("sqlite://").to_string();
/// drop(conn);
/// test_db.drop_now()?;
/// assert!(!std::path::Path::new(&file).exists());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestDatabase {
    db: Database,
    url: String,
    name: String,
    backend: BackendKind,
    // Declared last: fields drop in order, so the pool is closed before the database goes.
    remover: Remover,
}

impl TestDatabase {
    /// Creates an empty database next to `url` (see the type's docs), with the default
    /// builder settings.
    pub fn create(url: &str) -> Result<Self> {
        Self::builder(url).create()
    }

    /// A builder for a database next to `url`: add migrations, pool settings, a name prefix.
    pub fn builder<'m>(url: &str) -> TestDatabaseBuilder<'m> {
        TestDatabaseBuilder {
            url: url.to_string(),
            migrations: None,
            pool: PoolConfig {
                max_size: 4,
                min_idle: Some(1),
                ..PoolConfig::default()
            },
            prefix: "kysera_test".to_string(),
        }
    }

    /// The pool on this database.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// A pooled connection to this database.
    pub fn conn(&self) -> Result<Conn> {
        self.db.conn()
    }

    /// The URL of this database (it contains the server's password, if any: do not log it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name on a server, or the file path on SQLite.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backend.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Closes the pool and drops the database now, reporting a failure that a plain drop
    /// would ignore.
    pub fn drop_now(self) -> Result<()> {
        let TestDatabase {
            db, mut remover, ..
        } = self;
        drop(db);
        remover.remove()
    }
}

impl ConnectionSource for TestDatabase {
    fn connection(&self) -> Result<ConnRef<'_>> {
        self.db.connection()
    }
}

/// Settings for a [`TestDatabase`]; finish with [`TestDatabaseBuilder::create`].
#[derive(Debug, Clone)]
pub struct TestDatabaseBuilder<'m> {
    url: String,
    migrations: Option<&'m Migrations>,
    pool: PoolConfig,
    prefix: String,
}

impl<'m> TestDatabaseBuilder<'m> {
    /// Applies every migration of `migrations` after creating the database.
    pub fn migrations(mut self, migrations: &'m Migrations) -> Self {
        self.migrations = Some(migrations);
        self
    }

    /// Pool settings (default: at most 4 connections, 1 kept idle).
    pub fn pool(mut self, config: PoolConfig) -> Self {
        self.pool = config;
        self
    }

    /// The start of generated database names (default `kysera_test`): lower-case ASCII
    /// letters, digits and `_`, starting with a letter, at most 24 characters. Checked by
    /// [`create`](Self::create).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// Creates the database, connects, and applies the migrations. On failure anything
    /// created is dropped again.
    pub fn create(self) -> Result<TestDatabase> {
        check_prefix(&self.prefix)?;
        let backend = backend_of(&self.url)?;
        let (url, name, remover) = match backend {
            BackendKind::Sqlite => create_file(&self.prefix)?,
            BackendKind::Postgres | BackendKind::Mysql => {
                create_on_server(&self.url, backend, &self.prefix)?
            }
        };
        // From here an early return drops `remover`, which removes what was created.
        let db = Database::connect_with(&url, self.pool)?;
        if let Some(migrations) = self.migrations {
            let conn = db.conn()?;
            Migrator::new(&conn, migrations).up(Target::All)?;
        }
        Ok(TestDatabase {
            db,
            url,
            name,
            backend,
            remover,
        })
    }
}

fn backend_of(url: &str) -> Result<BackendKind> {
    if url.trim().eq_ignore_ascii_case("sqlite") {
        return Ok(BackendKind::Sqlite);
    }
    Ok(DatabaseUrl::parse(url)?.backend())
}

fn check_prefix(prefix: &str) -> Result<()> {
    let mut chars = prefix.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if starts_with_letter && rest_ok && prefix.len() <= MAX_PREFIX_LEN {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "test database prefix `{prefix}` must be 1 to {MAX_PREFIX_LEN} characters of \
             a-z, 0-9 and `_`, starting with a letter"
        )))
    }
}

/// `<prefix>_<pid>_<n>_<suffix>`: the process id and a counter keep names apart within a
/// machine, the clock-derived suffix across runs that reuse a process id.
fn unique_name(prefix: &str) -> String {
    let n = CREATED.fetch_add(1, Ordering::Relaxed);
    let suffix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{suffix:08x}", std::process::id())
}

fn create_file(prefix: &str) -> Result<(String, String, Remover)> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{prefix}_"))
        .tempdir()
        .map_err(|e| Error::Config(format!("cannot create a temporary directory: {e}")))?;
    let path = dir.path().join("test.db");
    let path = path
        .to_str()
        .ok_or_else(|| {
            Error::Config(format!(
                "the temporary directory {} is not valid UTF-8",
                dir.path().display()
            ))
        })?
        .to_string();
    Ok((
        format!("sqlite://{path}"),
        path,
        Remover::Directory(Some(dir)),
    ))
}

fn create_on_server(
    server_url: &str,
    backend: BackendKind,
    prefix: &str,
) -> Result<(String, String, Remover)> {
    let name = unique_name(prefix);
    let url = with_database(server_url, &name)?;
    let create = Statement::new("CREATE DATABASE ")
        .identifier(&name)
        .render(backend)?;
    let drop = Statement::new("DROP DATABASE IF EXISTS ").identifier(&name);
    let drop = if backend == BackendKind::Postgres {
        drop.sql(" WITH (FORCE)")
    } else {
        drop
    };
    let drop_sql = drop.render(backend)?;
    Conn::establish(server_url)?.batch_execute(&create)?;
    let remover = Remover::Server {
        admin_url: server_url.to_string(),
        drop_sql: Some(drop_sql),
    };
    Ok((url, name, remover))
}

/// `server_url` with its path replaced by `/<database>` (user, host, port, query kept).
fn with_database(server_url: &str, database: &str) -> Result<String> {
    let mut url = url::Url::parse(server_url.trim()).map_err(|e| {
        Error::Config(format!(
            "`{}` is not a server URL: {e}",
            mask_password(server_url)
        ))
    })?;
    if url.cannot_be_a_base() {
        return Err(Error::Config(format!(
            "`{}` is not a server URL: expected scheme://user@host/database",
            mask_password(server_url)
        )));
    }
    url.set_path(&format!("/{database}"));
    Ok(url.to_string())
}

/// Removes what [`TestDatabaseBuilder::create`] created, once.
#[derive(Debug)]
enum Remover {
    Server {
        admin_url: String,
        /// `None` once run.
        drop_sql: Option<String>,
    },
    /// Removing the directory removes the database file and its WAL files.
    Directory(Option<tempfile::TempDir>),
}

impl Remover {
    fn remove(&mut self) -> Result<()> {
        match self {
            Remover::Server {
                admin_url,
                drop_sql,
            } => match drop_sql.take() {
                Some(sql) => Conn::establish(admin_url)?.batch_execute(&sql),
                None => Ok(()),
            },
            Remover::Directory(dir) => match dir.take() {
                Some(dir) => dir.close().map_err(|e| {
                    Error::Config(format!("cannot remove the test database directory: {e}"))
                }),
                None => Ok(()),
            },
        }
    }
}

impl Drop for Remover {
    fn drop(&mut self) {
        // Nothing can be reported from a drop; `TestDatabase::drop_now` reports failures.
        let _ = self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_server_url() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/test?sslmode=disable", "x_1").unwrap(),
            "postgres://u:p@h:5432/x_1?sslmode=disable"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test", "x_1").unwrap(),
            "mysql://root@127.0.0.1:3306/x_1"
        );
        assert_eq!(
            with_database("postgres://u@h", "x_1").unwrap(),
            "postgres://u@h/x_1"
        );
        assert!(matches!(
            with_database("host=localhost", "x"),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn names_are_unique_and_safe() {
        let a = unique_name("kysera_test");
        let b = unique_name("kysera_test");
        assert_ne!(a, b);
        assert!(a.len() <= 63, "{a}");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("app_test").is_ok());
        for bad in ["", "1abc", "App", "a-b", "a\"; DROP", &"a".repeat(25)] {
            assert!(matches!(check_prefix(bad), Err(Error::Config(_))), "{bad}");
        }
    }
}
