//! Locking reads (`for_update`, `for_share`, `nowait`, `skip_locked`) and guarded updates
//! (`update_if`, `transition`), against a second real transaction, on every backend.
#![allow(missing_docs)]

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::prelude::*;
use kysera::{BackendKind, Database, Error, Find, Repository};
use kysera_integration_tests::{all_backends, TestDb};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "jobs")]
#[audited]
pub struct Job {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub status: String,
    pub attempts: i64,
    pub worker: Option<String>,
}

fn schema(backend: BackendKind) -> String {
    let id = match backend {
        BackendKind::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        BackendKind::Postgres => "BIGSERIAL PRIMARY KEY",
        BackendKind::Mysql => "BIGINT AUTO_INCREMENT PRIMARY KEY",
    };
    format!(
        "CREATE TABLE jobs (id {id}, status VARCHAR(20) NOT NULL, attempts BIGINT NOT NULL,
            worker VARCHAR(50) NULL);
         {}",
        kysera::audit::migration_sql(backend)
    )
}

/// Three pending jobs, keys 1, 2, 3.
fn seed(db: &TestDb) -> Vec<Job> {
    let new = |_| NewJob {
        status: "pending".into(),
        attempts: 0,
        worker: None,
    };
    db.conn()
        .repo::<Job>()
        .create_many(&(0..3).map(new).collect::<Vec<_>>())
        .unwrap()
}

/// A transaction on its own connection that runs `find` (locking), then stays open until the
/// returned sender is dropped or sent to. Returns once the rows are locked.
fn hold(db: &Database, find: fn() -> Find<Job>) -> (mpsc::Sender<()>, JoinHandle<Vec<i64>>) {
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let db = db.clone();
    let holder = std::thread::spawn(move || {
        db.transaction(|tx| {
            let rows = tx.repo::<Job>().find(find())?;
            locked_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(60));
            Ok::<_, Error>(rows.iter().map(|j| j.id).collect())
        })
        .unwrap()
    });
    locked_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the holder locked its rows");
    (release_tx, holder)
}

fn job(id: i64) -> Find<Job> {
    Find::new().filter(jobs::id.eq(id))
}

fn ids(rows: &[Job]) -> Vec<i64> {
    rows.iter().map(|j| j.id).collect()
}

all_backends! {
    fn a_locking_read_needs_a_transaction_and_a_lock_to_modify(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let jobs = conn.repo::<Job>();
        match jobs.find(job(1).for_update()) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("outside a transaction"), "{m}"),
            other => panic!("expected a refusal outside a transaction, got {other:?}"),
        }
        match jobs.find(job(1).nowait()) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("for_update"), "{m}"),
            other => panic!("expected nowait without a lock to be refused, got {other:?}"),
        }
        // In a transaction the read returns what a plain read returns.
        let locked = conn.transaction(|tx| tx.repo::<Job>().find(Find::new().for_update().limit(2))).unwrap();
        assert_eq!(ids(&locked), [1, 2]);
        let shared = conn.transaction(|tx| tx.repo::<Job>().find_one(job(3).for_share())).unwrap();
        assert_eq!(shared.map(|j| j.id), Some(3));
    }

    fn guarded_updates_compare_and_swap(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let jobs = conn.repo::<Job>();
        let by = |w: &str| JobUpdate { worker: Some(Some(w.into())), ..Default::default() };

        let taken = jobs.transition(1, "status", "pending", "running", &by("w1")).unwrap().expect("was pending");
        assert_eq!((taken.status.as_str(), taken.worker.as_deref()), ("running", Some("w1")));
        assert_eq!(jobs.transition(1, "status", "pending", "running", &by("w2")).unwrap(), None);
        assert_eq!(jobs.get(1).unwrap().worker.as_deref(), Some("w1"), "a failed guard changes nothing");
        assert_eq!(jobs.transition(99, "status", "pending", "running", &by("w2")).unwrap(), None);
        // Audited as the update it was, once.
        let history = jobs.audit_history(1).unwrap();
        assert_eq!(history.len(), 2, "{history:?}"); // the insert and one update

        // Typed guard.
        let retried = JobUpdate { attempts: Some(1), ..Default::default() };
        assert!(jobs.update_if(2, jobs::attempts.eq(0), &retried).unwrap().is_some());
        assert!(jobs.update_if(2, jobs::attempts.eq(0), &retried).unwrap().is_none());

        // Bad input is a typed error.
        assert!(matches!(jobs.transition(1, "colour", "a", "b", &JobUpdate::default()), Err(Error::UnknownColumn { .. })));
        assert!(matches!(jobs.transition(1, "attempts", "zero", 1, &JobUpdate::default()), Err(Error::InvalidFilter(_))));
        assert!(matches!(jobs.transition(1, "attempts", 0, "one", &JobUpdate::default()), Err(Error::InvalidFilter(_))));
        assert!(matches!(jobs.transition(1, "status", "running", serde_json::Value::Null, &JobUpdate::default()), Err(Error::InvalidFilter(_))));
        assert!(matches!(jobs.transition(1, "id", 1, 2, &JobUpdate::default()), Err(Error::InvalidArgument(_))));
    }

    fn racing_transitions_have_exactly_one_winner(db: &TestDb) {
        seed(db);
        let winners: Vec<bool> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..8)
                .map(|i| {
                    let pool = db.db.clone();
                    s.spawn(move || {
                        let conn = pool.conn().unwrap();
                        let me = JobUpdate { worker: Some(Some(format!("w{i}"))), ..Default::default() };
                        // SQLite refuses a second writer with a transient Busy rather than
                        // queueing it; a racer that gets one tries again.
                        loop {
                            match conn.repo::<Job>().transition(1, "status", "pending", "running", &me) {
                                Ok(won) => break won.is_some(),
                                Err(e) if e.is_transient() => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(winners.iter().filter(|w| **w).count(), 1, "{winners:?}");
        let stored = db.conn().repo::<Job>().get(1).unwrap();
        let winner = winners.iter().position(|w| *w).unwrap();
        assert_eq!(stored.worker, Some(format!("w{winner}")));
    }
}

/// PostgreSQL and MySQL/MariaDB: real row locks, seen from a second transaction.
fn row_locks_block_fail_or_skip(backend: BackendKind) {
    let db = TestDb::new(backend, schema(backend));
    seed(&db);
    let (release, holder) = hold(&db.db, || job(1).for_update());
    let conn = db.conn();
    let result = conn.transaction(|tx| {
        let jobs = tx.repo::<Job>();
        // NOWAIT on the locked row fails at once, as a typed, transient error.
        let nowait = jobs.find(job(1).for_update().nowait());
        assert!(
            matches!(&nowait, Err(e @ Error::Busy { .. }) if e.is_transient()),
            "{nowait:?}"
        );
        Ok::<_, Error>(())
    });
    result.unwrap();
    let skipped = conn
        .transaction(|tx| {
            tx.repo::<Job>()
                .find(Find::new().for_update().skip_locked())
        })
        .unwrap();
    assert_eq!(ids(&skipped), [2, 3], "the locked row is skipped");
    let next = conn
        .transaction(|tx| {
            tx.repo::<Job>()
                .find_one(Find::new().for_update().skip_locked().limit(1))
        })
        .unwrap();
    assert_eq!(next.map(|j| j.id), Some(2), "a queue's next free job");
    let shared = conn.transaction(|tx| tx.repo::<Job>().find(job(1).for_share().nowait()));
    assert!(matches!(shared, Err(Error::Busy { .. })), "{shared:?}");
    release.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), [1]);

    // Share locks admit share locks, not updates.
    let (release, holder) = hold(&db.db, || job(2).for_share());
    let also_shared = conn
        .transaction(|tx| tx.repo::<Job>().find(job(2).for_share().nowait()))
        .unwrap();
    assert_eq!(ids(&also_shared), [2]);
    let update = conn.transaction(|tx| tx.repo::<Job>().find(job(2).for_update().nowait()));
    assert!(matches!(update, Err(Error::Busy { .. })), "{update:?}");
    release.send(()).unwrap();
    holder.join().unwrap();
}

#[test]
fn postgres_row_locks_block_fail_or_skip() {
    row_locks_block_fail_or_skip(BackendKind::Postgres);
}

#[test]
fn mysql_row_locks_block_fail_or_skip() {
    row_locks_block_fail_or_skip(BackendKind::Mysql);
}

/// SQLite has no row locks: a locking read takes the database's write lock, and the
/// modifiers that only make sense with row locks are refused.
#[test]
fn sqlite_locking_read_takes_the_write_lock() {
    let db = TestDb::new(BackendKind::Sqlite, schema(BackendKind::Sqlite));
    seed(&db);
    let conn = db.conn();
    for find in [
        job(1).for_update().nowait(),
        job(1).for_share().skip_locked(),
    ] {
        let refused = conn.transaction(|tx| tx.repo::<Job>().find(find));
        assert!(
            matches!(&refused, Err(Error::InvalidArgument(m)) if m.contains("SQLite")),
            "{refused:?}"
        );
    }
    let (release, holder) = hold(&db.db, || job(1).for_update());
    // Another connection cannot write while the lock is held (it does not wait here).
    let other = db.conn();
    other.batch_execute("PRAGMA busy_timeout = 0").unwrap();
    let blocked = other.repo::<Job>().update(
        2,
        &JobUpdate {
            attempts: Some(5),
            ..Default::default()
        },
    );
    assert!(matches!(blocked, Err(Error::Busy { .. })), "{blocked:?}");
    // Reads still work.
    assert_eq!(other.repo::<Job>().count().unwrap(), 3);
    release.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), [1]);
    let after = other
        .repo::<Job>()
        .update(
            2,
            &JobUpdate {
                attempts: Some(5),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(after.attempts, 5);
}
