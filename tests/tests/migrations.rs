//! The migration runner on every backend: up, down, redo, status, reset, fresh, dry runs,
//! Diesel's bookkeeping, checksums, failures, and eight runners at once.

use std::sync::{Arc, Barrier};

use diesel::sql_types::BigInt;
use kysera::migrate::{Direction, Migration, MigrationState, Migrations, Migrator, Target};
use kysera::{BackendKind, Conn, Error};
use kysera_integration_tests::{all_backends, TestDb};

fn schema(_: BackendKind) -> &'static str {
    "SELECT 1"
}

fn m(name: &str, up: &str, down: &str) -> Migration {
    Migration::new(name, up, Some(down), None).unwrap()
}

fn three() -> Migrations {
    Migrations::new(vec![
        m(
            "001_create_a",
            "CREATE TABLE mig_a (id INTEGER PRIMARY KEY);\n",
            "DROP TABLE mig_a",
        ),
        m(
            "002_create_b",
            "CREATE TABLE mig_b (id INTEGER PRIMARY KEY)",
            "DROP TABLE mig_b",
        ),
        m(
            "003_seed_a",
            "INSERT INTO mig_a (id) VALUES (1)",
            "DELETE FROM mig_a",
        ),
    ])
    .unwrap()
}

fn count(conn: &Conn, sql: &str) -> i64 {
    conn.load::<i64, _>(diesel::select(diesel::dsl::sql::<BigInt>(&format!(
        "({sql})"
    ))))
    .unwrap()[0]
}

fn table_exists(conn: &Conn, table: &str) -> bool {
    conn.batch_execute(&format!("SELECT 1 FROM {table} WHERE 1 = 0"))
        .is_ok()
}

fn applied(conn: &Conn) -> i64 {
    count(conn, "SELECT COUNT(*) FROM __diesel_schema_migrations")
}

all_backends! {
    fn up_down_redo_reset(db: &TestDb) {
        let conn = db.conn();
        let migrations = three();
        let migrator = Migrator::new(&conn, &migrations);
        let ran = migrator.up(Target::Steps(2)).unwrap();
        assert_eq!(ran.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), vec!["001_create_a", "002_create_b"]);
        assert!(ran.iter().all(|a| a.direction == Direction::Up));
        assert_eq!(migrator.up(Target::All).unwrap().len(), 1);
        assert!(migrator.up(Target::All).unwrap().is_empty(), "nothing to do");
        assert_eq!(applied(&conn), 3);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM kysera_migrations"), 3);

        let down = migrator.down(Target::Steps(1)).unwrap();
        assert_eq!(down[0].name, "003_seed_a");
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM mig_a"), 0);
        let redo = migrator.redo(1).unwrap();
        assert_eq!(redo.iter().map(|a| (a.name.as_str(), a.direction)).collect::<Vec<_>>(), vec![("002_create_b", Direction::Down), ("002_create_b", Direction::Up)]);
        assert_eq!(migrator.down(Target::To("001".into())).unwrap().len(), 1, "back to 001, keeping it");
        assert_eq!(migrator.up(Target::To("002_create_b".into())).unwrap().len(), 1);
        assert_eq!(migrator.reset().unwrap().len(), 2);
        assert_eq!(applied(&conn), 0);
        assert!(!table_exists(&conn, "mig_a"));
    }

    fn status_and_dry_run(db: &TestDb) {
        let conn = db.conn();
        let migrations = Migrations::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap();
        let migrator = Migrator::new(&conn, &migrations);
        let plan = migrator.plan_up(&Target::All).unwrap();
        assert_eq!(plan.len(), 2);
        assert!(plan[0].up.contains("CREATE TABLE m_users"));
        assert!(!table_exists(&conn, "m_users"), "a dry run changes nothing");
        migrator.up(Target::Steps(1)).unwrap();
        let status = migrator.status().unwrap();
        assert!(matches!(status[0].state, MigrationState::Applied { changed: false, duration_ms: Some(_), .. }));
        assert_eq!(status[0].description.as_deref(), Some("Users"));
        assert_eq!(status[1].state, MigrationState::Pending);
        assert_eq!(migrator.plan_down(&Target::All).unwrap().len(), 1);
    }

    fn embedded_migrations_run(db: &TestDb) {
        static EMBEDDED: &[kysera::migrate::EmbeddedMigration] = kysera::embed_migrations!("migrations");
        let migrations = Migrations::from_embedded(EMBEDDED).unwrap();
        assert_eq!(migrations.len(), 2);
        assert_eq!(migrations, Migrations::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap());
        let conn = db.conn();
        assert_eq!(Migrator::new(&conn, &migrations).up(Target::All).unwrap().len(), 2);
        assert!(table_exists(&conn, "m_posts"));
    }

    fn fresh_drops_everything(db: &TestDb) {
        let conn = db.conn();
        conn.batch_execute("CREATE TABLE stray (id INTEGER PRIMARY KEY); CREATE VIEW stray_view AS SELECT id FROM stray").unwrap();
        let migrations = three();
        let migrator = Migrator::new(&conn, &migrations);
        migrator.up(Target::All).unwrap();
        assert_eq!(migrator.fresh().unwrap().len(), 3);
        assert!(!table_exists(&conn, "stray") && !table_exists(&conn, "stray_view"));
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM mig_a"), 1);
    }

    fn diesel_history_is_adopted(db: &TestDb) {
        let conn = db.conn();
        let migrations = three();
        // As if Diesel had run the first migration.
        conn.batch_execute("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
                            CREATE TABLE mig_a (id INTEGER PRIMARY KEY);
                            INSERT INTO __diesel_schema_migrations (version) VALUES ('001')").unwrap();
        let ran = Migrator::new(&conn, &migrations).up(Target::All).unwrap();
        assert_eq!(ran.iter().map(|a| a.version.as_str()).collect::<Vec<_>>(), vec!["002", "003"], "001 is not run again");
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM kysera_migrations"), 3, "the adopted one gets a checksum too");
    }

    fn edited_migrations_are_reported_before_anything_runs(db: &TestDb) {
        let conn = db.conn();
        Migrator::new(&conn, &three()).up(Target::Steps(2)).unwrap();
        let crlf = Migrations::new(vec![
            m("001_create_a", "CREATE TABLE mig_a (id INTEGER PRIMARY KEY);\r\n", "DROP TABLE mig_a"),
            m("002_create_b", "CREATE TABLE mig_b (id INTEGER PRIMARY KEY)", "DROP TABLE mig_b"),
        ]).unwrap();
        assert!(Migrator::new(&conn, &crlf).status().unwrap().iter().all(|s| !matches!(s.state, MigrationState::Applied { changed: true, .. })), "line endings alone are no change");
        let edited = Migrations::new(vec![
            m("001_create_a", "CREATE TABLE mig_a (id BIGINT PRIMARY KEY)", "DROP TABLE mig_a"),
            m("002_create_b", "CREATE TABLE mig_b (id INTEGER PRIMARY KEY)", "DROP TABLE mig_b"),
            m("003_create_c", "CREATE TABLE mig_c (id INTEGER PRIMARY KEY)", "DROP TABLE mig_c"),
        ]).unwrap();
        match Migrator::new(&conn, &edited).up(Target::All) {
            Err(Error::MigrationChanged(names)) => assert_eq!(names, vec!["001_create_a".to_string()]),
            other => panic!("expected MigrationChanged, got {other:?}"),
        }
        assert!(!table_exists(&conn, "mig_c"), "nothing ran");
        assert_eq!(Migrator::new(&conn, &edited).accept_changed(true).up(Target::All).unwrap().len(), 1);
        assert!(Migrator::new(&conn, &edited).up(Target::All).unwrap().is_empty(), "the new checksum was recorded");
    }

    fn a_failing_migration_is_never_recorded(db: &TestDb) {
        let conn = db.conn();
        let migrations = Migrations::new(vec![
            m("001_ok", "CREATE TABLE mig_ok (id INTEGER PRIMARY KEY)", "DROP TABLE mig_ok"),
            m("002_broken", "CREATE TABLE mig_half (id INTEGER PRIMARY KEY); INSERT INTO no_such_table VALUES (1)", "DROP TABLE mig_half"),
        ]).unwrap();
        let err = Migrator::new(&conn, &migrations).up(Target::All).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("002_broken"), "{message}");
        assert_eq!(applied(&conn), 1, "only the good migration is recorded");
        if db.backend() == BackendKind::Mysql {
            assert!(message.contains("cannot roll back DDL"), "{message}");
        } else {
            assert!(!table_exists(&conn, "mig_half"), "transactional DDL rolled the half back");
        }
    }
}

/// Eight runners start at once on the same pending migrations: each migration is applied
/// exactly once, and the runners that lose the race find nothing to do.
fn concurrent_runners(backend: BackendKind) {
    let db = TestDb::new(backend, "SELECT 1");
    let migrations = Arc::new(
        Migrations::new(vec![
            m(
                "001_counter",
                "CREATE TABLE mig_counter (n INTEGER NOT NULL)",
                "DROP TABLE mig_counter",
            ),
            m(
                "002_count",
                "INSERT INTO mig_counter (n) VALUES (1)",
                "DELETE FROM mig_counter",
            ),
            m(
                "003_count",
                "INSERT INTO mig_counter (n) VALUES (2)",
                "DELETE FROM mig_counter WHERE n = 2",
            ),
        ])
        .unwrap(),
    );
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (url, migrations, barrier) = (db.url.clone(), migrations.clone(), barrier.clone());
            std::thread::spawn(move || {
                let conn = Conn::establish(&url).unwrap();
                barrier.wait();
                Migrator::new(&conn, &migrations)
                    .up(Target::All)
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let ran: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        ran.iter().sum::<usize>(),
        3,
        "each migration applied exactly once: {ran:?}"
    );
    let conn = db.conn();
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM mig_counter"), 2);
    assert_eq!(applied(&conn), 3);
}

#[test]
fn sqlite_concurrent_runners() {
    concurrent_runners(BackendKind::Sqlite);
}

#[test]
fn postgres_concurrent_runners() {
    concurrent_runners(BackendKind::Postgres);
}

#[test]
fn mysql_concurrent_runners() {
    concurrent_runners(BackendKind::Mysql);
}
