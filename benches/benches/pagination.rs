//! Keyset pagination at depth: 200,000 rows with a two-column index `(created_at, id)`,
//! ordered newest first (`created_at DESC, id DESC`), 20 rows per page.
//!
//! One criterion group, `pagination`, with these functions per backend:
//!
//! * `kysera_keyset_first`: `Repo::keyset_page` for the first page;
//! * `kysera_keyset_deep`: `Repo::keyset_page` after a cursor at row 100,000 (decoding and
//!   checking the cursor, building the next and previous cursors included);
//! * `diesel_keyset_deep`: the same page by hand-written Diesel, the expanded predicate with a
//!   leading bound (Diesel's DSL has no row values), on the same connection;
//! * `kysera_cursor_work`: only what kysera adds around the query of the deep page: reading
//!   the cursor and building the page's two cursors from its rows;
//! * `diesel_offset_deep`: the same page with `OFFSET 100000`, by hand-written Diesel.
//!
//! Every page reads 21 rows (one to tell whether another page follows). The backends:
//! SQLite (a temporary file opened by kysera), PostgreSQL with feature `postgres`
//! (`KYSERA_BENCH_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`) and
//! MySQL/MariaDB with feature `mysql` (`KYSERA_BENCH_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306/test`; the seed uses MariaDB's `seq_1_to_N` tables). The table
//! `kysera_bench_events` is created and filled in one `INSERT … SELECT` at start, and dropped
//! at the end on the servers.
//!
//! ```text
//! cargo bench -p kysera-benches --bench pagination --features postgres,mysql -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use chrono::NaiveDateTime;
use criterion::{BenchmarkId, Criterion};
use diesel::prelude::*;
use kysera::pagination::{CursorRequest, Keyset};
use kysera::{AnyConnection, Conn, ValidationMode};

/// Rows in the table.
const ROWS: i64 = 200_000;
/// Rows before the deep page.
const DEPTH: i64 = 100_000;
/// Rows per page.
const PER_PAGE: u64 = 20;

mod schema {
    diesel::table! {
        /// Events, two per second, under a name no test uses.
        kysera_bench_events (id) {
            /// Key.
            id -> BigInt,
            /// When it happened; two rows share each value.
            created_at -> Timestamp,
            /// A small number.
            kind -> Integer,
            /// Some text.
            title -> Text,
        }
    }
}

use schema::kysera_bench_events as events;

/// The kysera model of the bench table.
#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(schema = schema::kysera_bench_events)]
struct Event {
    #[kysera(primary_key, generated)]
    id: i64,
    created_at: NaiveDateTime,
    kind: i32,
    title: String,
}

/// The hand-written Diesel row.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = events)]
struct Row {
    id: i64,
    created_at: NaiveDateTime,
    kind: i32,
    title: String,
}

macro_rules! hand_written {
    ($module:ident, $feature:literal, $conn:ty) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;

            /// The `limit + 1` rows after `(at, id)`, newest first: the expanded keyset
            /// predicate, led by a bound on `created_at` so the index is read as a range.
            pub(crate) fn keyset_after(
                c: &mut $conn,
                at: NaiveDateTime,
                id: i64,
                limit: i64,
            ) -> QueryResult<Vec<Row>> {
                events::table
                    .select(Row::as_select())
                    .filter(
                        events::created_at.le(at).and(
                            events::created_at
                                .lt(at)
                                .or(events::created_at.eq(at).and(events::id.lt(id))),
                        ),
                    )
                    .order((events::created_at.desc(), events::id.desc()))
                    .limit(limit + 1)
                    .load(c)
            }

            /// The `limit + 1` rows after skipping `offset`, newest first.
            pub(crate) fn offset(c: &mut $conn, offset: i64, limit: i64) -> QueryResult<Vec<Row>> {
                events::table
                    .select(Row::as_select())
                    .order((events::created_at.desc(), events::id.desc()))
                    .limit(limit + 1)
                    .offset(offset)
                    .load(c)
            }
        }
    };
}

hand_written!(sqlite_diesel, "sqlite", diesel::SqliteConnection);
hand_written!(pg_diesel, "postgres", diesel::PgConnection);
hand_written!(mysql_diesel, "mysql", diesel::MysqlConnection);

/// Runs `$body` with `$c` bound to the native connection inside `$conn` and `$ops` to the
/// hand-written module of its backend.
macro_rules! with_diesel {
    ($conn:expr, |$c:ident, $ops:ident| $body:expr) => {
        $conn
            .with_connection(|any| match any {
                #[cfg(feature = "sqlite")]
                AnyConnection::Sqlite($c) => {
                    use sqlite_diesel as $ops;
                    $body
                }
                #[cfg(feature = "postgres")]
                AnyConnection::Postgres($c) => {
                    use pg_diesel as $ops;
                    $body
                }
                #[cfg(feature = "mysql")]
                AnyConnection::Mysql($c) => {
                    use mysql_diesel as $ops;
                    $body
                }
                #[allow(unreachable_patterns)]
                _ => unreachable!("no other backend is compiled in"),
            })
            .expect("the connection is not borrowed elsewhere")
    };
}

/// One seeded database.
struct Backend {
    name: &'static str,
    conn: Conn,
    /// The next cursor after row `DEPTH`.
    deep_cursor: String,
    /// `(created_at, id)` of row `DEPTH`.
    deep_position: (NaiveDateTime, i64),
    _dir: Option<tempfile::TempDir>,
}

fn newest_first() -> Keyset {
    Keyset::new().desc("created_at")
}

/// Creates and fills the table with one statement, then indexes it.
fn seed(name: &'static str, conn: Conn, dir: Option<tempfile::TempDir>) -> Backend {
    let (id, ts, fill, analyze) = match name {
        "sqlite" => (
            "INTEGER PRIMARY KEY",
            "TIMESTAMP",
            format!(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ROWS})
                 INSERT INTO kysera_bench_events (id, created_at, kind, title)
                 SELECT i, datetime('2026-01-01 00:00:00', '+' || (i / 2) || ' seconds'), i % 10, 'event ' || i FROM s"
            ),
            "ANALYZE",
        ),
        "postgres" => (
            "BIGINT PRIMARY KEY",
            "TIMESTAMP",
            format!(
                "INSERT INTO kysera_bench_events (id, created_at, kind, title)
                 SELECT g, TIMESTAMP '2026-01-01 00:00:00' + (g / 2) * INTERVAL '1 second', g % 10, 'event ' || g
                 FROM generate_series(1, {ROWS}) g"
            ),
            "ANALYZE kysera_bench_events",
        ),
        _ => (
            "BIGINT PRIMARY KEY",
            "DATETIME",
            format!(
                "INSERT INTO kysera_bench_events (id, created_at, kind, title)
                 SELECT seq, TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (seq DIV 2) SECOND, seq % 10, CONCAT('event ', seq)
                 FROM seq_1_to_{ROWS}"
            ),
            "",
        ),
    };
    let started = std::time::Instant::now();
    conn.batch_execute("DROP TABLE IF EXISTS kysera_bench_events")
        .expect("drop an old bench table");
    conn.batch_execute(&format!(
        "CREATE TABLE kysera_bench_events (id {id}, created_at {ts} NOT NULL, kind INTEGER NOT NULL, title VARCHAR(40) NOT NULL)"
    ))
    .expect("create the bench table");
    conn.transaction(|tx| {
        tx.batch_execute(&fill)?;
        tx.batch_execute(
            "CREATE INDEX kysera_bench_events_created_at_id ON kysera_bench_events (created_at, id)",
        )
    })
    .expect("seed");
    if !analyze.is_empty() {
        conn.batch_execute(analyze).expect("analyze");
    }
    eprintln!(
        "{name}: {ROWS} rows seeded and indexed in {:.1?}",
        started.elapsed()
    );

    // Walk to row DEPTH with large pages to get a real cursor there.
    let repo = conn.repo::<Event>().with_validation(ValidationMode::Never);
    let mut token: Option<String> = None;
    let mut seen = 0;
    let mut last = None;
    while seen < DEPTH {
        let request = match token.take() {
            None => CursorRequest::first(10_000),
            Some(t) => CursorRequest::after(t, 10_000),
        };
        let page = repo.keyset_page(&newest_first(), &request).expect("walk");
        seen += page.items.len() as i64;
        last = page.items.last().map(|e| (e.created_at, e.id));
        token = Some(page.next_cursor.expect("more rows"));
    }
    assert_eq!(seen, DEPTH, "pages of 10,000 reach row {DEPTH} exactly");
    let backend = Backend {
        name,
        deep_cursor: token.expect("a cursor"),
        deep_position: last.expect("rows"),
        conn,
        _dir: dir,
    };
    check_same_results(&backend);
    backend
}

/// All three deep reads must return the same rows in the same order.
fn check_same_results(b: &Backend) {
    let repo = b
        .conn
        .repo::<Event>()
        .with_validation(ValidationMode::Never);
    let page = repo
        .keyset_page(
            &newest_first(),
            &CursorRequest::after(b.deep_cursor.clone(), PER_PAGE),
        )
        .expect("kysera deep page");
    let (at, id) = b.deep_position;
    let (keyset, offset) = with_diesel!(b.conn, |c, ops| (
        ops::keyset_after(c, at, id, PER_PAGE as i64).expect("diesel keyset"),
        ops::offset(c, DEPTH, PER_PAGE as i64).expect("diesel offset"),
    ));
    let kysera: Vec<i64> = page.items.iter().map(|e| e.id).collect();
    let by_hand: Vec<i64> = keyset
        .iter()
        .take(PER_PAGE as usize)
        .map(|r| r.id)
        .collect();
    let by_offset: Vec<i64> = offset
        .iter()
        .take(PER_PAGE as usize)
        .map(|r| r.id)
        .collect();
    assert_eq!(kysera.len(), PER_PAGE as usize);
    assert_eq!(
        kysera, by_hand,
        "{}: kysera and Diesel keyset pages differ",
        b.name
    );
    assert_eq!(
        kysera, by_offset,
        "{}: keyset and offset pages differ",
        b.name
    );
    // Row DEPTH + 1 in newest-first order has key ROWS - DEPTH.
    assert_eq!(
        kysera[0],
        ROWS - DEPTH,
        "{}: the deep page starts at row {}",
        b.name,
        DEPTH + 1
    );
}

fn backends() -> Vec<Backend> {
    let mut all = Vec::new();
    #[cfg(feature = "sqlite")]
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let conn = Conn::establish(&url).expect("open the SQLite database");
        all.push(seed("sqlite", conn, Some(dir)));
    }
    #[cfg(feature = "postgres")]
    {
        let url = std::env::var("KYSERA_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let conn = Conn::establish(&url).unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        all.push(seed("postgres", conn, None));
    }
    #[cfg(feature = "mysql")]
    {
        let url = std::env::var("KYSERA_BENCH_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string());
        let conn = Conn::establish(&url).unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        all.push(seed("mysql", conn, None));
    }
    all
}

fn bench_pagination(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("pagination");
    let keyset = newest_first();
    for b in backends {
        let repo = b
            .conn
            .repo::<Event>()
            .with_validation(ValidationMode::Never);
        group.bench_function(BenchmarkId::new("kysera_keyset_first", b.name), |bench| {
            bench.iter(|| {
                repo.keyset_page(&keyset, black_box(&CursorRequest::first(PER_PAGE)))
                    .unwrap()
            })
        });
        let deep = CursorRequest::after(b.deep_cursor.clone(), PER_PAGE);
        group.bench_function(BenchmarkId::new("kysera_keyset_deep", b.name), |bench| {
            bench.iter(|| repo.keyset_page(&keyset, black_box(&deep)).unwrap())
        });
        let (at, id) = b.deep_position;
        group.bench_function(BenchmarkId::new("diesel_keyset_deep", b.name), |bench| {
            with_diesel!(b.conn, |c, ops| bench.iter(|| {
                ops::keyset_after(c, black_box(at), black_box(id), PER_PAGE as i64).unwrap()
            }))
        });
        // What kysera adds to a query: reading the cursor, building the next and previous
        // ones (the 21 rows are cloned each time, as the query would return them).
        let plan = keyset.plan::<Event>(&deep).unwrap();
        let rows = repo
            .load(
                events::table
                    .filter(plan.filter())
                    .order(plan.order())
                    .limit(plan.fetch_limit()),
            )
            .unwrap();
        group.bench_function(BenchmarkId::new("kysera_cursor_work", b.name), |bench| {
            bench.iter(|| {
                let plan = keyset.plan::<Event>(black_box(&deep)).unwrap();
                plan.page(rows.clone()).unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("diesel_offset_deep", b.name), |bench| {
            with_diesel!(b.conn, |c, ops| bench.iter(|| {
                ops::offset(c, black_box(DEPTH), PER_PAGE as i64).unwrap()
            }))
        });
    }
    group.finish();
}

fn main() {
    let backends = backends();
    let mut criterion = Criterion::default().configure_from_args();
    bench_pagination(&mut criterion, &backends);
    criterion.final_summary();
    for b in &backends {
        if b.name != "sqlite" {
            b.conn
                .batch_execute("DROP TABLE IF EXISTS kysera_bench_events")
                .expect("drop the bench table");
        }
    }
}
