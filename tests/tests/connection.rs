//! Connections, pools and URLs on each backend.

use kysera::{BackendKind, Conn, Database, Error, PoolConfig};
use kysera_examples::blog::{self, NewUser, User};
use kysera_integration_tests::server_url;

#[test]
fn sqlite_file_connections_get_their_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let conn = Conn::establish(&url).unwrap();
    use diesel::sql_types::{BigInt, Text};
    let mode: Vec<String> = conn
        .load(diesel::select(diesel::dsl::sql::<Text>(
            "(SELECT journal_mode FROM pragma_journal_mode)",
        )))
        .unwrap();
    assert_eq!(mode, vec!["wal".to_string()]);
    let fk: Vec<i64> = conn
        .load(diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT foreign_keys FROM pragma_foreign_keys)",
        )))
        .unwrap();
    assert_eq!(fk, vec![1]);
    let busy: Vec<i64> = conn
        .load(diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT timeout FROM pragma_busy_timeout)",
        )))
        .unwrap();
    assert_eq!(busy, vec![5000]);
}

#[test]
fn in_memory_sqlite_pool_shares_one_database() {
    let db = Database::connect_with(
        "sqlite::memory:",
        PoolConfig {
            max_size: 8,
            ..PoolConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        db.state().max_size,
        1,
        "an in-memory database is one connection"
    );
    db.conn()
        .unwrap()
        .batch_execute(blog::schema(BackendKind::Sqlite))
        .unwrap();
    db.conn()
        .unwrap()
        .repo::<User>()
        .create(&NewUser {
            email: "m@example.com".into(),
            name: "M".into(),
            bio: None,
        })
        .unwrap();
    assert_eq!(
        db.conn().unwrap().repo::<User>().count().unwrap(),
        1,
        "a later checkout sees the same data"
    );
}

#[test]
fn pool_state_counts_connections_in_use() {
    let db = Database::connect_with(
        &server_url(BackendKind::Postgres),
        PoolConfig {
            max_size: 3,
            ..PoolConfig::default()
        },
    )
    .unwrap();
    let a = db.conn().unwrap();
    let b = db.conn().unwrap();
    let state = db.state();
    assert_eq!((state.in_use, state.max_size), (2, 3), "{state:?}");
    drop((a, b));
    assert_eq!(db.state().in_use, 0);
}

#[test]
fn pool_timeout_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let config = PoolConfig {
        max_size: 1,
        connection_timeout: std::time::Duration::from_millis(200),
        ..PoolConfig::default()
    };
    let db = Database::connect_with(&url, config).unwrap();
    let _held = db.conn().unwrap();
    let err = db.conn().unwrap_err();
    assert!(matches!(err, Error::PoolTimeout { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[test]
fn the_url_picks_the_backend() {
    for backend in [BackendKind::Postgres, BackendKind::Mysql] {
        let db = Database::connect(&server_url(backend)).unwrap();
        assert_eq!(db.backend(), backend);
        assert_eq!(db.conn().unwrap().backend(), backend);
    }
    assert_eq!(
        Database::connect("sqlite::memory:").unwrap().backend(),
        BackendKind::Sqlite
    );
}

#[test]
fn connection_errors_never_show_the_password() {
    for url in [
        "postgres://kysera:hunter2secret@127.0.0.1:1/nowhere",
        "mysql://kysera:hunter2secret@127.0.0.1:1/nowhere",
    ] {
        let err = Database::connect(url).unwrap_err();
        assert!(
            matches!(err, Error::Connection { lost: false, .. }),
            "{err:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2secret"), "{shown}");
    }
    let db_err = Database::connect("mysql://root:hunter2secret@127.0.0.1:3306/test");
    if let Err(err) = db_err {
        assert!(!format!("{err} {err:?}").contains("hunter2secret"));
    }
}

#[test]
fn bad_urls_are_configuration_errors() {
    for url in ["", "oracle://x", "sqlite://", "not a url"] {
        assert!(
            matches!(Database::connect(url), Err(Error::Config(_))),
            "{url:?}"
        );
    }
}

#[test]
fn circuit_breaker_opens_when_the_server_is_unreachable() {
    use kysera::resilience::{CircuitBreaker, CircuitState, Idempotency, RetryPolicy};
    let breaker = CircuitBreaker::new(3, std::time::Duration::from_secs(60));
    let policy = RetryPolicy::new(2).base_delay(std::time::Duration::from_millis(1));
    for _ in 0..3 {
        let result = breaker.call(|| {
            policy.run(Idempotency::Idempotent, || {
                Database::connect("postgres://kysera@127.0.0.1:1/none")
            })
        });
        assert!(
            matches!(result, Err(Error::Connection { .. })),
            "{result:?}"
        );
    }
    assert_eq!(breaker.state(), CircuitState::Open);
    let fast = breaker.call(|| Database::connect(&server_url(BackendKind::Postgres)));
    assert!(
        matches!(fast, Err(Error::CircuitOpen { .. })),
        "an open circuit does not call the database"
    );
}

#[test]
fn health_reports_version_latency_and_pool() {
    use kysera::health::{Status, Thresholds};
    for backend in [BackendKind::Postgres, BackendKind::Mysql] {
        let db = Database::connect(&server_url(backend)).unwrap();
        let report = db.health(Thresholds {
            slow: std::time::Duration::from_secs(5),
            ..Thresholds::default()
        });
        assert_eq!(report.status, Status::Healthy, "{report:?}");
        assert!(
            report
                .server_version
                .as_deref()
                .is_some_and(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit())),
            "{report:?}"
        );
        assert!(report.latency.is_some());
        let _held = db.conn().unwrap();
        let strict = db.health(Thresholds {
            slow: std::time::Duration::from_secs(5),
            pool_usage_percent: 1,
        });
        assert_eq!(
            strict.status,
            Status::Degraded,
            "a busy pool is degraded: {strict:?}"
        );
    }
    let sqlite = Database::connect("sqlite::memory:").unwrap();
    assert!(sqlite
        .health(Thresholds {
            slow: std::time::Duration::from_secs(5),
            pool_usage_percent: 100
        })
        .server_version
        .is_some());
}

#[test]
fn health_monitor_reports_changes_and_stops() {
    use kysera::health::{Status, Thresholds};
    let db = Database::connect(&server_url(BackendKind::Postgres)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let monitor = db.monitor(
        std::time::Duration::from_millis(20),
        Thresholds {
            slow: std::time::Duration::from_secs(5),
            ..Thresholds::default()
        },
        move |r| {
            let _ = tx.send(r.status);
        },
    );
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap(),
        Status::Healthy
    );
    monitor.stop();
    // The monitor's thread has ended and dropped its sender.
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(5)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
    );
}

#[test]
fn graceful_shutdown_waits_for_lent_connections() {
    let db = Database::connect(&server_url(BackendKind::Postgres)).unwrap();
    let lent = db.conn().unwrap();
    let err = db
        .shutdown(std::time::Duration::from_millis(50))
        .unwrap_err();
    assert!(
        err.to_string().contains("1 connection(s) still in use"),
        "{err}"
    );
    assert!(
        matches!(db.clone().conn(), Err(Error::ShuttingDown)),
        "no new work once shutting down"
    );
    let waiter = {
        let db = db.clone();
        std::thread::spawn(move || db.shutdown(std::time::Duration::from_secs(10)))
    };
    lent.batch_execute("SELECT 1").unwrap();
    drop(lent);
    waiter.join().unwrap().unwrap();
    assert_eq!(db.state().in_use, 0);
}

#[test]
fn pool_state_counts_callers_waiting_for_a_connection() {
    let db = Database::connect_with(
        &server_url(BackendKind::Postgres),
        PoolConfig {
            max_size: 1,
            connection_timeout: std::time::Duration::from_secs(10),
            ..PoolConfig::default()
        },
    )
    .unwrap();
    let held = db.conn().unwrap();
    assert_eq!(db.state().waiting, 0);
    let pool = db.clone();
    let waiter = std::thread::spawn(move || pool.conn().map(|_| ()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while db.state().waiting == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second caller never waited"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(db.state().waiting, 1);
    drop(held);
    waiter.join().unwrap().unwrap();
    assert_eq!(db.state().waiting, 0);
}
