//! Test support: a fresh database per test on each backend, and statement counting.
//!
//! SQLite runs on a temporary file. PostgreSQL and MySQL run on the local servers (URLs from
//! `KYSERA_TEST_POSTGRES_URL` and `KYSERA_TEST_MYSQL_URL`), each test in a database of its own
//! that is dropped afterwards. A server that cannot be reached fails the test: it never skips.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use kysera::{AnyConnection, BackendKind, Conn, Database, PoolConfig};

/// Default PostgreSQL server for tests.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Default MySQL/MariaDB server for tests.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// The server URL tests use for `backend` (SQLite has none).
pub fn server_url(backend: BackendKind) -> String {
    let (var, default) = match backend {
        BackendKind::Postgres => ("KYSERA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        BackendKind::Mysql => ("KYSERA_TEST_MYSQL_URL", DEFAULT_MYSQL_URL),
        BackendKind::Sqlite => return String::new(),
    };
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// A database of its own for one test, dropped when this value is.
pub struct TestDb {
    /// The pool on the test's database.
    pub db: Database,
    /// The test database's URL.
    pub url: String,
    backend: BackendKind,
    drop_sql: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// Creates an empty database on `backend` and runs `schema` in it.
    pub fn new(backend: BackendKind, schema: impl AsRef<str>) -> Self {
        let schema = schema.as_ref();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("kysera_t{}_{}_{}", std::process::id(), n, nanos());
        let (url, drop_sql, dir) = match backend {
            BackendKind::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("test.db");
                (format!("sqlite://{}", path.display()), None, Some(dir))
            }
            BackendKind::Postgres | BackendKind::Mysql => {
                let server = server_url(backend);
                let admin = Conn::establish(&server).unwrap_or_else(|e| {
                    panic!(
                        "{backend} test server unreachable at {}: {e}\n\
                         start it, or point {} at a reachable server",
                        kysera::mask_password(&server),
                        if backend == BackendKind::Postgres {
                            "KYSERA_TEST_POSTGRES_URL"
                        } else {
                            "KYSERA_TEST_MYSQL_URL"
                        }
                    )
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let url = with_database(&server, &name);
                let drop = if backend == BackendKind::Postgres {
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                } else {
                    format!("DROP DATABASE IF EXISTS {name}")
                };
                (url, Some((server, drop)), None)
            }
        };
        let db = Database::connect_with(
            &url,
            PoolConfig {
                max_size: 4,
                ..PoolConfig::default()
            },
        )
        .unwrap_or_else(|e| panic!("connect to test database on {backend}: {e}"));
        db.conn()
            .and_then(|c| c.batch_execute(schema))
            .expect("create schema");
        TestDb {
            db,
            url,
            backend,
            drop_sql,
            _dir: dir,
        }
    }

    /// The backend under test.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// A pooled connection.
    pub fn conn(&self) -> Conn {
        self.db.conn().expect("pooled connection")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, sql)) = &self.drop_sql {
            if let Ok(admin) = Conn::establish(server) {
                let _ = admin.batch_execute(sql);
            }
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000)
        .unwrap_or(0)
}

/// `server` with its database path replaced by `database`.
fn with_database(server: &str, database: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_start..]
        .find('/')
        .map(|i| i + authority_start)
        .unwrap_or(base.len());
    format!("{}/{database}{query}", &base[..path_start])
}

/// Records the SQL of every statement run on a connection.
#[derive(Clone, Default)]
pub struct StatementLog {
    statements: Arc<Mutex<Vec<String>>>,
}

impl StatementLog {
    /// Starts recording on `conn` (replacing any instrumentation).
    pub fn attach(conn: &Conn) -> Self {
        let log = StatementLog::default();
        let sink = log.clone();
        conn.with_connection(|c: &mut AnyConnection| c.set_instrumentation(sink))
            .expect("connection free");
        log
    }

    /// The statements recorded so far, and forgets them.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.statements.lock().expect("log lock"))
    }

    /// Statements recorded so far other than transaction control (BEGIN, COMMIT, SAVEPOINT...).
    pub fn take_data_statements(&self) -> Vec<String> {
        self.take()
            .into_iter()
            .filter(|sql| {
                let head = sql.trim_start().to_ascii_uppercase();
                ![
                    "BEGIN",
                    "COMMIT",
                    "ROLLBACK",
                    "SAVEPOINT",
                    "RELEASE",
                    "START TRANSACTION",
                ]
                .iter()
                .any(|k| head.starts_with(k))
            })
            .collect()
    }
}

impl Instrumentation for StatementLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            self.statements
                .lock()
                .expect("log lock")
                .push(query.to_string());
        }
    }
}

/// Defines `#[test]` functions running `$body` once per backend, named `<backend>::<test>`,
/// each on a fresh database made by the calling file's `fn schema(BackendKind) -> &str`.
#[macro_export]
macro_rules! all_backends {
    ($(fn $name:ident($db:ident: &TestDb) $body:block)*) => {
        $(fn $name($db: &$crate::TestDb) $body)*

        mod sqlite {
            $(#[test] fn $name() { super::$name(&$crate::TestDb::new(::kysera::BackendKind::Sqlite, super::schema(::kysera::BackendKind::Sqlite))) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(&$crate::TestDb::new(::kysera::BackendKind::Postgres, super::schema(::kysera::BackendKind::Postgres))) })*
        }
        mod mysql {
            $(#[test] fn $name() { super::$name(&$crate::TestDb::new(::kysera::BackendKind::Mysql, super::schema(::kysera::BackendKind::Mysql))) })*
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_in_url() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("mysql://root@h/test?a=b", "x"),
            "mysql://root@h/x?a=b"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
