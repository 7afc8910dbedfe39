//! `kysera migrate ...` against the built binary, in a temporary project directory, on every
//! backend: SQLite (a file in the project), PostgreSQL and MySQL (a fresh database per test,
//! created on the server named by `KYSERA_TEST_POSTGRES_URL` / `KYSERA_TEST_MYSQL_URL` and
//! dropped afterwards). An unreachable server fails the test; nothing is skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{kysera, stderr, stdout};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

/// A temporary project: a directory with `kysera.toml` pointing at a fresh database.
struct Project {
    dir: tempfile::TempDir,
    backend: Backend,
    /// The URL written to kysera.toml (relative for SQLite).
    url: String,
    /// Server URL and database name to drop afterwards.
    server: Option<(String, String)>,
}

fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "kysera_cli_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

/// `url` with its database (the last path segment) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Project {
    fn new(backend: Backend) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, server) = match backend {
            Backend::Sqlite => ("sqlite://app.db".to_string(), None),
            Backend::Postgres | Backend::Mysql => {
                let (var, default) = if backend == Backend::Postgres {
                    (
                        "KYSERA_TEST_POSTGRES_URL",
                        "postgres://postgres@127.0.0.1:5432/test",
                    )
                } else {
                    ("KYSERA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
                };
                let admin = std::env::var(var).unwrap_or_else(|_| default.to_string());
                let name = unique_name();
                let conn = kysera::Conn::establish(&admin)
                    .unwrap_or_else(|e| panic!("cannot reach the test server {var}={admin}: {e}"));
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                (with_database(&admin, &name), Some((admin, name)))
            }
        };
        let project = Project {
            dir,
            backend,
            url,
            server,
        };
        project.write(
            "kysera.toml",
            &format!("[database]\nurl = \"{}\"\n", project.url),
        );
        project
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Writes `migrations/<name>/up.sql` and `down.sql`.
    fn migration(&self, name: &str, up: &str, down: &str) {
        self.write(&format!("migrations/{name}/up.sql"), up);
        self.write(&format!("migrations/{name}/down.sql"), down);
    }

    /// The two migrations most tests use: a users table and a posts table.
    fn standard_migrations(&self) {
        let id = match self.backend {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGSERIAL PRIMARY KEY",
            Backend::Mysql => "BIGINT AUTO_INCREMENT PRIMARY KEY",
        };
        self.migration(
            "2024-01-01-000000_create_users",
            &format!("CREATE TABLE users (id {id}, email VARCHAR(255) NOT NULL);\n"),
            "DROP TABLE users;\n",
        );
        self.migration(
            "2024-01-02-000000_create_posts",
            &format!("CREATE TABLE posts (id {id}, title VARCHAR(255) NOT NULL);\n"),
            "DROP TABLE posts;\n",
        );
    }

    /// Runs `kysera args...` in the project with stdin closed (not a terminal).
    fn run(&self, args: &[&str]) -> Output {
        kysera()
            .current_dir(self.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run kysera")
    }

    /// Runs and asserts success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "kysera {args:?} failed on {:?}:\nstdout:\n{}\nstderr:\n{}",
            self.backend,
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
    }

    /// Runs and asserts failure with exit code 1; returns (stdout, stderr).
    fn fails(&self, args: &[&str]) -> (String, String) {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "kysera {args:?} should fail on {:?}:\nstdout:\n{}\nstderr:\n{}",
            self.backend,
            stdout(&output),
            stderr(&output)
        );
        (stdout(&output), stderr(&output))
    }

    fn status_json(&self) -> Value {
        serde_json::from_str(&self.ok(&["migrate", "status", "--json"])).expect("status JSON")
    }

    /// (applied, pending) names.
    fn states(&self) -> (Vec<String>, Vec<String>) {
        let status = self.status_json();
        let names = |key: &str| -> Vec<String> {
            status[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_string())
                .collect()
        };
        (names("applied"), names("pending"))
    }

    fn conn(&self) -> kysera::Conn {
        let url = match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.path().join("app.db").display()),
            _ => self.url.clone(),
        };
        kysera::Conn::establish(&url).expect("connect to the test database")
    }

    fn table_exists(&self, table: &str) -> bool {
        self.conn()
            .batch_execute(&format!("SELECT 1 FROM {table} WHERE 1 = 0"))
            .is_ok()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.server {
            let sql = match self.backend {
                Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            if let Ok(conn) = kysera::Conn::establish(admin) {
                let _ = conn.batch_execute(&sql);
            }
        }
    }
}

fn names(n: usize) -> Vec<String> {
    [
        "2024-01-01-000000_create_users",
        "2024-01-02-000000_create_posts",
        "2024-01-03-000000_third",
    ][..n]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Scenarios, each run on every backend (see `per_backend!` at the end).

fn create_writes_backend_sql_that_runs(backend: Backend) {
    let p = Project::new(backend);
    let out = p.ok(&[
        "migrate",
        "create",
        "create_users",
        "--template",
        "create-table",
        "--table",
        "users",
        "--columns",
        "email:varchar(255):not_null:unique,active:boolean,meta:json,score:bigint,seen_at:timestamp",
    ]);
    assert!(out.contains("Created migration"), "{out}");
    p.ok(&[
        "migrate",
        "create",
        "add_user_columns",
        "--template",
        "add-columns",
        "--table",
        "users",
        "--columns",
        "bio:text,avatar_url:varchar(255)",
    ]);
    p.ok(&[
        "migrate",
        "create",
        "create_email_index",
        "--template",
        "create-index",
        "--table",
        "users",
        "--columns",
        "email",
    ]);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(p.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 3);
    let first = dirs[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(first.ends_with("_create_users"), "{first}");
    // YYYY-MM-DD-HHMMSS
    assert_eq!(first.find('_'), Some(17), "{first}");
    let up = std::fs::read_to_string(dirs[0].join("up.sql")).unwrap();
    let id = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        Backend::Mysql => "BIGINT AUTO_INCREMENT PRIMARY KEY",
    };
    assert!(up.contains(id), "{up}");

    let out = p.ok(&["migrate", "up"]);
    assert!(out.contains("3 migrations applied"), "{out}");
    p.conn()
        .batch_execute(
            "INSERT INTO users (email, active, bio, avatar_url, score) VALUES ('a@example.com', TRUE, 'hi', 'x.png', 1)",
        )
        .expect("the generated table takes rows");
    let out = p.ok(&["migrate", "reset", "--force"]);
    assert!(out.contains("3 migrations rolled back"), "{out}");
    assert!(!p.table_exists("users"));
}

fn up_status_down(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    let (applied, pending) = p.states();
    assert!(applied.is_empty());
    assert_eq!(pending, names(2));

    let out = p.ok(&["migrate", "up"]);
    assert!(
        out.contains("↑ 2024-01-01-000000_create_users ✓ ("),
        "{out}"
    );
    assert!(
        out.contains("↑ 2024-01-02-000000_create_posts ✓ ("),
        "{out}"
    );
    assert!(out.contains("2 migrations applied in "), "{out}");
    assert!(p.table_exists("users") && p.table_exists("posts"));
    assert_eq!(p.states(), (names(2), vec![]));

    let out = p.ok(&["migrate", "up"]);
    assert!(out.contains("Nothing to migrate"), "{out}");

    let text = p.ok(&["migrate", "status"]);
    assert!(text.contains("Executed (2):"), "{text}");
    assert!(text.contains("✓ 2024-01-01-000000_create_users"), "{text}");
    assert!(text.contains("Pending (0):"), "{text}");
    let status = p.status_json();
    let first = &status["applied"][0];
    assert_eq!(first["version"], "20240101000000");
    assert_eq!(first["state"], "applied");
    assert!(first["applied_at"].is_string(), "{status}");
    assert!(first["duration_ms"].is_i64(), "{status}");
    assert_eq!(first["changed"], false);
    assert!(status["changed"].as_array().unwrap().is_empty());
    assert!(status["missing"].as_array().unwrap().is_empty());

    let out = p.ok(&["migrate", "down"]);
    assert!(
        out.contains("↓ 2024-01-02-000000_create_posts ✓ ("),
        "{out}"
    );
    assert!(out.contains("1 migration rolled back in "), "{out}");
    assert!(!p.table_exists("posts"));
    assert!(p.table_exists("users"));
    assert_eq!(p.states(), (names(1), vec![names(2)[1].clone()]));

    let list: Value =
        serde_json::from_str(&p.ok(&["migrate", "list", "--pending", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "2024-01-02-000000_create_posts");
    let list: Value =
        serde_json::from_str(&p.ok(&["migrate", "list", "--executed", "--json"])).unwrap();
    assert_eq!(list[0]["name"], "2024-01-01-000000_create_users");
    let text = p.ok(&["migrate", "list"]);
    assert!(text.contains("- 2024-01-02-000000_create_posts"), "{text}");

    // --steps and --to
    p.ok(&["migrate", "down", "--to", "20240101000000"]);
    assert_eq!(p.states(), (names(1), vec![names(2)[1].clone()]));
    p.ok(&["migrate", "down", "--steps", "5"]);
    assert_eq!(p.states().0.len(), 0);
    p.ok(&["migrate", "up", "--steps", "1"]);
    assert_eq!(p.states(), (names(1), vec![names(2)[1].clone()]));
    p.ok(&["migrate", "up", "--to", "2024-01-02-000000_create_posts"]);
    assert_eq!(p.states(), (names(2), vec![]));

    // Missing directory of an applied migration.
    std::fs::remove_dir_all(p.path().join("migrations/2024-01-02-000000_create_posts")).unwrap();
    let status = p.status_json();
    assert_eq!(
        status["missing"][0]["name"], "2024-01-02-000000_create_posts",
        "{status}"
    );
}

fn json_runs(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    let run: Value = serde_json::from_str(&p.ok(&["migrate", "up", "--json"])).unwrap();
    assert_eq!(run["command"], "up");
    assert_eq!(run["migrations"].as_array().unwrap().len(), 2);
    assert_eq!(run["migrations"][0]["direction"], "up");
    let run: Value = serde_json::from_str(&p.ok(&["migrate", "down", "--json"])).unwrap();
    assert_eq!(
        run["migrations"][0]["name"],
        "2024-01-02-000000_create_posts"
    );
    assert_eq!(run["migrations"][0]["direction"], "down");
}

fn redo_reverts_and_reapplies(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    p.ok(&["migrate", "up"]);
    p.conn()
        .batch_execute("INSERT INTO posts (title) VALUES ('hello')")
        .unwrap();
    let out = p.ok(&["migrate", "redo"]);
    let down = out.find("↓ 2024-01-02-000000_create_posts ✓").expect(&out);
    let up = out.find("↑ 2024-01-02-000000_create_posts ✓").expect(&out);
    assert!(down < up, "{out}");
    assert!(!out.contains("create_users"), "{out}");
    assert_eq!(p.states(), (names(2), vec![]));
    // The table was recreated: the row is gone.
    let rows = p
        .conn()
        .batch_execute("INSERT INTO posts (title) VALUES ('again')");
    assert!(rows.is_ok());

    let out = p.ok(&["migrate", "redo", "--steps", "2"]);
    assert!(out.contains("2 migrations redone"), "{out}");
}

fn reset_and_fresh_with_force(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    p.ok(&["migrate", "up"]);
    let out = p.ok(&["migrate", "reset", "--force"]);
    let posts = out.find("↓ 2024-01-02-000000_create_posts").expect(&out);
    let users = out.find("↓ 2024-01-01-000000_create_users").expect(&out);
    assert!(posts < users, "newest first: {out}");
    assert!(out.contains("2 migrations rolled back"), "{out}");
    assert!(!p.table_exists("users") && !p.table_exists("posts"));
    assert_eq!(p.states(), (vec![], names(2)));

    p.ok(&["migrate", "up", "--steps", "1"]);
    p.conn()
        .batch_execute("CREATE TABLE stray (id INTEGER)")
        .unwrap();
    let out = p.ok(&["migrate", "fresh", "--force"]);
    assert!(out.contains("2 migrations applied"), "{out}");
    assert!(!p.table_exists("stray"), "fresh drops every table");
    assert!(p.table_exists("users") && p.table_exists("posts"));
    assert_eq!(p.states(), (names(2), vec![]));
}

fn destructive_commands_refuse_without_a_terminal(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    p.ok(&["migrate", "up"]);
    for args in [
        &["migrate", "reset"][..],
        &["migrate", "down", "--all"],
        &["migrate", "fresh"],
    ] {
        let (_, err) = p.fails(args);
        assert!(err.contains("--force"), "{args:?}: {err}");
        assert!(err.contains("not a terminal"), "{args:?}: {err}");
        assert_eq!(p.states(), (names(2), vec![]), "{args:?} changed nothing");
        assert!(p.table_exists("users"));
    }
    let out = p.ok(&["migrate", "down", "--all", "--force"]);
    assert!(out.contains("2 migrations rolled back"), "{out}");
}

fn dry_run_changes_nothing(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    let out = p.ok(&["migrate", "up", "--dry-run"]);
    let users = out.find("CREATE TABLE users").expect(&out);
    let posts = out.find("CREATE TABLE posts").expect(&out);
    assert!(users < posts, "in order: {out}");
    assert!(out.contains("2 migrations would be applied"), "{out}");
    assert_eq!(p.states(), (vec![], names(2)));
    assert!(!p.table_exists("users"));

    let json: Value =
        serde_json::from_str(&p.ok(&["migrate", "up", "--dry-run", "--json", "--steps", "1"]))
            .unwrap();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["migrations"].as_array().unwrap().len(), 1);
    assert!(json["migrations"][0]["sql"]
        .as_str()
        .unwrap()
        .contains("CREATE TABLE users"));

    p.ok(&["migrate", "up"]);
    // A dry run of a destructive command needs no confirmation and changes nothing.
    let out = p.ok(&["migrate", "down", "--all", "--dry-run"]);
    let posts = out.find("DROP TABLE posts").expect(&out);
    let users = out.find("DROP TABLE users").expect(&out);
    assert!(posts < users, "newest first: {out}");
    assert_eq!(p.states(), (names(2), vec![]));
    assert!(p.table_exists("users") && p.table_exists("posts"));
}

fn edited_applied_migration_is_refused(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    p.ok(&["migrate", "up"]);
    let up = p
        .path()
        .join("migrations/2024-01-01-000000_create_users/up.sql");
    let mut text = std::fs::read_to_string(&up).unwrap();
    text.push_str("-- edited after it ran\n");
    std::fs::write(&up, text).unwrap();
    p.migration(
        "2024-01-03-000000_third",
        "CREATE TABLE third (id INTEGER);\n",
        "DROP TABLE third;\n",
    );

    for args in [&["migrate", "up"][..], &["migrate", "up", "--dry-run"]] {
        let (out, err) = p.fails(args);
        assert!(err.contains("E002"), "{err}");
        assert!(err.contains("2024-01-01-000000_create_users"), "{err}");
        assert!(err.contains("--accept-changed"), "{err}");
        assert!(!out.contains("↑"), "nothing ran: {out}");
    }
    let (_, err) = p.fails(&["migrate", "redo"]);
    assert!(err.contains("E002"), "{err}");
    assert!(!p.table_exists("third"));
    let status = p.status_json();
    assert_eq!(status["changed"][0], "2024-01-01-000000_create_users");
    assert_eq!(status["applied"][0]["changed"], true);
    assert_eq!(status["pending"][0]["name"], "2024-01-03-000000_third");
    let text = p.ok(&["migrate", "status"]);
    assert!(text.contains("Changed (1):"), "{text}");

    let out = p.ok(&["migrate", "up", "--accept-changed"]);
    assert!(out.contains("↑ 2024-01-03-000000_third ✓"), "{out}");
    assert!(p.status_json()["changed"].as_array().unwrap().is_empty());
    p.ok(&["migrate", "up"]);
}

fn failing_migration_is_not_recorded(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    // The first statement is valid: where DDL is transactional it must be rolled back too.
    p.migration(
        "2024-01-03-000000_broken",
        "CREATE TABLE half_done (id INTEGER);\nCREATE TABLE broken (;\n",
        "DROP TABLE broken;\n",
    );
    let (out, err) = p.fails(&["migrate", "up"]);
    assert!(out.contains("↑ 2024-01-02-000000_create_posts ✓"), "{out}");
    assert!(out.contains("↑ 2024-01-03-000000_broken ✗"), "{out}");
    assert!(err.contains("✗ Migration failed: E002"), "{err}");
    assert!(err.contains("2024-01-03-000000_broken/up.sql"), "{err}");
    assert!(err.contains("Suggestions:\n  1. "), "{err}");
    assert_eq!(
        p.states(),
        (names(2), vec!["2024-01-03-000000_broken".to_string()])
    );
    if backend != Backend::Mysql {
        assert!(!p.table_exists("half_done"), "rolled back");
    } else {
        assert!(err.contains("MySQL cannot roll back DDL"), "{err}");
    }
    let (_, err) = p.fails(&["migrate", "up", "--json"]);
    let json: Value = serde_json::from_str(err.trim()).expect(&err);
    assert_eq!(json["error"]["code"], "E002");
}

fn comment_only_migration_is_refused(backend: Backend) {
    let p = Project::new(backend);
    p.ok(&["migrate", "create", "empty_one"]);
    let (_, err) = p.fails(&["migrate", "up"]);
    assert!(err.contains("E002"), "{err}");
    assert!(err.contains("only comments"), "{err}");
    assert_eq!(p.states().0.len(), 0);
}

fn bad_config_reports_file_line_and_key(backend: Backend) {
    let p = Project::new(backend);
    p.standard_migrations();
    p.write(
        "kysera.toml",
        &format!(
            "[database]\nurl = \"{}\"\n\n[migrations]\ndirectory = 5\n",
            p.url
        ),
    );
    let (out, err) = p.fails(&["migrate", "status"]);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("Configuration error: E003"), "{err}");
    assert!(err.contains("kysera.toml:5:"), "{err}");
    assert!(err.contains("migrations.directory"), "{err}");
    assert!(err.contains("Fix line 5 of kysera.toml"), "{err}");

    p.write(
        "kysera.toml",
        &format!("[database]\nurl = \"{}\"\npoll = 3\n", p.url),
    );
    let (_, err) = p.fails(&["migrate", "up"]);
    assert!(err.contains("kysera.toml:3:"), "{err}");
    assert!(err.contains("database.poll"), "{err}");
    assert!(err.contains("unknown field"), "{err}");
    assert_eq!(p.states_unchecked_applied(), 0);
}

impl Project {
    /// Applied count, read with another configuration file (kysera.toml may be broken).
    fn states_unchecked_applied(&self) -> usize {
        self.write("ok.toml", &format!("[database]\nurl = \"{}\"\n", self.url));
        let output = kysera()
            .current_dir(self.path())
            .args(["migrate", "status", "--json", "--config", "ok.toml"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
        json["applied"].as_array().unwrap().len()
    }
}

macro_rules! per_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $test() { super::$test(super::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $test() { super::$test(super::Backend::Postgres) } )*
        }
        mod mysql {
            $( #[test] fn $test() { super::$test(super::Backend::Mysql) } )*
        }
    };
}

per_backend!(
    create_writes_backend_sql_that_runs,
    up_status_down,
    json_runs,
    redo_reverts_and_reapplies,
    reset_and_fresh_with_force,
    destructive_commands_refuse_without_a_terminal,
    dry_run_changes_nothing,
    edited_applied_migration_is_refused,
    failing_migration_is_not_recorded,
    comment_only_migration_is_refused,
    bad_config_reports_file_line_and_key,
);

// ---------------------------------------------------------------------------------------------
// Configuration layers and messages (SQLite only: they do not depend on the backend).

fn sqlite_project_without_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("migrations/2024-01-01-000000_a")).unwrap();
    std::fs::write(
        p.join("migrations/2024-01-01-000000_a/up.sql"),
        "CREATE TABLE a (id INTEGER);",
    )
    .unwrap();
    std::fs::write(
        p.join("migrations/2024-01-01-000000_a/down.sql"),
        "DROP TABLE a;",
    )
    .unwrap();
    dir
}

fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = kysera();
    command.current_dir(dir).args(args).stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[test]
fn default_database_is_an_sqlite_file_in_the_project() {
    let dir = sqlite_project_without_config();
    let output = run_in(dir.path(), &["migrate", "up"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("kysera.db").is_file());
    let output = run_in(dir.path(), &["migrate", "status"], &[]);
    assert!(stdout(&output).contains("sqlite://kysera.db"));
}

#[test]
fn flags_override_environment_override_dotenv_override_file() {
    let dir = sqlite_project_without_config();
    let p = dir.path();
    std::fs::write(
        p.join("kysera.toml"),
        "[database]\nurl = \"sqlite://file.db\"\n",
    )
    .unwrap();
    let url_of = |env: &[(&str, &str)], extra: &[&str]| -> String {
        let mut args = vec!["migrate", "status", "--json"];
        args.extend_from_slice(extra);
        let output = run_in(p, &args, env);
        assert!(output.status.success(), "{}", stderr(&output));
        let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
        json["database"]["url"].as_str().unwrap().to_string()
    };
    assert_eq!(url_of(&[], &[]), "sqlite://file.db");
    std::fs::write(p.join(".env"), "DATABASE_URL=sqlite://dotenv.db\n").unwrap();
    assert_eq!(url_of(&[], &[]), "sqlite://dotenv.db");
    assert_eq!(
        url_of(&[("DATABASE_URL", "sqlite://env.db")], &[]),
        "sqlite://env.db",
        ".env does not override the environment"
    );
    assert_eq!(
        url_of(
            &[("DATABASE_URL", "sqlite://env.db")],
            &["--database-url", "sqlite://flag.db"]
        ),
        "sqlite://flag.db"
    );
}

#[test]
fn config_file_and_migrations_dir_can_be_chosen() {
    let dir = sqlite_project_without_config();
    let p = dir.path();
    std::fs::create_dir_all(p.join("conf")).unwrap();
    std::fs::write(
        p.join("conf/other.toml"),
        "[database]\nurl = \"sqlite://other.db\"\n[migrations]\ndirectory = \"../migrations\"\n",
    )
    .unwrap();
    let output = run_in(
        p,
        &["migrate", "up"],
        &[("KYSERA_CONFIG", "conf/other.toml")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        p.join("conf/other.db").is_file(),
        "relative to the config file"
    );

    std::fs::create_dir_all(p.join("elsewhere")).unwrap();
    let output = run_in(
        p,
        &["migrate", "create", "x"],
        &[("KYSERA_MIGRATIONS_DIR", "elsewhere")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_dir(p.join("elsewhere")).unwrap().count(), 1);

    let output = run_in(p, &["migrate", "status", "--config", "missing.toml"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("E003"), "{}", stderr(&output));
    assert!(stderr(&output).contains("missing.toml"));
}

#[test]
fn renamed_migrations_table_is_a_configuration_error() {
    let dir = sqlite_project_without_config();
    std::fs::write(
        dir.path().join("kysera.toml"),
        "[migrations]\ntable = \"schema_versions\"\n",
    )
    .unwrap();
    let output = run_in(dir.path(), &["migrate", "status"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("E003") && err.contains("__diesel_schema_migrations"),
        "{err}"
    );
}

#[test]
fn connection_errors_never_show_the_password() {
    let dir = sqlite_project_without_config();
    for url in [
        "postgres://app:hunter2@127.0.0.1:1/app",
        "mysql://app:hunter2@127.0.0.1:1/app",
    ] {
        for args in [
            &["migrate", "status", "--database-url", url][..],
            &["migrate", "up", "--json", "--database-url", url],
        ] {
            let output = run_in(dir.path(), args, &[]);
            assert_eq!(output.status.code(), Some(1));
            let all = format!("{}{}", stdout(&output), stderr(&output));
            assert!(all.contains("E001"), "{all}");
            assert!(!all.contains("hunter2"), "{all}");
            assert!(all.contains("app:***@127.0.0.1:1"), "{all}");
        }
        let output = run_in(dir.path(), &["migrate", "status"], &[("DATABASE_URL", url)]);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            all.contains("DATABASE_URL") && !all.contains("hunter2"),
            "{all}"
        );
    }
}

#[test]
fn create_validates_names_types_and_templates() {
    let dir = sqlite_project_without_config();
    for args in [
        &["migrate", "create", "AddUsers"][..],
        &["migrate", "create", "x", "--template", "create-table"],
        &[
            "migrate",
            "create",
            "x",
            "--template",
            "add-columns",
            "--table",
            "users",
            "--columns",
            "bio:txet",
        ],
        &[
            "migrate",
            "create",
            "x",
            "--template",
            "create-table",
            "--table",
            "users;drop",
        ],
    ] {
        let output = run_in(dir.path(), args, &[]);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains("E005"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .count(),
        1,
        "nothing written"
    );
}

#[test]
fn every_migrate_subcommand_has_help_with_examples() {
    for sub in [
        "create", "up", "down", "redo", "status", "list", "reset", "fresh",
    ] {
        let output = common::run(&["migrate", sub, "--help"]);
        assert!(output.status.success(), "{sub}");
        let help = stdout(&output);
        assert!(help.contains("Examples:"), "{sub}:\n{help}");
        assert!(
            help.contains(&format!("kysera migrate {sub}")),
            "{sub}:\n{help}"
        );
    }
    let help = stdout(&common::run(&["migrate", "--help"]));
    assert!(help.contains("Examples:"), "{help}");
}
