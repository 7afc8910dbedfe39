//! Upserts on every backend: insert or update by a conflict target, with timestamps, soft
//! delete, audit and chunking.
#![allow(missing_docs)]

use chrono::NaiveDateTime;
use kysera::{BackendKind, Error, Repository, Upsert};
use kysera_integration_tests::{all_backends, TestDb};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "members")]
#[timestamps]
#[soft_delete]
#[audited]
pub struct Member {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub visits: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

fn schema(backend: BackendKind) -> String {
    let (id, ts, text) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP", "TEXT"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP", "TEXT"),
        BackendKind::Mysql => (
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "DATETIME(6)",
            "VARCHAR(200)",
        ),
    };
    format!(
        "CREATE TABLE members (id {id}, email {text} NOT NULL, name {text} NOT NULL,
            visits BIGINT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL,
            deleted_at {ts} NULL);
         CREATE UNIQUE INDEX members_email_key ON members (email);
         {}",
        kysera::audit::migration_sql(backend)
    )
}

/// A connection to the test database.
fn connect(db: &TestDb) -> kysera::Conn {
    db.conn()
}

fn new(email: &str, name: &str, visits: i64) -> NewMember {
    NewMember {
        email: email.into(),
        name: name.into(),
        visits,
        created_at: None,
        updated_at: None,
    }
}

all_backends! {
    fn upsert_inserts_then_updates_keeping_created_at(db: &TestDb) {
        let conn = connect(db);
        let repo = conn.repo::<Member>();
        let first = repo.upsert(&new("a@x.org", "Ann", 1), &Upsert::on(["email"])).unwrap();
        assert!(first.inserted);
        let second = repo.upsert(&new("a@x.org", "Anne", 2), &Upsert::on(["email"])).unwrap();
        assert!(!second.inserted);
        assert_eq!(second.row.id, first.row.id);
        assert_eq!((second.row.name.as_str(), second.row.visits), ("Anne", 2));
        assert_eq!(second.row.created_at, first.row.created_at, "created_at kept on update");
        assert!(second.row.updated_at >= first.row.updated_at);
        assert_eq!(repo.count().unwrap(), 1);
        let history = repo.audit_history(first.row.id).unwrap();
        let ops: Vec<&str> = history.iter().map(|e| e.operation.as_str()).collect();
        assert_eq!(ops, vec!["insert", "update"]);
        assert!(history[1].old_values.as_deref().unwrap().contains("Ann\""), "{:?}", history[1]);
    }

    fn upsert_many_marks_each_row_and_keeps_input_order(db: &TestDb) {
        let conn = connect(db);
        let repo = conn.repo::<Member>();
        repo.create_many(&[new("b@x.org", "B", 1), new("d@x.org", "D", 1)]).unwrap();
        let rows = [new("a@x.org", "A", 5), new("b@x.org", "B2", 5), new("c@x.org", "C", 5), new("d@x.org", "D2", 5)];
        let out = repo.upsert_many(&rows, &Upsert::on(["email"])).unwrap();
        let got: Vec<(&str, &str, bool)> = out.iter().map(|u| (u.row.email.as_str(), u.row.name.as_str(), u.inserted)).collect();
        assert_eq!(got, vec![("a@x.org", "A", true), ("b@x.org", "B2", false), ("c@x.org", "C", true), ("d@x.org", "D2", false)]);
        assert_eq!(repo.count().unwrap(), 4);
    }

    fn upsert_update_list_and_constraint_target(db: &TestDb) {
        let conn = connect(db);
        let repo = conn.repo::<Member>();
        repo.create(&new("a@x.org", "Ann", 1)).unwrap();
        let only_visits = Upsert::on_constraint("members_email_key").update(["visits"]);
        let out = repo.upsert(&new("a@x.org", "Ignored", 9), &only_visits).unwrap();
        assert!(!out.inserted);
        assert_eq!((out.row.name.as_str(), out.row.visits), ("Ann", 9));
        let missing = repo.upsert(&new("a@x.org", "X", 1), &Upsert::on_constraint("no_such_key"));
        assert!(matches!(missing, Err(Error::InvalidArgument(_))), "{missing:?}");
        let unknown = repo.upsert(&new("a@x.org", "X", 1), &Upsert::on(["mail"]));
        assert!(matches!(unknown, Err(Error::UnknownColumn { .. })), "{unknown:?}");
        let created = repo.upsert(&new("a@x.org", "X", 1), &Upsert::on(["email"]).update(["created_at"]));
        assert!(matches!(created, Err(Error::InvalidArgument(_))), "{created:?}");
    }

    fn upsert_restores_a_soft_deleted_conflict(db: &TestDb) {
        let conn = connect(db);
        let repo = conn.repo::<Member>();
        let row = repo.create(&new("a@x.org", "Ann", 1)).unwrap();
        repo.delete(row.id).unwrap();
        assert_eq!(repo.count().unwrap(), 0);
        let out = repo.upsert(&new("a@x.org", "Back", 2), &Upsert::on(["email"])).unwrap();
        assert!(!out.inserted);
        assert_eq!(out.row.id, row.id);
        assert_eq!(out.row.deleted_at, None);
        assert_eq!(repo.count().unwrap(), 1);
    }

    fn upsert_refuses_repeats_and_writes_nothing(db: &TestDb) {
        let conn = connect(db);
        let repo = conn.repo::<Member>();
        let rows = [new("a@x.org", "A", 1), new("b@x.org", "B", 1), new("a@x.org", "A2", 1)];
        let err = repo.upsert_many(&rows, &Upsert::on(["email"])).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(ref m) if m.contains("rows 0 and 2")), "{err}");
        let invalid = repo.upsert_many(&[new("c@x.org", "C", 1)], &Upsert::on(["id"]));
        assert!(matches!(invalid, Err(Error::InvalidArgument(_))), "generated key is no target: {invalid:?}");
        assert_eq!(repo.with_deleted().count().unwrap(), 0);
    }

    fn upsert_many_chunks_past_the_bind_limit(db: &TestDb) {
        let conn = connect(db);
        let repo = conn.repo::<Member>();
        // Five binds a row: 7,000 rows need several statements on SQLite, one elsewhere.
        let existing: Vec<NewMember> = (0..3_000).map(|i| new(&format!("u{i}@x.org"), "old", 0)).collect();
        repo.create_many(&existing).unwrap();
        let rows: Vec<NewMember> = (0..7_000).map(|i| new(&format!("u{i}@x.org"), "new", i)).collect();
        let out = repo.upsert_many(&rows, &Upsert::on(["email"])).unwrap();
        assert_eq!(out.len(), 7_000);
        assert_eq!(out.iter().filter(|u| u.inserted).count(), 4_000);
        assert!(out.iter().enumerate().all(|(i, u)| u.row.visits == i as i64 && u.row.name == "new"));
        assert_eq!(repo.count().unwrap(), 7_000);
    }
}

/// PostgreSQL, READ COMMITTED: another transaction inserts the key after the upsert's locking
/// read and commits while the upsert's INSERT waits on it. The INSERT then updates that row;
/// the upsert must not report it as inserted: it fails with a transient error, and a retry
/// reports the update.
#[test]
fn postgres_concurrent_insert_of_a_new_key_is_a_retryable_failure_not_a_wrong_flag() {
    use kysera::TransactionOptions;
    use std::time::{Duration, Instant};

    let db = TestDb::new(BackendKind::Postgres, schema(BackendKind::Postgres));
    // The other transaction inserts the key and holds its transaction open until told.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<i32>();
    let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
    let other_pool = db.db.clone();
    let other = std::thread::spawn(move || {
        other_pool.transaction(|tx| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Pid {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                pid: i32,
            }
            tx.repo::<Member>()
                .create(&new("race@example.com", "Other", 1))?;
            let rows: Vec<Pid> = tx.load(diesel::sql_query("SELECT pg_backend_pid() AS pid"))?;
            ready_tx.send(rows[0].pid).unwrap();
            commit_rx.recv_timeout(Duration::from_secs(60)).unwrap();
            Ok::<_, Error>(())
        })
    });
    let other_pid = ready_rx.recv_timeout(Duration::from_secs(30)).unwrap();

    let pool = db.db.clone();
    let upsert = std::thread::spawn(move || {
        let conn = pool.conn().unwrap();
        conn.repo::<Member>().upsert_many(
            &[new("race@example.com", "Mine", 2)],
            &Upsert::on(["email"]),
        )
    });
    // Wait until the upsert's INSERT is blocked on the other transaction's row, then commit it.
    let watcher = connect(&db);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Blocked {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<Blocked> = watcher
            .load(
                diesel::sql_query(
                    "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                )
                .bind::<diesel::sql_types::Integer, _>(other_pid),
            )
            .unwrap();
        if rows[0].n > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the upsert never waited on the other transaction"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    commit_tx.send(()).unwrap();
    other.join().unwrap().unwrap();

    let raced = upsert.join().unwrap();
    match &raced {
        Err(e @ Error::SerializationFailure { message }) => {
            assert!(
                e.is_transient() && message.contains("concurrent"),
                "{message}"
            )
        }
        other => panic!("expected a serialization failure, got {other:?}"),
    }
    let conn = connect(&db);
    let stored = conn
        .repo::<Member>()
        .find_by_email("race@example.com")
        .unwrap();
    assert_eq!(stored[0].name, "Other", "the failed upsert was rolled back");

    // Retried, it sees the row and reports an update.
    let retried = db
        .db
        .transaction_with(&TransactionOptions::new().retries(2), |tx| {
            tx.repo::<Member>().upsert_many(
                &[new("race@example.com", "Mine", 2)],
                &Upsert::on(["email"]),
            )
        })
        .unwrap();
    assert!(!retried[0].inserted);
    assert_eq!(
        (retried[0].row.name.as_str(), retried[0].row.visits),
        ("Mine", 2)
    );
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "nodes", belongs_to(Node, foreign_key = "parent"))]
pub struct Node {
    #[kysera(primary_key)]
    pub id: String,
    pub parent: Option<String>,
    pub label: String,
}

/// PostgreSQL: the foreign-key checks of children inserted in the same statement lock their
/// new parents (`FOR KEY SHARE` sets `xmax`); the inserted flags come from the statement
/// itself, so a tree upserted in one call is neither refused nor misreported.
#[test]
fn postgres_a_tree_upserted_in_one_call_reports_its_inserts() {
    let db = TestDb::new(
        BackendKind::Postgres,
        "CREATE TABLE nodes (id TEXT PRIMARY KEY, parent TEXT NULL REFERENCES nodes (id), label TEXT NOT NULL)",
    );
    let conn = connect(&db);
    let node = |id: &str, parent: Option<&str>| NewNode {
        id: id.into(),
        parent: parent.map(Into::into),
        label: id.to_uppercase(),
    };
    let tree = [
        node("root", None),
        node("a", Some("root")),
        node("b", Some("root")),
        node("a1", Some("a")),
    ];
    let first = conn
        .repo::<Node>()
        .upsert_many(&tree, &Upsert::on(["id"]))
        .unwrap();
    assert!(first.iter().all(|u| u.inserted), "{first:?}");
    // Neither audited nor watched by plugins: the statement's own flags suffice, so the
    // upsert is its one statement, as hand-written Diesel's would be.
    let log = kysera_integration_tests::StatementLog::attach(&conn);
    let again = conn
        .repo::<Node>()
        .upsert_many(&tree, &Upsert::on(["id"]))
        .unwrap();
    assert!(again.iter().all(|u| !u.inserted), "{again:?}");
    let statements = log.take_data_statements();
    assert_eq!(statements.len(), 1, "{statements:#?}");
}
