//! What query instrumentation costs per query: `find_by_id` with no monitor, with a monitor
//! (buffer and profiler, the defaults), with a monitor that also writes JSON lines, and
//! hand-written Diesel, on the same connection in the same run.
//!
//! One criterion group, `instrumentation_find_by_id`, with the functions `diesel/<backend>`,
//! `off/<backend>`, `on/<backend>` and `on_jsonl/<backend>`. After the criterion groups the
//! bench also prints an interleaved A/B measurement (`off` and `on` alternating in blocks on
//! the same connection), which is less exposed to drift on a busy machine than two criterion
//! runs minutes apart.
//!
//! * SQLite: a temporary file database opened by kysera (WAL).
//! * PostgreSQL (feature `postgres`): `KYSERA_BENCH_POSTGRES_URL`, by default
//!   `postgres://postgres@127.0.0.1:5432/test`; the table `kysera_bench_instr_users` is
//!   created at start and dropped at the end.
//!
//! ```text
//! cargo bench -p kysera-benches --bench instrumentation
//! cargo bench -p kysera-benches --bench instrumentation --features postgres
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use criterion::{BenchmarkId, Criterion};
use diesel::prelude::*;
use kysera::instrument::QueryMonitor;
use kysera::{AnyConnection, Conn, ValidationMode};

/// Rows in the table; lookups cycle over their keys.
const SEED_ROWS: usize = 1_000;
/// Interleaved A/B: rounds, and lookups per side per round.
const AB_ROUNDS: usize = 30;
const AB_CALLS: usize = 2_000;

mod schema {
    diesel::table! {
        /// Users, as in `kysera_examples::blog`, under a name no test or other bench uses.
        kysera_bench_instr_users (id) {
            /// Assigned by the database.
            id -> BigInt,
            /// Unique.
            email -> Text,
            /// Display name.
            name -> Text,
            /// Optional profile text.
            bio -> Nullable<Text>,
            /// Set by the database on insert.
            created_at -> Timestamp,
        }
    }
}

use schema::kysera_bench_instr_users as users;

/// The kysera model.
#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(schema = schema::kysera_bench_instr_users)]
struct User {
    #[kysera(primary_key, generated)]
    id: i64,
    email: String,
    name: String,
    bio: Option<String>,
    #[kysera(generated)]
    created_at: NaiveDateTime,
}

/// The hand-written Diesel row.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = users)]
struct Row {
    id: i64,
    email: String,
    name: String,
    bio: Option<String>,
    created_at: NaiveDateTime,
}

/// `SELECT .. WHERE id = ?`, the statement `Repo::find_by_id` sends, on a native Diesel
/// connection (a macro, so it is compiled once per backend inside `with_diesel!`).
macro_rules! diesel_find_by_id {
    ($c:expr, $id:expr) => {
        users::table
            .filter(users::id.eq($id))
            .select(Row::as_select())
            .load::<Row>($c)
            .map(|mut rows| rows.pop())
    };
}

/// Runs `$body` with `$c` bound to the native Diesel connection inside `$conn`.
macro_rules! with_diesel {
    ($conn:expr, |$c:ident| $body:expr) => {
        $conn
            .with_connection(|any| match any {
                #[cfg(feature = "sqlite")]
                AnyConnection::Sqlite($c) => $body,
                #[cfg(feature = "postgres")]
                AnyConnection::Postgres($c) => $body,
                _ => unreachable!("the benchmarks run on SQLite and PostgreSQL"),
            })
            .expect("the connection is not borrowed elsewhere")
    };
}

/// One database the group runs on.
struct Backend {
    name: &'static str,
    conn: Conn,
    ids: Vec<i64>,
    _dir: Option<tempfile::TempDir>,
}

fn sqlite_ddl() -> &'static str {
    "DROP TABLE IF EXISTS kysera_bench_instr_users;
     CREATE TABLE kysera_bench_instr_users (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         email TEXT NOT NULL UNIQUE,
         name TEXT NOT NULL,
         bio TEXT,
         created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);"
}

#[cfg(feature = "postgres")]
fn postgres_ddl() -> &'static str {
    "DROP TABLE IF EXISTS kysera_bench_instr_users;
     CREATE TABLE kysera_bench_instr_users (
         id BIGSERIAL PRIMARY KEY,
         email TEXT NOT NULL UNIQUE,
         name TEXT NOT NULL,
         bio TEXT,
         created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);"
}

fn prepare(name: &'static str, conn: Conn, ddl: &str, dir: Option<tempfile::TempDir>) -> Backend {
    conn.batch_execute(ddl).expect("create the bench table");
    let seed: Vec<NewUser> = (0..SEED_ROWS)
        .map(|i| NewUser {
            email: format!("user{i}@example.com"),
            name: format!("User {i}"),
            bio: (i % 2 == 0).then(|| format!("Bio of user {i}")),
        })
        .collect();
    let ids: Vec<i64> = conn
        .repo::<User>()
        .create_many(&seed)
        .expect("seed")
        .iter()
        .map(|u| u.id)
        .collect();
    // Both sides read the same row, or the comparison means nothing.
    let id = ids[SEED_ROWS / 2];
    let kysera = conn.repo::<User>().get(id).expect("kysera lookup");
    let diesel = with_diesel!(conn, |c| diesel_find_by_id!(c, id)).expect("diesel lookup");
    assert_eq!(Some(kysera.id), diesel.map(|r| r.id));
    Backend {
        name,
        conn,
        ids,
        _dir: dir,
    }
}

fn backends() -> Vec<Backend> {
    let mut all = Vec::new();
    #[cfg(feature = "sqlite")]
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let conn = Conn::establish(&url).expect("open the SQLite database");
        all.push(prepare("sqlite", conn, sqlite_ddl(), Some(dir)));
    }
    #[cfg(feature = "postgres")]
    {
        let url = std::env::var("KYSERA_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let conn = Conn::establish(&url).unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        all.push(prepare("postgres", conn, postgres_ddl(), None));
    }
    all
}

/// A monitor with the defaults: buffer of 1,000 recent queries and the profiler.
fn default_monitor() -> QueryMonitor {
    QueryMonitor::builder().build().expect("monitor")
}

/// `n` lookups through the repository, cycling over the keys; the time they took.
fn lookups(conn: &Conn, ids: &[i64], n: usize) -> Duration {
    let repo = conn.repo::<User>().with_validation(ValidationMode::Never);
    let start = Instant::now();
    for id in ids.iter().cycle().take(n) {
        black_box(repo.find_by_id(*id).expect("lookup").expect("row"));
    }
    start.elapsed()
}

fn bench_find_by_id(c: &mut Criterion, backends: Vec<Backend>) -> Vec<Backend> {
    let mut group = c.benchmark_group("instrumentation_find_by_id");
    let mut done = Vec::new();
    for mut b in backends {
        group.bench_function(BenchmarkId::new("diesel", b.name), |bench| {
            with_diesel!(b.conn, |c| {
                let mut ids = b.ids.iter().copied().cycle();
                bench.iter(|| {
                    diesel_find_by_id!(c, ids.next().expect("cycle"))
                        .expect("lookup")
                        .expect("row")
                })
            })
        });
        group.bench_function(BenchmarkId::new("off", b.name), |bench| {
            let repo = b.conn.repo::<User>().with_validation(ValidationMode::Never);
            let mut ids = b.ids.iter().copied().cycle();
            bench.iter(|| {
                repo.find_by_id(ids.next().expect("cycle"))
                    .expect("lookup")
                    .expect("row")
            })
        });

        let monitor = default_monitor();
        b.conn = b.conn.with_instrumentation(monitor.clone());
        group.bench_function(BenchmarkId::new("on", b.name), |bench| {
            let repo = b.conn.repo::<User>().with_validation(ValidationMode::Never);
            let mut ids = b.ids.iter().copied().cycle();
            bench.iter(|| {
                repo.find_by_id(ids.next().expect("cycle"))
                    .expect("lookup")
                    .expect("row")
            })
        });
        check_recorded(&monitor, b.name);

        let dir = tempfile::tempdir().expect("temp dir");
        let to_file = QueryMonitor::builder()
            .json_lines(dir.path().join("queries.jsonl"))
            .build()
            .expect("monitor");
        b.conn = b.conn.with_instrumentation(to_file.clone());
        group.bench_function(BenchmarkId::new("on_jsonl", b.name), |bench| {
            let repo = b.conn.repo::<User>().with_validation(ValidationMode::Never);
            let mut ids = b.ids.iter().copied().cycle();
            bench.iter(|| {
                repo.find_by_id(ids.next().expect("cycle"))
                    .expect("lookup")
                    .expect("row")
            })
        });
        to_file.flush().expect("flush the query log");
        check_recorded(&to_file, b.name);
        b.conn = b.conn.without_instrumentation();
        done.push(b);
    }
    group.finish();
    done
}

/// The monitored runs really recorded every lookup: SQL, bind, one row.
fn check_recorded(monitor: &QueryMonitor, backend: &str) {
    let stats = monitor.stats();
    assert!(stats.recorded > 0, "{backend}: nothing recorded");
    let last = monitor.recent().pop().expect("a buffered query");
    assert!(last.sql.starts_with("SELECT"), "{}", last.sql);
    assert_eq!((last.binds.len(), last.rows), (1, Some(1)), "{last:?}");
    let report = monitor.profile();
    assert_eq!(report.statements.len(), 1, "one statement profiled");
    println!(
        "{backend}: {} queries recorded; profiler p50 {:?} p99 {:?}",
        stats.recorded, report.statements[0].p50, report.statements[0].p99
    );
}

/// `off` and `on` alternating in blocks of `AB_CALLS` lookups on the same connection; prints
/// the median time per lookup of each side and their difference.
fn interleaved(backends: Vec<Backend>) {
    for b in backends {
        let monitor = default_monitor();
        let mut conn = b.conn;
        let (mut off, mut on) = (Vec::new(), Vec::new());
        // Warm-up, then the rounds.
        lookups(&conn, &b.ids, AB_CALLS);
        for _ in 0..AB_ROUNDS {
            off.push(lookups(&conn, &b.ids, AB_CALLS) / AB_CALLS as u32);
            conn = conn.with_instrumentation(monitor.clone());
            on.push(lookups(&conn, &b.ids, AB_CALLS) / AB_CALLS as u32);
            conn = conn.without_instrumentation();
        }
        off.sort();
        on.sort();
        let (off, on) = (off[AB_ROUNDS / 2], on[AB_ROUNDS / 2]);
        println!(
            "interleaved {}: off {:.2} µs, on {:.2} µs per find_by_id: +{:.2} µs ({:.2}x), \
             median of {AB_ROUNDS} rounds of {AB_CALLS}",
            b.name,
            off.as_secs_f64() * 1e6,
            on.as_secs_f64() * 1e6,
            (on.as_secs_f64() - off.as_secs_f64()) * 1e6,
            on.as_secs_f64() / off.as_secs_f64(),
        );
        #[cfg(feature = "postgres")]
        if b.name == "postgres" {
            let _ = conn.batch_execute("DROP TABLE IF EXISTS kysera_bench_instr_users");
        }
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let backends = backends();
    let backends = bench_find_by_id(&mut criterion, backends);
    interleaved(backends);
    criterion.final_summary();
}
