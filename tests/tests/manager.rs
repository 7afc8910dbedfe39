//! Several named databases: mixed backends, health of all, transactions by name, read/write
//! splitting with fallback, closing.

use std::time::Duration;

use diesel::prelude::*;
use kysera::health::Status;
use kysera::manager::{DatabaseManager, ManagerConfig, NamedDatabaseConfig, Role};
use kysera::{BackendKind, Error, Isolation, TransactionOptions};
use kysera_integration_tests::{all_backends, TestDb};

diesel::table! {
    /// One row naming the database it is in.
    marker (id) {
        /// Key.
        id -> BigInt,
        /// The database's role.
        name -> Text,
    }
}

fn schema(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Mysql => {
            "CREATE TABLE marker (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL)"
        }
        _ => "CREATE TABLE marker (id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    }
}

/// A database of `backend` whose `marker` table holds one row naming it.
fn marked(backend: BackendKind, name: &str) -> TestDb {
    let db = TestDb::new(backend, schema(backend));
    db.conn()
        .execute(
            diesel::insert_into(marker::table).values((marker::id.eq(1), marker::name.eq(name))),
        )
        .unwrap();
    db
}

fn marker_of(conn: &kysera::Conn) -> kysera::Result<String> {
    Ok(conn.load(marker::table.select(marker::name))?.remove(0))
}

all_backends! {
    fn reads_rotate_over_replicas_and_writes_go_to_the_primary(db: &TestDb) {
        let backend = db.backend();
        let primary = marked(backend, "primary");
        let one = marked(backend, "replica-1");
        let two = marked(backend, "replica-2");
        let manager = DatabaseManager::new();
        manager.add_database("main", primary.db.clone(), vec![one.db.clone(), two.db.clone()]);

        let reads: Vec<String> = (0..4).map(|_| manager.read("main", marker_of).unwrap()).collect();
        assert_eq!(reads, ["replica-1", "replica-2", "replica-1", "replica-2"]);
        assert_eq!(manager.write("main", marker_of).unwrap(), "primary");
        let in_tx = manager
            .transaction("main", &TransactionOptions::new(), marker_of)
            .unwrap();
        assert_eq!(in_tx, "primary");
        assert_eq!(manager.get("main").unwrap().url().to_string(), primary.db.url().to_string());
    }

    fn reads_fall_back_to_the_primary_when_replicas_are_gone(db: &TestDb) {
        let backend = db.backend();
        let primary = marked(backend, "primary");
        let replica = marked(backend, "replica");
        let manager = DatabaseManager::new();
        manager.add_database("main", primary.db.clone(), vec![replica.db.clone()]);
        assert_eq!(manager.read("main", marker_of).unwrap(), "replica");
        replica.db.shutdown(Duration::from_secs(1)).unwrap();
        assert_eq!(manager.read("main", marker_of).unwrap(), "primary");
        assert_eq!(manager.read("main", marker_of).unwrap(), "primary");
    }

    fn transactions_by_name_use_the_isolation_level_and_roll_back(db: &TestDb) {
        let manager = DatabaseManager::new();
        manager.add_database("main", db.db.clone(), vec![]);
        let options = TransactionOptions::new().isolation(Isolation::Serializable).retries(2);
        let result: Result<(), Error> = manager.transaction("main", &options, |tx| {
            tx.execute(diesel::insert_into(marker::table).values((marker::id.eq(7), marker::name.eq("rolled back"))))?;
            Err(Error::InvalidArgument("abort".into()))
        });
        assert!(matches!(result, Err(Error::InvalidArgument(_))));
        manager
            .transaction("main", &options, |tx| {
                tx.execute(diesel::insert_into(marker::table).values((marker::id.eq(8), marker::name.eq("kept"))))
            })
            .unwrap();
        let names: Vec<String> = db.conn().load(marker::table.select(marker::name)).unwrap();
        assert_eq!(names, ["kept"]);
    }
}

#[test]
fn one_manager_holds_every_backend_and_reports_their_health() {
    let sqlite = TestDb::new(BackendKind::Sqlite, schema(BackendKind::Sqlite));
    let postgres = TestDb::new(BackendKind::Postgres, schema(BackendKind::Postgres));
    let mysql = TestDb::new(BackendKind::Mysql, schema(BackendKind::Mysql));
    let config = ManagerConfig::from_toml(&format!(
        r#"
        [databases.local]
        url = "{}"
        [databases.main]
        url = "{}"
        replicas = ["{}"]
        [databases.main.pool]
        max_size = 3
        connection_timeout = "2s"
        [databases.legacy]
        url = "{}"
        "#,
        sqlite.url, postgres.url, postgres.url, mysql.url
    ))
    .unwrap();
    let manager = DatabaseManager::from_config(&config).unwrap();
    assert_eq!(manager.names(), ["legacy", "local", "main"]);
    assert_eq!(manager.get("local").unwrap().backend(), BackendKind::Sqlite);
    assert_eq!(
        manager.get("main").unwrap().backend(),
        BackendKind::Postgres
    );
    assert_eq!(manager.get("legacy").unwrap().backend(), BackendKind::Mysql);
    assert_eq!(manager.get("main").unwrap().state().max_size, 3);

    let health = manager.health_all();
    let seen: Vec<(String, Role, BackendKind, Status)> = health
        .iter()
        .map(|h| (h.name.clone(), h.role, h.report.backend, h.report.status))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "legacy".into(),
                Role::Primary,
                BackendKind::Mysql,
                Status::Healthy
            ),
            (
                "local".into(),
                Role::Primary,
                BackendKind::Sqlite,
                Status::Healthy
            ),
            (
                "main".into(),
                Role::Primary,
                BackendKind::Postgres,
                Status::Healthy
            ),
            (
                "main".into(),
                Role::Replica(1),
                BackendKind::Postgres,
                Status::Healthy
            ),
        ]
    );
    assert!(health
        .iter()
        .all(|h| h.report.server_version.is_some() && h.report.latency.is_some()));

    manager.close("legacy", Duration::from_secs(5)).unwrap();
    let err = manager.get("legacy").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownDatabase { name, known } if name == "legacy" && known == &["local", "main"]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "no database named `legacy`; configured: local, main"
    );
    manager.close_all(Duration::from_secs(5)).unwrap();
    assert!(manager.names().is_empty());
    assert!(matches!(
        manager.read("main", |_| Ok(())),
        Err(Error::UnknownDatabase { .. })
    ));
}

#[test]
fn an_unreachable_database_fails_the_manager_naming_it_without_its_password() {
    let sqlite = TestDb::new(BackendKind::Sqlite, schema(BackendKind::Sqlite));
    let manager = DatabaseManager::new();
    manager
        .add("ok", &NamedDatabaseConfig::new(sqlite.url.clone()))
        .unwrap();
    let unreachable = NamedDatabaseConfig::new("postgres://app:s3cret@127.0.0.1:1/app");
    let err = manager.add("reports", &unreachable).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(text.contains("database `reports` (primary)"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert_eq!(
        manager.names(),
        ["ok"],
        "a failed add leaves the others as they were"
    );
}

#[test]
fn a_manager_reports_an_unhealthy_database() {
    let postgres = TestDb::new(BackendKind::Postgres, schema(BackendKind::Postgres));
    let manager = DatabaseManager::new();
    let pool = kysera::Database::connect_with(
        &postgres.url,
        kysera::PoolConfig {
            connection_timeout: Duration::from_millis(300),
            ..Default::default()
        },
    )
    .unwrap();
    manager.add_database("main", pool, vec![]);
    // Dropping the test database (with FORCE) ends every session and removes the database.
    drop(postgres);
    let health = manager.health_all();
    assert_eq!(health.len(), 1);
    assert_eq!(
        health[0].report.status,
        Status::Unhealthy,
        "{:?}",
        health[0].report
    );
    assert!(health[0].report.problem.is_some());
}
