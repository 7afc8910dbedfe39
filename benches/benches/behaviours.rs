//! What the model behaviours cost: `#[audited]` on `update_many`, and the `#[soft_delete]`
//! filter on reads. Each comparison runs two models that differ only in the behaviour under
//! test, over tables with the same columns and the same rows, on the same connection.
//!
//! * `audited_update_many`: one patch applied to the same 1,000 keys by
//!   [`Repo::update_many`](kysera::Repo::update_many) on `#[timestamps] #[soft_delete]`
//!   (`plain`) and on `#[timestamps] #[soft_delete] #[audited]` (`audited`). The statements
//!   each side issues are counted once, outside the timing, with Diesel's instrumentation.
//!   The audit table is emptied (untimed) every `AUDIT_CLEAN_EVERY` iterations.
//! * `soft_delete_find_by_id` and `soft_delete_find_all`: `#[timestamps]` (`plain`) against
//!   `#[timestamps] #[soft_delete]` (`soft_delete`) on 1,000 live rows, plus
//!   `with_deleted().find_all()` (`with_deleted`) on the soft-delete model.
//!
//! SQLite runs on a temporary file opened by kysera (WAL). PostgreSQL (feature `postgres`)
//! runs in a database of its own, `kysera_bench_<pid>`, created on the server at
//! `KYSERA_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and dropped
//! at the end, so its `audit_logs` table never meets anyone else's.
//!
//! Reads run with `ValidationMode::Never`.
//!
//! ```text
//! cargo bench -p kysera-benches --bench behaviours
//! cargo bench -p kysera-benches --bench behaviours --features postgres
//! ```

use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use criterion::{BatchSize, BenchmarkId, Criterion};
use diesel::connection::InstrumentationEvent;
use diesel::prelude::*;
use kysera::{BackendKind, Conn, ValidationMode};

/// Rows in each table; `find_all` reads all of them and `update_many` updates all of them.
const ROWS: usize = 1_000;
/// `update_many` iterations between two (untimed) clean-ups of `audit_logs`: the table holds
/// at most this many times 1,000 rows.
const AUDIT_CLEAN_EVERY: u64 = 10;

/// `#[timestamps]` only: the model without the soft-delete filter (`deleted_at` is an
/// ordinary column here, always NULL).
#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(table = "bench_plain_articles")]
#[timestamps]
struct PlainArticle {
    #[kysera(primary_key, generated)]
    id: i64,
    title: String,
    body: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

/// `#[timestamps] #[soft_delete]`: the soft-delete side of the reads, and the un-audited
/// side of `update_many`.
#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(table = "bench_articles")]
#[timestamps]
#[soft_delete]
struct Article {
    #[kysera(primary_key, generated)]
    id: i64,
    title: String,
    body: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

/// `#[timestamps] #[soft_delete] #[audited]`: [`Article`] with an audit trail.
#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(table = "bench_audited_articles")]
#[timestamps]
#[soft_delete]
#[audited]
struct AuditedArticle {
    #[kysera(primary_key, generated)]
    id: i64,
    title: String,
    body: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

/// The three tables (same columns) and the audit table.
fn ddl(backend: BackendKind) -> String {
    let id = match backend {
        BackendKind::Postgres => "BIGSERIAL PRIMARY KEY",
        _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
    };
    let tables = [
        "bench_plain_articles",
        "bench_articles",
        "bench_audited_articles",
    ]
    .map(|table| {
        format!(
            "CREATE TABLE {table} (id {id}, title TEXT NOT NULL, body TEXT,
                    created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL,
                    deleted_at TIMESTAMP NULL);"
        )
    })
    .join("\n");
    format!("{tables}\n{}", kysera::audit::migration_sql(backend))
}

/// One database the groups run on.
struct Backend {
    /// `sqlite` or `postgres`, the parameter of every benchmark id.
    name: &'static str,
    conn: Conn,
    /// Keys of the seeded rows, ascending (the same in the three tables).
    ids: Vec<i64>,
    /// Keeps the SQLite file, or the PostgreSQL database, alive; dropped after `conn`.
    _store: Store,
}

/// Where a backend's data lives, removed on drop.
enum Store {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite { _dir: tempfile::TempDir },
    #[cfg(feature = "postgres")]
    Postgres { _database: PgDatabase },
}

/// A PostgreSQL database of the bench's own, dropped (with its connections) on drop.
#[cfg(feature = "postgres")]
struct PgDatabase {
    server: String,
    name: String,
}

#[cfg(feature = "postgres")]
impl PgDatabase {
    /// Creates `kysera_bench_<pid>` on `server`; returns it and its URL.
    fn create(server: &str) -> (Self, String) {
        let name = format!("kysera_bench_{}", std::process::id());
        let admin = Conn::establish(server).unwrap_or_else(|e| panic!("connect to {server}: {e}"));
        // One statement per call: PostgreSQL runs a multi-statement string as one
        // transaction, and neither statement may run inside one.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop a leftover bench database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the bench database");
        let url = with_database(server, &name);
        (
            PgDatabase {
                server: server.to_string(),
                name,
            },
            url,
        )
    }
}

#[cfg(feature = "postgres")]
impl Drop for PgDatabase {
    fn drop(&mut self) {
        let dropped = Conn::establish(&self.server).and_then(|admin| {
            admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop the bench database {}: {e}", self.name);
        }
    }
}

/// `server` with its database path replaced by `database`.
#[cfg(feature = "postgres")]
fn with_database(server: &str, database: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| i + authority);
    format!("{}/{database}{query}", &base[..path])
}

fn new_plain(i: usize) -> NewPlainArticle {
    NewPlainArticle {
        title: format!("Article {i}"),
        body: (i % 2 == 0).then(|| format!("Body of article {i}, about benchmarks.")),
        created_at: None,
        updated_at: None,
        deleted_at: None,
    }
}

fn new_article(i: usize) -> NewArticle {
    let NewPlainArticle { title, body, .. } = new_plain(i);
    NewArticle {
        title,
        body,
        created_at: None,
        updated_at: None,
    }
}

fn new_audited(i: usize) -> NewAuditedArticle {
    let NewPlainArticle { title, body, .. } = new_plain(i);
    NewAuditedArticle {
        title,
        body,
        created_at: None,
        updated_at: None,
    }
}

/// Creates the tables on `conn`, seeds the same rows into each and checks they read alike.
fn prepare(name: &'static str, conn: Conn, store: Store) -> Backend {
    conn.batch_execute(&ddl(conn.backend()))
        .expect("create the bench tables");
    let plain: Vec<i64> = conn
        .repo::<PlainArticle>()
        .create_many(&(0..ROWS).map(new_plain).collect::<Vec<_>>())
        .expect("seed bench_plain_articles")
        .iter()
        .map(|r| r.id)
        .collect();
    let soft: Vec<i64> = conn
        .repo::<Article>()
        .create_many(&(0..ROWS).map(new_article).collect::<Vec<_>>())
        .expect("seed bench_articles")
        .iter()
        .map(|r| r.id)
        .collect();
    let audited: Vec<i64> = conn
        .repo::<AuditedArticle>()
        .create_many(&(0..ROWS).map(new_audited).collect::<Vec<_>>())
        .expect("seed bench_audited_articles")
        .iter()
        .map(|r| r.id)
        .collect();
    assert!(
        plain == soft && soft == audited,
        "the same keys in every table"
    );
    conn.batch_execute("DELETE FROM audit_logs")
        .expect("empty audit_logs");
    let backend = Backend {
        name,
        conn,
        ids: plain,
        _store: store,
    };
    check_same_results(&backend);
    backend
}

fn backends() -> Vec<Backend> {
    let mut all = Vec::new();
    #[cfg(feature = "sqlite")]
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("behaviours.db").display());
        let conn = Conn::establish(&url).expect("open the SQLite database");
        let mode: Vec<JournalMode> = conn
            .with_connection(|c| match c {
                kysera::AnyConnection::Sqlite(c) => diesel::sql_query("PRAGMA journal_mode")
                    .load(c)
                    .expect("journal mode"),
                _ => unreachable!("a SQLite URL"),
            })
            .expect("connection free");
        assert_eq!(
            mode[0].journal_mode, "wal",
            "kysera opens SQLite files in WAL mode"
        );
        all.push(prepare("sqlite", conn, Store::Sqlite { _dir: dir }));
    }
    #[cfg(feature = "postgres")]
    {
        let server = std::env::var("KYSERA_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let (database, url) = PgDatabase::create(&server);
        let conn = Conn::establish(&url).unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        all.push(prepare(
            "postgres",
            conn,
            Store::Postgres {
                _database: database,
            },
        ));
    }
    all
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

/// The columns every table shares, for comparing rows across models.
fn key(id: i64, title: &str, body: &Option<String>) -> (i64, String, Option<String>) {
    (id, title.to_string(), body.clone())
}

/// Both models of each comparison must read the same rows, or the comparison means nothing.
fn check_same_results(b: &Backend) {
    let plain = b.conn.repo::<PlainArticle>();
    let soft = b.conn.repo::<Article>();
    let plain_all: Vec<_> = plain
        .find_all()
        .unwrap()
        .iter()
        .map(|r| key(r.id, &r.title, &r.body))
        .collect();
    let soft_all: Vec<_> = soft
        .find_all()
        .unwrap()
        .iter()
        .map(|r| key(r.id, &r.title, &r.body))
        .collect();
    let with_deleted: Vec<_> = soft
        .with_deleted()
        .find_all()
        .unwrap()
        .iter()
        .map(|r| key(r.id, &r.title, &r.body))
        .collect();
    assert_eq!(plain_all.len(), ROWS);
    assert_eq!(plain_all, soft_all);
    assert_eq!(soft_all, with_deleted);
    let id = b.ids[ROWS / 2];
    let one = plain.get(id).unwrap();
    let two = soft.get(id).unwrap();
    assert_eq!(
        key(one.id, &one.title, &one.body),
        key(two.id, &two.title, &two.body)
    );
}

/// The data statements (not BEGIN/COMMIT/SAVEPOINT/RELEASE/ROLLBACK) `f` issues on `conn`,
/// and the number of transaction-control statements. Instrumentation is removed afterwards.
fn statements<R>(conn: &Conn, f: impl FnOnce() -> R) -> (R, Vec<String>, usize) {
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&log);
    conn.with_connection(|c| {
        c.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                sink.lock().expect("log lock").push(query.to_string());
            }
        })
    })
    .expect("connection free");
    let result = f();
    conn.with_connection(|c| c.set_instrumentation(|_: InstrumentationEvent<'_>| {}))
        .expect("connection free");
    let all = std::mem::take(&mut *log.lock().expect("log lock"));
    let total = all.len();
    let data: Vec<String> = all
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
        .collect();
    let control = total - data.len();
    (result, data, control)
}

/// Prints the statements of one operation, with column lists, key lists and VALUES rows
/// folded (the 1,000-key statements are long).
fn report(label: &str, backend: &str, data: &[String], control: usize) {
    println!(
        "statements {label}/{backend}: {} data statement(s), {control} transaction control",
        data.len()
    );
    for sql in data {
        println!("    {}", shorten(sql));
    }
}

/// `sql` on one line, with `SELECT <columns>`, `RETURNING <columns>`, `IN (<keys>)` and
/// `VALUES (<row>), ...` folded.
fn shorten(sql: &str) -> String {
    let sql = sql.split(" -- binds:").next().unwrap_or(sql);
    let mut sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if let (Some(0), Some(from)) = (sql.find("SELECT "), sql.find(" FROM ")) {
        sql.replace_range("SELECT ".len()..from, "<columns>");
    }
    if let Some(at) = sql.find(" RETURNING ") {
        sql.replace_range(at + " RETURNING ".len().., "<columns>");
    }
    if let Some(at) = sql.find(" IN (") {
        let open = at + " IN (".len();
        if let Some(close) = sql[open..].find(')').map(|i| i + open) {
            let keys = sql[open..close].split(", ").count();
            sql.replace_range(open..close, &format!("<{keys} keys>"));
        }
    }
    if let Some(at) = sql.find(" VALUES ") {
        let rows = sql[at..].matches("), (").count() + 1;
        let end = sql[at..].rfind(')').map_or(sql.len(), |i| at + i + 1);
        sql.replace_range(at + " VALUES ".len()..end, &format!("<{rows} rows>"));
    }
    sql
}

/// Two patches of `body`, alternated so every iteration writes a new value.
fn patches<U: Default>(set_body: impl Fn(&mut U, String)) -> [U; 2] {
    ["Edited body, version A.", "Edited body, version B."].map(|text| {
        let mut patch = U::default();
        set_body(&mut patch, text.to_string());
        patch
    })
}

/// `update_many` of the same 1,000 keys with the same patch, without and with `#[audited]`.
fn bench_audited_update_many(c: &mut Criterion, backends: &[Backend]) {
    let plain_patches = patches(|p: &mut ArticleUpdate, text| p.body = Some(Some(text)));
    let audited_patches = patches(|p: &mut AuditedArticleUpdate, text| p.body = Some(Some(text)));

    // Statements, counted once outside the timing.
    for b in backends {
        let plain = b.conn.repo::<Article>();
        let audited = b.conn.repo::<AuditedArticle>();
        let (rows, data, control) =
            statements(&b.conn, || plain.update_many(&b.ids, &plain_patches[0]));
        assert_eq!(rows.expect("update_many").len(), ROWS);
        report("update_many plain", b.name, &data, control);
        let (rows, data, control) =
            statements(&b.conn, || audited.update_many(&b.ids, &audited_patches[0]));
        assert_eq!(rows.expect("update_many").len(), ROWS);
        report("update_many audited", b.name, &data, control);
        let audit_rows = audited.audit_history(b.ids[0]).expect("audit history");
        assert_eq!(audit_rows.len(), 1, "one audit row per updated row");
        b.conn
            .batch_execute("DELETE FROM audit_logs")
            .expect("empty audit_logs");
    }

    let mut group = c.benchmark_group("audited_update_many");
    group.sample_size(20);
    for b in backends {
        group.bench_function(BenchmarkId::new("plain", b.name), |bench| {
            let repo = b.conn.repo::<Article>();
            let mut n = 0u64;
            bench.iter_batched(
                || {
                    n += 1;
                    &plain_patches[(n % 2) as usize]
                },
                |patch| repo.update_many(&b.ids, patch).unwrap(),
                BatchSize::PerIteration,
            )
        });
        group.bench_function(BenchmarkId::new("audited", b.name), |bench| {
            let repo = b.conn.repo::<AuditedArticle>();
            let mut n = 0u64;
            bench.iter_batched(
                || {
                    n += 1;
                    if n % AUDIT_CLEAN_EVERY == 0 {
                        b.conn
                            .batch_execute("DELETE FROM audit_logs")
                            .expect("empty audit_logs");
                    }
                    &audited_patches[(n % 2) as usize]
                },
                |patch| repo.update_many(&b.ids, patch).unwrap(),
                BatchSize::PerIteration,
            )
        });
        b.conn
            .batch_execute("DELETE FROM audit_logs")
            .expect("empty audit_logs");
    }
    group.finish();
}

/// Statements of the reads, counted once outside the timing.
fn report_reads(backends: &[Backend]) {
    for b in backends {
        let id = b.ids[ROWS / 2];
        let plain = b.conn.repo::<PlainArticle>();
        let soft = b.conn.repo::<Article>();
        let (_, data, control) = statements(&b.conn, || plain.find_by_id(id).unwrap());
        report("find_by_id plain", b.name, &data, control);
        let (_, data, control) = statements(&b.conn, || soft.find_by_id(id).unwrap());
        report("find_by_id soft_delete", b.name, &data, control);
        let (_, data, control) = statements(&b.conn, || plain.find_all().unwrap());
        report("find_all plain", b.name, &data, control);
        let (_, data, control) = statements(&b.conn, || soft.find_all().unwrap());
        report("find_all soft_delete", b.name, &data, control);
        let (_, data, control) = statements(&b.conn, || soft.with_deleted().find_all().unwrap());
        report("find_all with_deleted", b.name, &data, control);
    }
}

fn bench_find_by_id(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("soft_delete_find_by_id");
    for b in backends {
        group.bench_function(BenchmarkId::new("plain", b.name), |bench| {
            let repo = b
                .conn
                .repo::<PlainArticle>()
                .with_validation(ValidationMode::Never);
            let mut ids = b.ids.iter().copied().cycle();
            bench.iter(|| repo.find_by_id(ids.next().unwrap()).unwrap().unwrap())
        });
        group.bench_function(BenchmarkId::new("soft_delete", b.name), |bench| {
            let repo = b
                .conn
                .repo::<Article>()
                .with_validation(ValidationMode::Never);
            let mut ids = b.ids.iter().copied().cycle();
            bench.iter(|| repo.find_by_id(ids.next().unwrap()).unwrap().unwrap())
        });
    }
    group.finish();
}

fn bench_find_all(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("soft_delete_find_all");
    group.sample_size(30);
    for b in backends {
        group.bench_function(BenchmarkId::new("plain", b.name), |bench| {
            let repo = b
                .conn
                .repo::<PlainArticle>()
                .with_validation(ValidationMode::Never);
            bench.iter(|| repo.find_all().unwrap())
        });
        group.bench_function(BenchmarkId::new("soft_delete", b.name), |bench| {
            let repo = b
                .conn
                .repo::<Article>()
                .with_validation(ValidationMode::Never);
            bench.iter(|| repo.find_all().unwrap())
        });
        group.bench_function(BenchmarkId::new("with_deleted", b.name), |bench| {
            let repo = b
                .conn
                .repo::<Article>()
                .with_validation(ValidationMode::Never)
                .with_deleted();
            bench.iter(|| repo.find_all().unwrap())
        });
    }
    group.finish();
}

fn main() {
    let backends = backends();
    let mut criterion = Criterion::default().configure_from_args();
    // Reads first: `update_many` then rewrites `body` in two of the three tables.
    report_reads(&backends);
    bench_find_by_id(&mut criterion, &backends);
    bench_find_all(&mut criterion, &backends);
    bench_audited_update_many(&mut criterion, &backends);
    criterion.final_summary();
    // Dropping the backends closes each connection, then removes its file or database.
    drop(backends);
}
