//! Error classification against REAL database errors.
//!
//! Every test provokes one failure on a live server (or a SQLite file), captures the
//! `diesel::result::Error` it produced and checks what [`from_diesel`] makes of it. Nothing is
//! mocked: the messages are the servers' own.
//!
//! Servers come from `KYSERA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! and `KYSERA_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`, MySQL or MariaDB).
//! An unreachable server FAILS the test: a silently skipped error test is a test that never ran.
//!
//! Every test creates its own `errlab_<backend>_<case>_*` tables (tests run in parallel) and
//! drops them again, also when the test panics.
//!
//! Run with `-- --nocapture` to see each captured error as a `CAPTURE|...` line.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Integer};

use kysera::error::{from_diesel, BackendKind, Error, ErrorContext};
use kysera::model::ColumnInfo;

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

fn pg_url() -> String {
    std::env::var("KYSERA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn mysql_url() -> String {
    std::env::var("KYSERA_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// One connection to any of the three backends, so each case is written once.
enum Conn {
    Pg(PgConnection),
    My(MysqlConnection),
    Lite(SqliteConnection),
}

impl Conn {
    fn kind(&self) -> BackendKind {
        match self {
            Conn::Pg(_) => BackendKind::Postgres,
            Conn::My(_) => BackendKind::Mysql,
            Conn::Lite(_) => BackendKind::Sqlite,
        }
    }

    /// Runs statements over the text protocol (setup and transaction control).
    fn batch(&mut self, sql: &str) -> QueryResult<()> {
        match self {
            Conn::Pg(c) => c.batch_execute(sql),
            Conn::My(c) => c.batch_execute(sql),
            Conn::Lite(c) => c.batch_execute(sql),
        }
    }

    /// Runs one statement as a prepared statement: the path every diesel query takes, and on
    /// MySQL the only one where diesel maps the error number to a `DatabaseErrorKind`.
    fn exec(&mut self, sql: &str) -> QueryResult<usize> {
        match self {
            Conn::Pg(c) => diesel::sql_query(sql).execute(c),
            Conn::My(c) => diesel::sql_query(sql).execute(c),
            Conn::Lite(c) => diesel::sql_query(sql).execute(c),
        }
    }
}

fn connect_pg() -> PgConnection {
    let url = pg_url();
    PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {} is unreachable ({e}); start it or set KYSERA_TEST_POSTGRES_URL",
            kysera::mask_password(&url)
        )
    })
}

fn connect_mysql() -> MysqlConnection {
    let url = mysql_url();
    MysqlConnection::establish(&url).unwrap_or_else(|e| {
        panic!(
            "MySQL/MariaDB at {} is unreachable ({e}); start it or set KYSERA_TEST_MYSQL_URL",
            kysera::mask_password(&url)
        )
    })
}

fn sqlite_path(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir()
        .join(format!("errlab_{tag}_{}_{nanos}.db", std::process::id()))
        .to_string_lossy()
        .into_owned()
}

fn connect_sqlite(path: &str) -> SqliteConnection {
    let mut c = SqliteConnection::establish(path)
        .unwrap_or_else(|e| panic!("cannot open SQLite file {path}: {e}"));
    c.batch_execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 0;")
        .expect("SQLite pragmas");
    c
}

// ---------------------------------------------------------------------------------------------
// Fixture: two tables per test, dropped on the way out (also on panic)
// ---------------------------------------------------------------------------------------------

/// Model columns of the users table; field names differ from column names on purpose, so the
/// tests prove the column -> field mapping.
static USER_COLUMNS: &[ColumnInfo] = &[
    col("id", "id", false, true),
    col("email_address", "email", false, false),
    col("full_name", "name", false, false),
    col("age", "age", true, false),
    col("tenant_id", "tenant", true, false),
    col("handle", "handle", true, false),
];

static POST_COLUMNS: &[ColumnInfo] = &[
    col("id", "id", false, true),
    col("author", "author_id", false, false),
    col("title", "title", false, false),
];

const fn col(field: &'static str, column: &'static str, nullable: bool, pk: bool) -> ColumnInfo {
    ColumnInfo {
        field,
        column,
        nullable,
        primary_key: pk,
        generated: false,
        insertable: true,
        updatable: !pk,
        kind: kysera::model::SqlKind::Text,
    }
}

struct Fixture {
    backend: BackendKind,
    users: &'static str,
    posts: &'static str,
    sqlite_path: Option<String>,
}

impl Fixture {
    /// Creates `errlab_<tag>_users` (one row) and `errlab_<tag>_posts` (one row referencing it).
    fn new(backend: BackendKind, tag: &str) -> (Fixture, Conn) {
        let users: &'static str = Box::leak(format!("errlab_{tag}_users").into_boxed_str());
        let posts: &'static str = Box::leak(format!("errlab_{tag}_posts").into_boxed_str());
        let (mut conn, sqlite_path) = match backend {
            BackendKind::Postgres => (Conn::Pg(connect_pg()), None),
            BackendKind::Mysql => (Conn::My(connect_mysql()), None),
            BackendKind::Sqlite => {
                let path = sqlite_path(tag);
                (Conn::Lite(connect_sqlite(&path)), Some(path))
            }
        };
        let fixture = Fixture {
            backend,
            users,
            posts,
            sqlite_path,
        };
        fixture.drop_tables(&mut conn);
        let engine = if backend == BackendKind::Mysql {
            " ENGINE=InnoDB"
        } else {
            ""
        };
        // Table-level constraints only: MySQL ignores column-level REFERENCES, and named
        // table-level CHECKs read the same on all three backends.
        let ddl = format!(
            "CREATE TABLE {users} (
                id INTEGER PRIMARY KEY,
                email VARCHAR(100) NOT NULL UNIQUE,
                name VARCHAR(100) NOT NULL,
                age INTEGER,
                tenant INTEGER,
                handle VARCHAR(50),
                CONSTRAINT {users}_tenant_handle_key UNIQUE (tenant, handle),
                CONSTRAINT {users}_age_positive CHECK (age >= 0),
                CHECK (length(name) > 0)
            ){engine};
            CREATE TABLE {posts} (
                id INTEGER PRIMARY KEY,
                author_id INTEGER NOT NULL,
                title VARCHAR(100) NOT NULL,
                FOREIGN KEY (author_id) REFERENCES {users} (id)
            ){engine};
            INSERT INTO {users} (id, email, name, age, tenant, handle) VALUES (1, 'a@x', 'Ann', 30, 1, 'ann');
            INSERT INTO {posts} (id, author_id, title) VALUES (1, 1, 'hello');"
        );
        conn.batch(&ddl).expect("create fixture tables");
        (fixture, conn)
    }

    fn drop_tables(&self, conn: &mut Conn) {
        let _ = conn.batch(&format!("DROP TABLE IF EXISTS {}", self.posts));
        let _ = conn.batch(&format!("DROP TABLE IF EXISTS {}", self.users));
    }

    fn users_ctx(&self) -> ErrorContext {
        ErrorContext {
            backend: Some(self.backend),
            table: Some(self.users),
            columns: USER_COLUMNS,
        }
    }

    fn posts_ctx(&self) -> ErrorContext {
        ErrorContext {
            backend: Some(self.backend),
            table: Some(self.posts),
            columns: POST_COLUMNS,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(path) = &self.sqlite_path {
            let _ = std::fs::remove_file(path);
            return;
        }
        // A fresh connection: the test's own may be broken or mid-transaction.
        let mut conn = match self.backend {
            BackendKind::Postgres => PgConnection::establish(&pg_url()).map(Conn::Pg).ok(),
            BackendKind::Mysql => MysqlConnection::establish(&mysql_url()).map(Conn::My).ok(),
            BackendKind::Sqlite => None,
        };
        if let Some(conn) = conn.as_mut() {
            self.drop_tables(conn);
        }
    }
}

/// Prints the raw error (`CAPTURE|backend|case|kind|message|details|table|column|constraint`)
/// so a run with `--nocapture` documents what each backend really says.
fn capture(backend: BackendKind, case: &str, err: &DieselError) {
    let line = match err {
        DieselError::DatabaseError(kind, info) => format!(
            "{kind:?}|{}|{}|{}|{}|{}",
            info.message().replace('\n', "\\n"),
            info.details().unwrap_or("-").replace('\n', "\\n"),
            info.table_name().unwrap_or("-"),
            info.column_name().unwrap_or("-"),
            info.constraint_name().unwrap_or("-"),
        ),
        other => format!("(not a DatabaseError) {other:?}"),
    };
    println!("CAPTURE|{backend}|{case}|{line}");
}

fn expect_err<T: std::fmt::Debug>(result: QueryResult<T>, what: &str) -> DieselError {
    match result {
        Ok(v) => panic!("{what}: expected the database to refuse, got Ok({v:?})"),
        Err(e) => e,
    }
}

/// Runs `sql` (which must fail) and classifies the error with `ctx`.
fn provoke(conn: &mut Conn, case: &str, sql: &str, ctx: &ErrorContext) -> Error {
    let err = expect_err(conn.exec(sql), case);
    capture(conn.kind(), case, &err);
    from_diesel(err, ctx)
}

fn tag(backend: BackendKind, case: &str) -> String {
    let b = match backend {
        BackendKind::Postgres => "pg",
        BackendKind::Mysql => "my",
        BackendKind::Sqlite => "lite",
    };
    format!("{b}_{case}")
}

// ---------------------------------------------------------------------------------------------
// Constraint violations, all three backends
// ---------------------------------------------------------------------------------------------

fn unique_single(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "uniq1"));
    let sql = format!(
        "INSERT INTO {} (id, email, name) VALUES (2, 'a@x', 'Bob')",
        fx.users
    );
    match provoke(&mut conn, "unique_single", &sql, &fx.users_ctx()) {
        Error::UniqueViolation(v) => {
            assert_eq!(v.table.as_deref(), Some(fx.users), "{v:?}");
            assert_eq!(v.columns, vec!["email".to_string()], "{v:?}");
            assert_eq!(v.field.as_deref(), Some("email_address"), "{v:?}");
            let constraint = match backend {
                BackendKind::Postgres => Some(format!("{}_email_key", fx.users)),
                BackendKind::Mysql => Some("email".to_string()),
                BackendKind::Sqlite => None,
            };
            // MySQL 8 prefixes the key with the table (`users.email`): accept both spellings.
            let got = v
                .constraint
                .as_deref()
                .map(|c| c.rsplit('.').next().unwrap_or(c));
            assert_eq!(got, constraint.as_deref(), "{v:?}");
            assert!(!v.message.is_empty());
        }
        other => panic!("{backend}: expected UniqueViolation, got {other:?}"),
    }
}

fn unique_composite(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "uniq2"));
    let sql = format!(
        "INSERT INTO {} (id, email, name, tenant, handle) VALUES (2, 'b@x', 'Bob', 1, 'ann')",
        fx.users
    );
    match provoke(&mut conn, "unique_composite", &sql, &fx.users_ctx()) {
        Error::UniqueViolation(v) => {
            assert_eq!(v.table.as_deref(), Some(fx.users), "{v:?}");
            assert_eq!(
                v.columns,
                vec!["tenant".to_string(), "handle".to_string()],
                "{v:?}"
            );
            assert_eq!(
                v.field, None,
                "two columns: no single field to blame; {v:?}"
            );
            if backend != BackendKind::Sqlite {
                let want = format!("{}_tenant_handle_key", fx.users);
                let got = v
                    .constraint
                    .as_deref()
                    .map(|c| c.rsplit('.').next().unwrap_or(c));
                assert_eq!(got, Some(want.as_str()), "{v:?}");
            }
        }
        other => panic!("{backend}: expected UniqueViolation, got {other:?}"),
    }
}

fn unique_primary_key(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "pk"));
    let sql = format!(
        "INSERT INTO {} (id, email, name) VALUES (1, 'c@x', 'Cid')",
        fx.users
    );
    match provoke(&mut conn, "primary_key", &sql, &fx.users_ctx()) {
        Error::UniqueViolation(v) => {
            assert_eq!(v.table.as_deref(), Some(fx.users), "{v:?}");
            assert_eq!(v.columns, vec!["id".to_string()], "{v:?}");
            assert_eq!(v.field.as_deref(), Some("id"), "{v:?}");
            match backend {
                BackendKind::Postgres => {
                    assert_eq!(v.constraint, Some(format!("{}_pkey", fx.users)), "{v:?}")
                }
                BackendKind::Mysql => {
                    let got = v
                        .constraint
                        .as_deref()
                        .map(|c| c.rsplit('.').next().unwrap_or(c));
                    assert_eq!(got, Some("PRIMARY"), "{v:?}")
                }
                BackendKind::Sqlite => assert_eq!(v.constraint, None, "{v:?}"),
            }
        }
        other => panic!("{backend}: expected UniqueViolation, got {other:?}"),
    }
}

fn fk_insert(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "fkins"));
    let sql = format!(
        "INSERT INTO {} (id, author_id, title) VALUES (2, 99, 't')",
        fx.posts
    );
    match provoke(&mut conn, "fk_insert_missing_parent", &sql, &fx.posts_ctx()) {
        Error::ForeignKeyViolation(v) => match backend {
            BackendKind::Postgres => {
                assert_eq!(
                    v.constraint,
                    Some(format!("{}_author_id_fkey", fx.posts)),
                    "{v:?}"
                );
                assert_eq!(v.table.as_deref(), Some(fx.posts), "{v:?}");
                assert_eq!(v.referenced_table.as_deref(), Some(fx.users), "{v:?}");
            }
            BackendKind::Mysql => {
                assert_eq!(v.constraint, Some(format!("{}_ibfk_1", fx.posts)), "{v:?}");
                assert_eq!(v.table.as_deref(), Some(fx.posts), "{v:?}");
                assert_eq!(v.referenced_table.as_deref(), Some(fx.users), "{v:?}");
            }
            BackendKind::Sqlite => {
                // SQLite names nothing; the statement's table is not necessarily the
                // referencing one, so nothing is guessed.
                assert_eq!((v.constraint, v.referenced_table), (None, None));
            }
        },
        other => panic!("{backend}: expected ForeignKeyViolation, got {other:?}"),
    }
}

fn fk_delete(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "fkdel"));
    let sql = format!("DELETE FROM {} WHERE id = 1", fx.users);
    match provoke(
        &mut conn,
        "fk_delete_referenced_parent",
        &sql,
        &fx.users_ctx(),
    ) {
        Error::ForeignKeyViolation(v) => match backend {
            BackendKind::Postgres | BackendKind::Mysql => {
                let constraint = if backend == BackendKind::Postgres {
                    format!("{}_author_id_fkey", fx.posts)
                } else {
                    format!("{}_ibfk_1", fx.posts)
                };
                assert_eq!(v.constraint, Some(constraint), "{v:?}");
                // `table` is the referencing table (posts), `referenced_table` the parent.
                assert_eq!(v.table.as_deref(), Some(fx.posts), "{v:?}");
                assert_eq!(v.referenced_table.as_deref(), Some(fx.users), "{v:?}");
            }
            BackendKind::Sqlite => {
                assert_eq!((v.constraint, v.referenced_table), (None, None));
            }
        },
        other => panic!("{backend}: expected ForeignKeyViolation, got {other:?}"),
    }
}

fn not_null_explicit(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "nn1"));
    let sql = format!(
        "INSERT INTO {} (id, email, name) VALUES (3, 'd@x', NULL)",
        fx.users
    );
    match provoke(&mut conn, "not_null_explicit", &sql, &fx.users_ctx()) {
        Error::NotNullViolation {
            table,
            column,
            message,
        } => {
            assert_eq!(column.as_deref(), Some("name"), "{message}");
            assert_eq!(table.as_deref(), Some(fx.users), "{message}");
        }
        other => panic!("{backend}: expected NotNullViolation, got {other:?}"),
    }
}

fn not_null_omitted(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "nn2"));
    let sql = format!("INSERT INTO {} (id, email) VALUES (3, 'd@x')", fx.users);
    match provoke(&mut conn, "not_null_omitted", &sql, &fx.users_ctx()) {
        Error::NotNullViolation {
            table,
            column,
            message,
        } => {
            assert_eq!(column.as_deref(), Some("name"), "{message}");
            assert_eq!(table.as_deref(), Some(fx.users), "{message}");
        }
        other => panic!("{backend}: expected NotNullViolation, got {other:?}"),
    }
}

fn check_named(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "chk1"));
    let sql = format!("UPDATE {} SET age = -1 WHERE id = 1", fx.users);
    match provoke(&mut conn, "check_named", &sql, &fx.users_ctx()) {
        Error::CheckViolation {
            constraint,
            table,
            message,
        } => {
            assert_eq!(
                constraint,
                Some(format!("{}_age_positive", fx.users)),
                "{message}"
            );
            assert_eq!(table.as_deref(), Some(fx.users), "{message}");
        }
        other => panic!("{backend}: expected CheckViolation, got {other:?}"),
    }
}

fn check_unnamed(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "chk2"));
    let sql = format!("UPDATE {} SET name = '' WHERE id = 1", fx.users);
    match provoke(&mut conn, "check_unnamed", &sql, &fx.users_ctx()) {
        Error::CheckViolation {
            constraint,
            table,
            message,
        } => {
            let want = match backend {
                BackendKind::Postgres => format!("{}_name_check", fx.users),
                // MariaDB numbers unnamed table-level checks.
                BackendKind::Mysql => "CONSTRAINT_1".to_string(),
                // SQLite reports the expression when the check has no name.
                BackendKind::Sqlite => "length(name) > 0".to_string(),
            };
            assert_eq!(constraint, Some(want), "{message}");
            assert_eq!(table.as_deref(), Some(fx.users), "{message}");
        }
        other => panic!("{backend}: expected CheckViolation, got {other:?}"),
    }
}

macro_rules! per_backend {
    ($($case:ident),* $(,)?) => {
        mod postgres { $( #[test] fn $case() { super::$case(kysera::error::BackendKind::Postgres) } )* }
        mod mysql { $( #[test] fn $case() { super::$case(kysera::error::BackendKind::Mysql) } )* }
        mod sqlite { $( #[test] fn $case() { super::$case(kysera::error::BackendKind::Sqlite) } )* }
    };
}

/// The same duplicate through `batch_execute` (text protocol; MySQL errors arrive as `Unknown`
/// there), as migrations and raw SQL helpers run it.
fn unique_single_batch(backend: BackendKind) {
    let (fx, mut conn) = Fixture::new(backend, &tag(backend, "uniqb"));
    let sql = format!(
        "INSERT INTO {} (id, email, name) VALUES (2, 'a@x', 'Bob')",
        fx.users
    );
    let err = expect_err(conn.batch(&sql), "batch duplicate");
    capture(backend, "unique_single_batch", &err);
    match from_diesel(err, &fx.users_ctx()) {
        Error::UniqueViolation(v) => {
            assert_eq!(v.columns, vec!["email".to_string()], "{v:?}");
            assert_eq!(v.field.as_deref(), Some("email_address"), "{v:?}");
        }
        other => panic!("{backend}: expected UniqueViolation, got {other:?}"),
    }
}

per_backend!(
    unique_single,
    unique_single_batch,
    unique_composite,
    unique_primary_key,
    fk_insert,
    fk_delete,
    not_null_explicit,
    not_null_omitted,
    check_named,
    check_unnamed,
);

// ---------------------------------------------------------------------------------------------
// Transient failures
// ---------------------------------------------------------------------------------------------

fn ctx(backend: BackendKind) -> ErrorContext {
    ErrorContext {
        backend: Some(backend),
        ..ErrorContext::default()
    }
}

/// Write skew under SERIALIZABLE: both transactions read the whole table and insert; the one
/// committing second fails with SQLSTATE 40001 at COMMIT, returned through diesel's
/// transaction manager exactly as a repository would see it.
#[test]
fn postgres_serialization_failure() {
    let (fx, mut a) = Fixture::new(BackendKind::Postgres, "pg_ser");
    let mut b = Conn::Pg(connect_pg());
    let (Conn::Pg(a_pg), Conn::Pg(b_pg)) = (&mut a, &mut b) else {
        unreachable!()
    };
    let users = fx.users;
    let result = a_pg.build_transaction().serializable().run(|a_pg| {
        diesel::sql_query(format!("SELECT count(*) FROM {users}")).execute(a_pg)?;
        b_pg.build_transaction().serializable().run(|b_pg| {
            diesel::sql_query(format!("SELECT count(*) FROM {users}")).execute(b_pg)?;
            diesel::sql_query(format!(
                "INSERT INTO {users} (id, email, name) VALUES (10, 'b10@x', 'B')"
            ))
            .execute(b_pg)
        })?;
        diesel::sql_query(format!(
            "INSERT INTO {users} (id, email, name) VALUES (11, 'a11@x', 'A')"
        ))
        .execute(a_pg)
    });
    let err = expect_err(result, "serializable write skew");
    capture(BackendKind::Postgres, "serialization_failure", &err);
    match from_diesel(err, &ctx(BackendKind::Postgres)) {
        e @ Error::SerializationFailure { .. } => assert!(e.is_transient()),
        other => panic!("expected SerializationFailure, got {other:?}"),
    }
}

/// Two threads lock two rows in opposite order; the server aborts one of them.
fn deadlock(backend: BackendKind, connect: fn() -> Conn, table: &'static str) -> DieselError {
    let mut setup = connect();
    let _ = setup.batch(&format!("DROP TABLE IF EXISTS {table}"));
    let engine = if backend == BackendKind::Mysql {
        " ENGINE=InnoDB"
    } else {
        ""
    };
    setup
        .batch(&format!(
            "CREATE TABLE {table} (id INTEGER PRIMARY KEY, v INTEGER NOT NULL){engine};
             INSERT INTO {table} (id, v) VALUES (1, 0), (2, 0);"
        ))
        .expect("create lock table");
    let barrier = Arc::new(Barrier::new(2));
    let worker = |first: i32, second: i32| {
        let barrier = Arc::clone(&barrier);
        // Connected here, so an unreachable server fails the test instead of leaving the
        // other thread waiting at the barrier.
        let mut conn = connect();
        thread::spawn(move || -> QueryResult<()> {
            // Safety net so a broken deadlock detector fails the test instead of hanging it.
            let timeout = match backend {
                BackendKind::Postgres => "SET statement_timeout = '20s'",
                _ => "SET innodb_lock_wait_timeout = 20",
            };
            let first_lock = (|| {
                conn.batch(timeout)?;
                conn.batch("BEGIN")?;
                conn.exec(&format!("UPDATE {table} SET v = v + 1 WHERE id = {first}"))
            })();
            // Both threads reach the barrier exactly once, whatever happened before it.
            barrier.wait();
            let result = first_lock.and_then(|_| {
                conn.exec(&format!("UPDATE {table} SET v = v + 1 WHERE id = {second}"))?;
                conn.batch("COMMIT")
            });
            if result.is_err() {
                let _ = conn.batch("ROLLBACK");
            }
            result
        })
    };
    let t1 = worker(1, 2);
    let t2 = worker(2, 1);
    let r1 = t1.join().expect("thread 1 panicked");
    let r2 = t2.join().expect("thread 2 panicked");
    let _ = setup.batch(&format!("DROP TABLE IF EXISTS {table}"));
    match (r1, r2) {
        (Err(e), Ok(())) | (Ok(()), Err(e)) => e,
        (Ok(()), Ok(())) => panic!("{backend}: no deadlock happened"),
        (Err(e1), Err(e2)) => panic!("{backend}: both sides failed: {e1:?} / {e2:?}"),
    }
}

#[test]
fn postgres_deadlock() {
    let err = deadlock(
        BackendKind::Postgres,
        || Conn::Pg(connect_pg()),
        "errlab_pg_deadlock",
    );
    capture(BackendKind::Postgres, "deadlock", &err);
    match from_diesel(err, &ctx(BackendKind::Postgres)) {
        e @ Error::Deadlock { .. } => assert!(e.is_transient()),
        other => panic!("expected Deadlock, got {other:?}"),
    }
}

#[test]
fn mysql_deadlock() {
    let err = deadlock(
        BackendKind::Mysql,
        || Conn::My(connect_mysql()),
        "errlab_my_deadlock",
    );
    capture(BackendKind::Mysql, "deadlock", &err);
    match from_diesel(err, &ctx(BackendKind::Mysql)) {
        e @ Error::Deadlock { .. } => assert!(e.is_transient()),
        other => panic!("expected Deadlock, got {other:?}"),
    }
}

#[test]
fn mysql_lock_wait_timeout() {
    let table = "errlab_my_lockwait";
    let mut a = Conn::My(connect_mysql());
    let mut b = Conn::My(connect_mysql());
    let _ = a.batch(&format!("DROP TABLE IF EXISTS {table}"));
    a.batch(&format!(
        "CREATE TABLE {table} (id INTEGER PRIMARY KEY, v INTEGER NOT NULL) ENGINE=InnoDB;
         INSERT INTO {table} (id, v) VALUES (1, 0);"
    ))
    .expect("create lock table");
    a.batch("BEGIN").expect("begin");
    a.exec(&format!("UPDATE {table} SET v = 1 WHERE id = 1"))
        .expect("lock row");
    b.batch("SET innodb_lock_wait_timeout = 1")
        .expect("set timeout");
    let result = b.exec(&format!("UPDATE {table} SET v = 2 WHERE id = 1"));
    let _ = a.batch("ROLLBACK");
    let _ = a.batch(&format!("DROP TABLE IF EXISTS {table}"));
    let err = expect_err(result, "lock wait");
    capture(BackendKind::Mysql, "lock_wait_timeout", &err);
    match from_diesel(err, &ctx(BackendKind::Mysql)) {
        e @ Error::Busy { .. } => assert!(e.is_transient()),
        other => panic!("expected Busy, got {other:?}"),
    }
}

#[test]
fn postgres_lock_timeout() {
    let table = "errlab_pg_locktimeout";
    let mut a = Conn::Pg(connect_pg());
    let mut b = Conn::Pg(connect_pg());
    let _ = a.batch(&format!("DROP TABLE IF EXISTS {table}"));
    a.batch(&format!(
        "CREATE TABLE {table} (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
         INSERT INTO {table} (id, v) VALUES (1, 0);"
    ))
    .expect("create lock table");
    a.batch("BEGIN").expect("begin");
    a.exec(&format!("UPDATE {table} SET v = 1 WHERE id = 1"))
        .expect("lock row");
    b.batch("SET lock_timeout = '200ms'").expect("set timeout");
    let timeout = b.exec(&format!("UPDATE {table} SET v = 2 WHERE id = 1"));
    let nowait = b.exec(&format!(
        "SELECT * FROM {table} WHERE id = 1 FOR UPDATE NOWAIT"
    ));
    let _ = a.batch("ROLLBACK");
    let _ = a.batch(&format!("DROP TABLE IF EXISTS {table}"));
    for (case, result) in [("lock_timeout", timeout), ("for_update_nowait", nowait)] {
        let err = expect_err(result, case);
        capture(BackendKind::Postgres, case, &err);
        match from_diesel(err, &ctx(BackendKind::Postgres)) {
            e @ Error::Busy { .. } => assert!(e.is_transient()),
            other => panic!("{case}: expected Busy, got {other:?}"),
        }
    }
}

#[test]
fn sqlite_busy() {
    let path = sqlite_path("busy");
    let mut a = Conn::Lite(connect_sqlite(&path));
    let mut b = Conn::Lite(connect_sqlite(&path));
    a.batch("CREATE TABLE errlab_busy (id INTEGER PRIMARY KEY)")
        .expect("create");
    // An open write transaction on `a`; `b` has busy_timeout 0, so it fails at once.
    a.batch("BEGIN IMMEDIATE; INSERT INTO errlab_busy (id) VALUES (1);")
        .expect("write txn");
    let result = b.exec("INSERT INTO errlab_busy (id) VALUES (2)");
    let begin_result = b.batch("BEGIN IMMEDIATE");
    let _ = a.batch("ROLLBACK");
    drop((a, b));
    let _ = std::fs::remove_file(&path);
    for (case, err) in [
        ("busy_insert", expect_err(result, "insert while locked")),
        (
            "busy_begin_immediate",
            expect_err(begin_result.map(|()| 0), "begin while locked"),
        ),
    ] {
        capture(BackendKind::Sqlite, case, &err);
        match from_diesel(err, &ctx(BackendKind::Sqlite)) {
            e @ Error::Busy { .. } => assert!(e.is_transient()),
            other => panic!("{case}: expected Busy, got {other:?}"),
        }
    }
}

/// Checks a lost-connection error with and without the backend in the context (then the
/// classifier has to guess the backend from the message).
fn assert_lost(backend: BackendKind, case: &str, err: DieselError) {
    capture(backend, case, &err);
    let message_only = match &err {
        DieselError::DatabaseError(kind, info) => Some((*kind, info.message().to_string())),
        _ => None,
    };
    match from_diesel(err, &ctx(backend)) {
        e @ Error::Connection { lost: true, .. } => {
            assert!(e.is_transient());
            let Error::Connection { backend: b, .. } = e else {
                unreachable!()
            };
            assert_eq!(b, backend);
        }
        other => panic!("{case}: expected Connection {{ lost: true }}, got {other:?}"),
    }
    // Same message, no context: still a lost connection, backend guessed from the wording.
    if let Some((kind, message)) = message_only {
        let again = DieselError::DatabaseError(kind, Box::new(message));
        match from_diesel(again, &ErrorContext::default()) {
            Error::Connection {
                lost: true,
                backend: b,
                ..
            } => {
                assert_eq!(b, backend, "{case}: backend guessed from the message")
            }
            other => panic!("{case} (no ctx): expected Connection {{ lost: true }}, got {other:?}"),
        }
    }
}

/// Polls `done` (each call is a server round trip) until it holds, for at most 10 seconds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
    }
}

#[test]
fn postgres_connection_lost() {
    let mut victim = connect_pg();
    let mut killer = connect_pg();
    let pid: i32 = diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()"))
        .get_result(&mut victim)
        .expect("backend pid");
    let killed: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "pg_terminate_backend({pid})"
    )))
    .get_result(&mut killer)
    .expect("terminate");
    assert!(killed);
    // Wait until the server has really dropped the session.
    wait_until("terminated backend gone", || {
        let alive: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
            "(SELECT COUNT(*) FROM pg_stat_activity WHERE pid = {pid})"
        )))
        .get_result(&mut killer)
        .expect("pg_stat_activity");
        alive == 0
    });
    let first = expect_err(
        diesel::sql_query("SELECT 1").execute(&mut victim),
        "after terminate",
    );
    assert_lost(BackendKind::Postgres, "lost_first_query", first);
    let second = expect_err(
        diesel::sql_query("SELECT 1").execute(&mut victim),
        "dead conn",
    );
    assert_lost(BackendKind::Postgres, "lost_second_query", second);
}

#[test]
fn mysql_connection_lost() {
    let mut victim = connect_mysql();
    let mut killer = connect_mysql();
    let id: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
        "CAST(CONNECTION_ID() AS SIGNED)",
    ))
    .get_result(&mut victim)
    .expect("connection id");
    killer.batch_execute(&format!("KILL {id}")).expect("kill");
    wait_until("killed connection gone", || {
        let alive: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
            "(SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id})"
        )))
        .get_result(&mut killer)
        .expect("processlist");
        alive == 0
    });
    let first = expect_err(
        diesel::sql_query("SELECT 1").execute(&mut victim),
        "after KILL",
    );
    assert_lost(BackendKind::Mysql, "lost_first_query", first);
    let second = expect_err(
        diesel::sql_query("SELECT 2").execute(&mut victim),
        "dead conn",
    );
    assert_lost(BackendKind::Mysql, "lost_second_query", second);
}
