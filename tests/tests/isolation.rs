//! Transactions with options: isolation levels, read-only access, re-runs after
//! serialization failures and deadlocks, and `#[kysera::transactional]`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};

use diesel::prelude::*;
use kysera::{BackendKind, Conn, Error, Isolation, TransactionOptions};
use kysera_integration_tests::{all_backends, TestDb};

diesel::table! {
    /// Accounts and their balances.
    accounts (id) {
        /// Key.
        id -> BigInt,
        /// Balance.
        balance -> BigInt,
    }
}

diesel::table! {
    /// Doctors and whether they are on call.
    doctors (id) {
        /// Key.
        id -> BigInt,
        /// On call.
        on_call -> Bool,
    }
}

fn schema(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Mysql => {
            "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB;
             INSERT INTO accounts VALUES (1, 100), (2, 0);
             CREATE TABLE doctors (id BIGINT PRIMARY KEY, on_call BOOLEAN NOT NULL) ENGINE=InnoDB;
             INSERT INTO doctors VALUES (1, TRUE), (2, TRUE);"
        }
        _ => {
            "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL);
             INSERT INTO accounts VALUES (1, 100), (2, 0);
             CREATE TABLE doctors (id BIGINT PRIMARY KEY, on_call BOOLEAN NOT NULL);
             INSERT INTO doctors VALUES (1, TRUE), (2, TRUE);"
        }
    }
}

fn balance(conn: &Conn, id: i64) -> i64 {
    conn.load(accounts::table.find(id).select(accounts::balance))
        .unwrap()[0]
}

fn set_balance(conn: &Conn, id: i64, value: i64) -> kysera::Result<usize> {
    conn.execute(diesel::update(accounts::table.find(id)).set(accounts::balance.eq(value)))
}

#[kysera::transactional]
fn transfer(conn: &Conn, from: i64, to: i64, amount: i64) -> Result<(), Error> {
    use crate::accounts::{balance, table as accounts};
    conn.execute(diesel::update(accounts.find(from)).set(balance.eq(balance - amount)))?;
    let left: i64 = conn.load(accounts.find(from).select(balance))?[0];
    if left < 0 {
        return Err(Error::InvalidArgument(format!(
            "account {from} would be overdrawn"
        )));
    }
    conn.execute(diesel::update(accounts.find(to)).set(balance.eq(balance + amount)))?;
    Ok(())
}

#[kysera::transactional(isolation = "serializable", retries = 2)]
fn transfer_serializable(tx: &Conn, amount: i64) -> Result<(), Error> {
    transfer(tx, 1, 2, amount)
}

#[kysera::transactional(read_only)]
fn read_only_write(conn: &Conn) -> Result<usize, Error> {
    set_balance(conn, 1, 0)
}

/// Takes an owned argument and consumes it: allowed without retries.
#[kysera::transactional(isolation = "read_committed")]
fn consume_note(conn: &Conn, note: String) -> Result<String, Error> {
    set_balance(conn, 2, note.len() as i64)?;
    Ok(note)
}

/// Reads account 1 twice at `level`, while another connection commits a change in between;
/// returns both readings.
fn reads_around_a_commit(db: &TestDb, level: Isolation) -> (i64, i64) {
    let other = db.conn();
    let conn = db.conn();
    conn.transaction_with(&TransactionOptions::new().isolation(level), |tx| {
        let before = balance(tx, 1);
        let current = balance(&other, 1);
        set_balance(&other, 1, current + 1)?;
        Ok::<_, Error>((before, balance(tx, 1)))
    })
    .unwrap()
}

all_backends! {
    fn the_attribute_commits_on_ok_and_rolls_back_on_err(db: &TestDb) {
        let conn = db.conn();
        transfer(&conn, 1, 2, 30).unwrap();
        assert_eq!((balance(&conn, 1), balance(&conn, 2)), (70, 30));
        let err = transfer(&conn, 1, 2, 500).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        // The debit ran before the check failed: it was rolled back.
        assert_eq!((balance(&conn, 1), balance(&conn, 2)), (70, 30));
        assert!(!conn.in_transaction());
    }

    fn a_nested_transactional_call_is_a_savepoint(db: &TestDb) {
        let conn = db.conn();
        conn.transaction(|tx| {
            transfer(tx, 1, 2, 10)?;
            assert!(transfer(tx, 1, 2, 1000).is_err());
            assert!(tx.in_transaction(), "the failed inner call left the outer transaction open");
            transfer_serializable(tx, 5)
        })
        .unwrap();
        assert_eq!((balance(&conn, 1), balance(&conn, 2)), (85, 15));
    }

    fn owned_arguments_can_be_consumed_without_retries(db: &TestDb) {
        let conn = db.conn();
        assert_eq!(consume_note(&conn, "seven".into()).unwrap(), "seven");
        assert_eq!(balance(&conn, 2), 5);
    }

    fn read_only_transactions_refuse_writes_and_leave_the_connection_writable(db: &TestDb) {
        let conn = db.conn();
        let err = read_only_write(&conn).unwrap_err();
        assert!(matches!(err, Error::Database { .. }), "{err:?}");
        assert_eq!(balance(&conn, 1), 100);
        assert_eq!(set_balance(&conn, 1, 99).unwrap(), 1);
        assert_eq!(balance(&conn, 1), 99);
    }

    fn isolation_levels_change_what_a_transaction_sees(db: &TestDb) {
        let (before, after) = reads_around_a_commit(db, Isolation::RepeatableRead);
        assert_eq!(before, after, "repeatable read sees one snapshot");
        let (before, after) = reads_around_a_commit(db, Isolation::ReadCommitted);
        if db.backend() == BackendKind::Sqlite {
            // SQLite transactions are always serializable: a read transaction keeps its snapshot.
            assert_eq!(before, after);
        } else {
            assert_eq!(after, before + 1, "read committed sees the other connection's commit");
        }
    }

    fn retries_stop_after_the_configured_count(db: &TestDb) {
        let conn = db.conn();
        let runs = AtomicU32::new(0);
        let err = conn
            .transaction_with(&TransactionOptions::new().retries(2), |tx| {
                runs.fetch_add(1, Ordering::SeqCst);
                set_balance(tx, 1, 1)?;
                Err::<(), _>(Error::Deadlock { message: "simulated by the closure".into() })
            })
            .unwrap_err();
        assert!(matches!(err, Error::Deadlock { .. }));
        assert_eq!(runs.load(Ordering::SeqCst), 3, "one run and two re-runs");
        assert_eq!(balance(&conn, 1), 100, "every run was rolled back");

        let runs = AtomicU32::new(0);
        let err = conn
            .transaction_with(&TransactionOptions::new().retries(5), |_| {
                runs.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::InvalidArgument("not transient".into()))
            })
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)));
        assert_eq!(runs.load(Ordering::SeqCst), 1, "only serialization failures and deadlocks re-run");
    }

    fn concurrent_serializable_transactions_never_lose_updates(db: &TestDb) {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let pool = db.db.clone();
                std::thread::spawn(move || {
                    let options = TransactionOptions::new().isolation(Isolation::Serializable).retries(20);
                    for _ in 0..10 {
                        pool.transaction_with(&options, |tx| {
                            let current = balance(tx, 2);
                            set_balance(tx, 2, current + 1)
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(balance(&db.conn(), 2), 20);
    }
}

/// Two doctors on call; each transaction takes one off call if the other is still on call.
/// Run one after the other, exactly one doctor stays on call; run concurrently at
/// serializable, one of the two transactions must fail (PostgreSQL: serialization failure,
/// MySQL: deadlock on the shared locks its serializable reads take).
fn go_off_call(tx: &Conn, doctor: i64, barrier: Option<&Barrier>) -> Result<bool, Error> {
    let on_call: Vec<i64> = tx.load(
        doctors::table
            .filter(doctors::on_call.eq(true))
            .select(doctors::id),
    )?;
    if let Some(barrier) = barrier {
        barrier.wait();
    }
    if on_call.len() < 2 {
        return Ok(false);
    }
    tx.execute(diesel::update(doctors::table.find(doctor)).set(doctors::on_call.eq(false)))?;
    Ok(true)
}

/// Runs `go_off_call` for doctors 1 and 2 on two threads that both read before either writes
/// (on their first attempt); returns each thread's result and how many runs there were.
fn write_skew(db: &TestDb, retries: u32) -> (Vec<Result<bool, Error>>, u32) {
    let barrier = Arc::new(Barrier::new(2));
    let runs = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (1..=2)
        .map(|doctor| {
            let pool = db.db.clone();
            let barrier = barrier.clone();
            let runs = runs.clone();
            std::thread::spawn(move || {
                let options = TransactionOptions::new()
                    .isolation(Isolation::Serializable)
                    .retries(retries);
                let mut first = true;
                pool.transaction_with(&options, |tx| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    let wait = std::mem::take(&mut first).then_some(&*barrier);
                    go_off_call(tx, doctor, wait)
                })
            })
        })
        .collect();
    let results = threads.into_iter().map(|t| t.join().unwrap()).collect();
    (results, runs.load(Ordering::SeqCst))
}

fn on_call_count(db: &TestDb) -> usize {
    db.conn()
        .load::<i64, _>(
            doctors::table
                .filter(doctors::on_call.eq(true))
                .select(doctors::id),
        )
        .unwrap()
        .len()
}

fn write_skew_fails_one_transaction_without_retries(backend: BackendKind) {
    let db = TestDb::new(backend, schema(backend));
    let (results, runs) = write_skew(&db, 0);
    assert_eq!(runs, 2);
    let failures: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failures.len(), 1, "{results:?}");
    assert!(
        matches!(
            failures[0],
            Error::SerializationFailure { .. } | Error::Deadlock { .. }
        ),
        "{:?}",
        failures[0]
    );
    assert!(failures[0].is_transient());
    assert_eq!(on_call_count(&db), 1);
}

fn write_skew_succeeds_after_a_retry(backend: BackendKind) {
    let db = TestDb::new(backend, schema(backend));
    let (results, runs) = write_skew(&db, 3);
    let outcomes: Vec<bool> = results.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(runs, 3, "the failed transaction ran once more");
    // One took its doctor off call; the re-run saw only one doctor left and changed nothing.
    assert_eq!(
        outcomes.iter().filter(|&&off| off).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(on_call_count(&db), 1);
}

#[test]
fn postgres_write_skew_fails_one_transaction_without_retries() {
    write_skew_fails_one_transaction_without_retries(BackendKind::Postgres);
}

#[test]
fn postgres_write_skew_succeeds_after_a_retry() {
    write_skew_succeeds_after_a_retry(BackendKind::Postgres);
}

#[test]
fn mysql_write_skew_fails_one_transaction_without_retries() {
    write_skew_fails_one_transaction_without_retries(BackendKind::Mysql);
}

#[test]
fn mysql_write_skew_succeeds_after_a_retry() {
    write_skew_succeeds_after_a_retry(BackendKind::Mysql);
}
