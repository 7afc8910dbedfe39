//! Query instrumentation on real databases: SQL and binds as sent, redaction, slow-query
//! callbacks, failures, row counts, profiler figures, the JSON-lines file, transaction
//! control, and bounded memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kysera::instrument::{
    normalize_statement, Outcome, QueryMonitor, QueryRecord, Redaction, OTHER_STATEMENTS, REDACTED,
};
use kysera::{BackendKind, Database, Error};
use kysera_examples::blog::{self, NewUser, User};
use kysera_integration_tests::all_backends;

fn schema(backend: BackendKind) -> &'static str {
    blog::schema(backend)
}

fn user(n: usize) -> NewUser {
    NewUser {
        email: format!("user{n}@example.com"),
        name: format!("User {n}"),
        bio: None,
    }
}

/// The test's pool, recording into `monitor`.
fn monitored(db: &Database, monitor: &QueryMonitor) -> Database {
    db.clone().with_instrumentation(monitor.clone())
}

fn monitor() -> QueryMonitor {
    QueryMonitor::builder().build().expect("monitor")
}

/// The placeholder of the first bind on `backend`.
fn first_placeholder(backend: BackendKind) -> &'static str {
    if backend == BackendKind::Postgres {
        "$1"
    } else {
        "?"
    }
}

fn is_select_of_users(r: &QueryRecord) -> bool {
    r.sql.starts_with("SELECT") && r.sql.contains("users") && r.sql.contains("WHERE")
}

fn is_insert_into_users(r: &QueryRecord) -> bool {
    r.sql.starts_with("INSERT INTO") && r.sql.contains("users")
}

all_backends! {
    fn repository_calls_are_recorded_with_their_sql_and_binds(db: &TestDb) {
        let monitor = monitor();
        let pool = monitored(&db.db, &monitor);
        let conn = pool.conn().unwrap();
        let users = conn.repo::<User>();
        let ada = users.create(&user(1)).unwrap();
        let found = users.find_by_id(ada.id).unwrap();
        assert_eq!(found, Some(ada.clone()));

        let recent = monitor.recent();
        let insert = recent.iter().find(|r| is_insert_into_users(r)).expect("the INSERT");
        assert!(insert.sql.contains(first_placeholder(db.backend())), "{}", insert.sql);
        assert!(insert.binds.contains(&r#""user1@example.com""#.to_string()), "{:?}", insert.binds);
        assert!(insert.binds.contains(&r#""User 1""#.to_string()), "{:?}", insert.binds);
        assert_eq!(insert.backend, db.backend());
        assert!(insert.outcome.is_ok());

        let select = recent.iter().rev().find(|r| is_select_of_users(r)).expect("the SELECT");
        assert!(select.sql.contains(first_placeholder(db.backend())), "{}", select.sql);
        assert_eq!(select.binds.first(), Some(&ada.id.to_string()), "{select:?}");
        assert!(select.duration > Duration::ZERO);
        assert!(select.sequence > insert.sequence);
        let now = chrono::Utc::now();
        assert!(select.started_at <= now && now - select.started_at < chrono::Duration::minutes(1));
        // Sequence numbers are consecutive: nothing was lost between the two.
        let seqs: Vec<u64> = recent.iter().map(|r| r.sequence).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    }

    fn redaction_hides_named_columns_or_everything(db: &TestDb) {
        let by_column = QueryMonitor::builder()
            .redaction(Redaction::default().hide_columns(["email"]))
            .build()
            .unwrap();
        let conn = monitored(&db.db, &by_column).conn().unwrap();
        let users = conn.repo::<User>();
        users.create(&user(1)).unwrap();
        assert_eq!(users.find_by_email("user1@example.com").unwrap().len(), 1);
        let recent = by_column.recent();
        let insert = recent.iter().find(|r| is_insert_into_users(r)).unwrap();
        assert!(insert.binds.contains(&REDACTED.to_string()), "{:?}", insert.binds);
        assert!(insert.binds.contains(&r#""User 1""#.to_string()), "name stays: {:?}", insert.binds);
        let lookup = recent.iter().rev().find(|r| is_select_of_users(r) && r.sql.contains("email")).unwrap();
        assert_eq!(lookup.binds, [REDACTED], "{}", lookup.sql);
        let everything: String = recent.iter().flat_map(|r| r.binds.iter().cloned()).collect();
        assert!(!everything.contains("user1@example.com"), "{everything}");
        drop(conn);

        let all = QueryMonitor::builder().redaction(Redaction::hide_all()).build().unwrap();
        let conn = monitored(&db.db, &all).conn().unwrap();
        conn.repo::<User>().create(&user(2)).unwrap();
        let recent = all.recent();
        let insert = recent.iter().find(|r| is_insert_into_users(r)).unwrap();
        assert!(insert.binds.len() >= 2);
        assert!(insert.binds.iter().all(|b| b == REDACTED), "{:?}", insert.binds);
    }

    fn slow_query_callback_fires_past_the_threshold_only(db: &TestDb) {
        let fired = Arc::new(AtomicUsize::new(0));
        let seen = fired.clone();
        let every = QueryMonitor::builder()
            .slow_queries(Duration::ZERO, move |q| {
                assert!(q.slow);
                seen.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let conn = monitored(&db.db, &every).conn().unwrap();
        conn.repo::<User>().create(&user(1)).unwrap();
        conn.repo::<User>().count().unwrap();
        let recorded = every.recent().len();
        assert!(recorded >= 2);
        assert_eq!(fired.load(Ordering::SeqCst), recorded);
        assert!(every.recent().iter().all(|r| r.slow));
        drop(conn);

        let never_fired = Arc::new(AtomicUsize::new(0));
        let seen = never_fired.clone();
        let never = QueryMonitor::builder()
            .slow_queries(Duration::from_secs(3600), move |_| {
                seen.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let conn = monitored(&db.db, &never).conn().unwrap();
        conn.repo::<User>().create(&user(2)).unwrap();
        conn.repo::<User>().count().unwrap();
        assert!(never.recent().len() >= 2);
        assert_eq!(never_fired.load(Ordering::SeqCst), 0);
        assert!(never.recent().iter().all(|r| !r.slow));
    }

    fn failed_statements_are_recorded_with_their_error(db: &TestDb) {
        let monitor = monitor();
        let conn = monitored(&db.db, &monitor).conn().unwrap();
        let users = conn.repo::<User>();
        users.create(&user(1)).unwrap();
        let duplicate = users.create(&user(1));
        assert!(matches!(duplicate, Err(Error::UniqueViolation(_))), "{duplicate:?}");
        let failed: Vec<QueryRecord> = monitor
            .recent()
            .into_iter()
            .filter(|r| !r.outcome.is_ok())
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(is_insert_into_users(&failed[0]), "{}", failed[0].sql);
        let message = failed[0].outcome.error().unwrap().to_lowercase();
        assert!(message.contains("unique") || message.contains("duplicate"), "{message}");
        assert_eq!(failed[0].rows, None);

        assert!(conn.batch_execute("SELEC 1").is_err());
        let last = monitor.recent().pop().unwrap();
        assert_eq!(last.sql, "SELEC 1");
        assert!(matches!(last.outcome, Outcome::Error(_)));
    }

    fn row_counts_come_from_the_call_results(db: &TestDb) {
        let monitor = monitor();
        let conn = monitored(&db.db, &monitor).conn().unwrap();
        let users = conn.repo::<User>();
        let created = users.create_many(&[user(1), user(2), user(3)]).unwrap();
        let insert = monitor.recent().into_iter().find(is_insert_into_users).unwrap();
        if db.backend() == BackendKind::Mysql {
            // A write and its read-back run in one call: the count is not attached.
            assert_eq!(insert.rows, None);
        } else {
            assert_eq!(insert.rows, Some(3));
        }

        let last_rows = |monitor: &QueryMonitor| monitor.recent().pop().unwrap().rows;
        assert_eq!(users.find_all().unwrap().len(), 3);
        assert_eq!(last_rows(&monitor), Some(3));
        assert_eq!(users.find_by_id(created[0].id).unwrap().map(|u| u.id), Some(created[0].id));
        assert_eq!(last_rows(&monitor), Some(1));
        assert_eq!(users.find_by_id(-1).unwrap(), None);
        assert_eq!(last_rows(&monitor), Some(0));
        assert_eq!(users.count().unwrap(), 3);
        assert_eq!(last_rows(&monitor), Some(1));

        use diesel::prelude::*;
        use kysera_examples::blog::users as t;
        let affected = conn.execute(diesel::update(t::table).set(t::bio.eq("x"))).unwrap();
        assert_eq!(affected, 3);
        assert_eq!(last_rows(&monitor), Some(3));
        let ids: Vec<i64> = conn.load(t::table.select(t::id).filter(t::id.ne(created[0].id))).unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(last_rows(&monitor), Some(2));

        conn.batch_execute("UPDATE users SET bio = NULL").unwrap();
        assert_eq!(last_rows(&monitor), None, "batch_execute does not report rows");
    }

    fn profiler_figures_match_the_recorded_queries(db: &TestDb) {
        let monitor = QueryMonitor::builder().buffer(10_000).build().unwrap();
        let conn = monitored(&db.db, &monitor).conn().unwrap();
        let users = conn.repo::<User>();
        let created = users.create_many(&(0..20).map(user).collect::<Vec<_>>()).unwrap();
        monitor.clear();
        for round in 0..5 {
            for u in &created {
                assert!(users.find_by_id(u.id + round * 1000).unwrap().is_some() == (round == 0));
            }
        }
        users.find_by_ids(&[created[0].id, created[1].id]).unwrap();
        users.find_by_ids(&[created[2].id, created[3].id, created[4].id]).unwrap();

        let recent = monitor.recent();
        let report = monitor.profile();
        assert_eq!(report.queries, recent.len() as u64);
        let lookup_sql = &recent[0].sql;
        let lookup = report.statement(&normalize_statement(lookup_sql)).expect("find_by_id profiled");
        assert_eq!(lookup.count, 100);
        assert_eq!(lookup.rows, 20, "20 hits, 80 misses");
        let mut durations: Vec<Duration> = recent
            .iter()
            .filter(|r| &r.sql == lookup_sql)
            .map(|r| r.duration)
            .collect();
        assert_eq!(durations.len(), 100);
        assert_eq!(lookup.total, durations.iter().sum::<Duration>());
        durations.sort();
        assert_eq!(lookup.min, durations[0]);
        assert_eq!(lookup.max, durations[99]);
        for (got, exact) in [(lookup.p50, durations[49]), (lookup.p95, durations[94]), (lookup.p99, durations[98])] {
            let error = (got.as_secs_f64() - exact.as_secs_f64()).abs() / exact.as_secs_f64();
            assert!(error <= 0.0625, "percentile {got:?} vs exact {exact:?}");
        }
        assert!(lookup.p50 <= lookup.p95 && lookup.p95 <= lookup.p99 && lookup.p99 <= lookup.max);

        // Two `IN` lists of different lengths are one statement.
        let by_ids = report.statements.iter().find(|s| s.statement.contains("IN (?...)")).expect("IN list");
        assert_eq!(by_ids.count, 2);
        assert_eq!(by_ids.rows, 5);
        assert_eq!(report.most_frequent(1)[0].statement, lookup.statement);
        assert!(report.to_string().contains(&lookup.statement));
    }

    fn json_lines_file_holds_one_parsable_line_per_query(db: &TestDb) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queries.jsonl");
        let monitor = QueryMonitor::builder()
            .json_lines(&path)
            .redaction(Redaction::default().hide_columns(["email"]))
            .build()
            .unwrap();
        let conn = monitored(&db.db, &monitor).conn().unwrap();
        let users = conn.repo::<User>();
        let ada = users.create(&user(1)).unwrap();
        users.find_by_id(ada.id).unwrap();
        let _ = conn.batch_execute("SELEC 1");
        monitor.flush().unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let recent = monitor.recent();
        assert_eq!(lines.len(), recent.len());
        for (line, record) in lines.iter().zip(&recent) {
            assert_eq!(line["seq"], record.sequence);
            assert_eq!(line["sql"], record.sql.as_str());
            assert_eq!(line["backend"], db.backend().to_string());
            assert_eq!(line["binds"], serde_json::json!(record.binds));
            assert_eq!(line["rows"], serde_json::json!(record.rows));
            assert_eq!(line["slow"], false);
            let us = line["duration_us"].as_f64().unwrap();
            assert!((us - record.duration_us()).abs() < 0.01);
            assert!(chrono::DateTime::parse_from_rfc3339(line["ts"].as_str().unwrap()).is_ok());
        }
        let select = lines.iter().rev().find(|l| l["sql"].as_str().unwrap().starts_with("SELECT") && l["rows"] == 1).expect("the lookup");
        assert_eq!(select["binds"][0], ada.id.to_string());
        assert_eq!(select["outcome"], "ok");
        assert_eq!(select["error"], serde_json::Value::Null);
        let failed = lines.last().unwrap();
        assert_eq!(failed["sql"], "SELEC 1");
        assert_eq!(failed["outcome"], "error");
        assert!(failed["error"].as_str().is_some_and(|e| !e.is_empty()));
        assert!(!text.contains("user1@example.com"), "redacted in the file too");
    }

    fn transaction_control_is_recorded(db: &TestDb) {
        let monitor = monitor();
        let pool = monitored(&db.db, &monitor);
        pool.transaction(|tx| {
            tx.repo::<User>().create(&user(1))?;
            tx.transaction(|inner| inner.repo::<User>().create(&user(2)).map(drop))
        })
        .unwrap();
        let _ = pool.transaction(|tx| {
            tx.repo::<User>().create(&user(3))?;
            Err::<(), _>(Error::InvalidArgument("abort".into()))
        });
        let sql: Vec<String> = monitor.recent().into_iter().map(|r| r.sql.to_uppercase()).collect();
        let position = |head: &str, from: usize| {
            sql.iter().skip(from).position(|s| s.starts_with(head)).map(|p| p + from)
                .unwrap_or_else(|| panic!("no {head} after {from} in {sql:#?}"))
        };
        let begin = position("BEGIN", 0);
        let savepoint = position("SAVEPOINT", begin);
        let release = position("RELEASE SAVEPOINT", savepoint);
        let commit = position("COMMIT", release);
        let second = position("BEGIN", commit);
        let rollback = position("ROLLBACK", second);
        assert!(sql[begin..commit].iter().any(|s| s.starts_with("INSERT")));
        assert!(sql[second..rollback].iter().any(|s| s.starts_with("INSERT")));
        assert_eq!(pool.conn().unwrap().repo::<User>().count().unwrap(), 2);
    }

    fn only_monitored_connections_feed_the_monitor(db: &TestDb) {
        let monitor = monitor();
        {
            let conn = monitored(&db.db, &monitor).conn().unwrap();
            conn.repo::<User>().count().unwrap();
        }
        let recorded = monitor.stats().recorded;
        assert!(recorded >= 1);
        // The same pooled connections, handed out by the pool without a monitor.
        for _ in 0..4 {
            let conn = db.db.conn().unwrap();
            conn.repo::<User>().count().unwrap();
            assert!(conn.instrumentation().is_none());
        }
        assert_eq!(monitor.stats().recorded, recorded);

        // One connection on its own, switched on and off.
        let single = kysera::Conn::establish(&db.url).unwrap().with_instrumentation(monitor.clone());
        single.repo::<User>().count().unwrap();
        assert_eq!(monitor.stats().recorded, recorded + 1);
        let single = single.without_instrumentation();
        single.repo::<User>().count().unwrap();
        assert_eq!(monitor.stats().recorded, recorded + 1);
    }
}

/// A JSON-lines file that cannot be opened is a typed configuration error.
#[test]
fn unwritable_json_lines_path_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = QueryMonitor::builder()
        .json_lines(dir.path().join("missing").join("q.jsonl"))
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("q.jsonl")),
        "{err}"
    );
    let err = QueryMonitor::builder()
        .max_statements(0)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}

/// Resident memory of this process in bytes (Linux), to check growth independently of the
/// monitor's own accounting.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// A million records through the buffer and the profiler: the buffer stays at its capacity,
/// the profiler at its statement cap, and the memory they hold does not grow.
#[test]
fn a_million_queries_keep_memory_flat() {
    const CAPACITY: usize = 1_000;
    const MAX_STATEMENTS: usize = 100;
    let monitor = QueryMonitor::builder()
        .buffer(CAPACITY)
        .max_statements(MAX_STATEMENTS)
        .build()
        .unwrap();
    let record = |i: usize| {
        // 250 distinct statements (over the cap), IN lists of 1 to 5 keys, varying literals.
        let keys = vec!["?"; 1 + i % 5].join(", ");
        let sql = format!(
            "SELECT * FROM t{} WHERE id IN ({keys}) AND n > {i}",
            i % 250
        );
        QueryRecord::new(
            BackendKind::Sqlite,
            sql,
            Duration::from_nanos(1_000 + (i % 997) as u64),
        )
        .with_binds(vec![i.to_string(); 1 + i % 5])
        .with_rows(1)
    };
    for i in 0..200_000 {
        monitor.record(record(i));
    }
    let early = monitor.stats();
    let rss_early = resident_bytes();
    for i in 200_000..1_000_000 {
        monitor.record(record(i));
    }
    let late = monitor.stats();
    let rss_late = resident_bytes();

    assert_eq!(late.recorded, 1_000_000);
    assert_eq!((late.buffered, late.buffer_capacity), (CAPACITY, CAPACITY));
    assert_eq!(monitor.recent().len(), CAPACITY);
    assert_eq!(monitor.recent()[CAPACITY - 1].sequence, 999_999);
    assert_eq!(
        late.statements,
        MAX_STATEMENTS + 1,
        "the cap plus the 'other' bucket"
    );
    assert_eq!(early.statements, late.statements);
    // Same structures, same sizes; only the text of the last 1,000 records differs slightly.
    assert!(
        late.heap_bytes.abs_diff(early.heap_bytes) < early.heap_bytes / 100,
        "held {} bytes after 200k queries, {} after 1M",
        early.heap_bytes,
        late.heap_bytes
    );
    assert!(late.heap_bytes < 4 << 20, "{} bytes", late.heap_bytes);
    if let (Some(early), Some(late)) = (rss_early, rss_late) {
        // 800,000 more records kept would need hundreds of MB.
        assert!(
            late.saturating_sub(early) < 32 << 20,
            "RSS grew from {early} to {late}"
        );
    }

    let report = monitor.profile();
    assert_eq!(report.queries, 1_000_000);
    assert_eq!(
        report.statements.iter().map(|s| s.count).sum::<u64>(),
        1_000_000
    );
    let other = report
        .statement(OTHER_STATEMENTS)
        .expect("the rest is folded");
    assert_eq!(other.count, 1_000_000 / 250 * 150);
    let first = report
        .statement("SELECT * FROM t0 WHERE id IN (?...) AND n > ?")
        .expect("lists of any length are one statement");
    assert_eq!(first.count, 4_000);
}
