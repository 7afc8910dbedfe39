//! The async bridge: kysera called from Tokio tasks through `AsyncDatabase`, on every backend.
//! Results and typed errors arrive intact, transactions commit and roll back, a panic is a typed
//! error that leaves the pool working, and waiting for a busy pool never blocks the executor.
#![allow(missing_docs)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use kysera::{
    AsyncDatabase, BackendKind, Database, Error, Isolation, PoolConfig, TransactionOptions,
};
use kysera_examples::blog::{self, NewUser, User};
use kysera_integration_tests::{all_backends, TestDb};

fn schema(backend: BackendKind) -> &'static str {
    blog::schema(backend)
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// One executor thread for every task: a call blocking it would stall all the others.
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        name: "N".into(),
        bio: None,
    }
}

/// A pool of one connection on the test's database.
fn single_connection(db: &TestDb, connection_timeout: Duration) -> AsyncDatabase {
    let config = PoolConfig {
        max_size: 1,
        connection_timeout,
        ..PoolConfig::default()
    };
    AsyncDatabase::new(Database::connect_with(&db.url, config).expect("pool of one"))
}

async fn emails(db: &AsyncDatabase) -> Vec<String> {
    let mut emails: Vec<String> = db
        .interact(|c| c.repo::<User>().find_all())
        .await
        .expect("read users")
        .into_iter()
        .map(|u| u.email)
        .collect();
    emails.sort();
    emails
}

#[derive(Debug)]
enum AppError {
    Db(Error),
    Taken(String),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Db(e)
    }
}

impl kysera::transaction::TransactionError for AppError {
    fn as_database_error(&self) -> Option<&Error> {
        match self {
            AppError::Db(e) => Some(e),
            AppError::Taken(_) => None,
        }
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

all_backends! {
    fn interact_returns_values_and_typed_errors(db: &TestDb) {
        multi_thread().block_on(async {
            let adb = AsyncDatabase::new(db.db.clone());
            let ada = adb.interact(|c| c.repo::<User>().create(&new_user("ada@example.com"))).await.unwrap();
            let found = adb.interact(move |c| c.repo::<User>().get(ada.id)).await.unwrap();
            assert_eq!((found.id, found.email.as_str()), (ada.id, "ada@example.com"));

            match adb.interact(|c| c.repo::<User>().get(424_242)).await {
                Err(Error::NotFound { table, key }) => assert_eq!((table.as_str(), key.as_str()), ("users", "424242")),
                other => panic!("expected NotFound, got {other:?}"),
            }
            match adb.interact(|c| c.repo::<User>().create(&new_user("ada@example.com"))).await {
                Err(Error::UniqueViolation(v)) => {
                    assert_eq!(v.field.as_deref(), Some("email"), "{v:?}");
                    assert_eq!(v.table.as_deref(), Some("users"), "{v:?}");
                }
                other => panic!("expected a unique violation, got {other:?}"),
            }

            // An application error type passes through as it is, and kysera's converts into it.
            let taken = adb.interact(|c| {
                if c.repo::<User>().find_by_email("ada@example.com")?.is_empty() {
                    Ok(())
                } else {
                    Err(AppError::Taken("ada@example.com".into()))
                }
            }).await;
            assert!(matches!(&taken, Err(AppError::Taken(e)) if e == "ada@example.com"), "{taken:?}");
            let missing: Result<User, AppError> = adb.interact(|c| Ok(c.repo::<User>().get(7_777)?)).await;
            assert!(matches!(missing, Err(AppError::Db(Error::NotFound { .. }))), "{missing:?}");

            // The futures are Send: they can be spawned onto any worker.
            let calls: Vec<_> = (0..3)
                .map(|_| {
                    let adb = adb.clone();
                    tokio::spawn(assert_send(async move { adb.interact(|c| c.repo::<User>().count()).await }))
                })
                .collect();
            for call in calls {
                assert_eq!(call.await.unwrap().unwrap(), 1);
            }
            assert_eq!(adb.database().state().in_use, 0);
        });
    }

    fn transactions_commit_and_roll_back(db: &TestDb) {
        multi_thread().block_on(async {
            let adb = AsyncDatabase::new(db.db.clone());
            let kept = adb.transaction(|tx| tx.repo::<User>().create(&new_user("kept@example.com"))).await.unwrap();
            assert_eq!(kept.email, "kept@example.com");

            let refused: Result<(), Error> = adb.transaction(|tx| {
                tx.repo::<User>().create(&new_user("refused@example.com"))?;
                Err(Error::InvalidArgument("changed my mind".into()))
            }).await;
            assert!(matches!(&refused, Err(Error::InvalidArgument(m)) if m == "changed my mind"), "{refused:?}");

            // A real failed write rolls back what the transaction wrote before it.
            let duplicate = adb.transaction(|tx| {
                let users = tx.repo::<User>();
                users.create(&new_user("before-duplicate@example.com"))?;
                users.create(&new_user("kept@example.com"))
            }).await;
            assert!(matches!(&duplicate, Err(Error::UniqueViolation(_))), "{duplicate:?}");
            assert_eq!(emails(&adb).await, ["kept@example.com"]);

            // With options: FnMut (re-runnable), and an application error type.
            let options = TransactionOptions::new().isolation(Isolation::Serializable).retries(2);
            let total = adb.transaction_with(&options, |tx| {
                let users = tx.repo::<User>();
                users.create(&new_user("serial@example.com"))?;
                Ok::<_, AppError>(users.count()?)
            }).await.unwrap();
            assert_eq!(total, 2);
            let taken = adb.transaction_with(&options, |tx| {
                tx.repo::<User>().create(&new_user("taken-then-refused@example.com"))?;
                Err::<(), _>(AppError::Taken("serial@example.com".into()))
            }).await;
            assert!(matches!(taken, Err(AppError::Taken(_))), "{taken:?}");

            let read_only = TransactionOptions::new().read_only();
            let write = adb.transaction_with(&read_only, |tx| tx.repo::<User>().create(&new_user("ro@example.com"))).await;
            assert!(write.is_err(), "a read-only transaction refuses writes: {write:?}");
            let count = adb.transaction_with(&read_only, |tx| tx.repo::<User>().count()).await.unwrap();
            assert_eq!(count, 2);
            assert_eq!(emails(&adb).await, ["kept@example.com", "serial@example.com"]);
            assert_eq!(adb.database().state().in_use, 0);
        });
    }

    fn a_panic_is_a_typed_error_and_the_pool_recovers(db: &TestDb) {
        // One connection: the call after a panic gets the same connection, or its replacement.
        let adb = single_connection(db, Duration::from_secs(10));
        multi_thread().block_on(async {
            let err = adb.interact(|_| -> kysera::Result<()> { panic!("boom") }).await.unwrap_err();
            assert!(matches!(&err, Error::Panicked { message } if message == "boom"), "{err:?}");
            assert!(!err.is_transient());
            assert_eq!(err.code(), "panicked");
            let state = adb.database().state();
            assert_eq!((state.in_use, state.waiting), (0, 0), "{state:?}");
            // A panic outside a transaction hands the connection back, in working order.
            let in_transaction = adb.interact(|c| {
                c.batch_execute("SELECT 1")?;
                Ok::<_, Error>(c.in_transaction())
            }).await.unwrap();
            assert!(!in_transaction);

            // In a transaction, after a write: the write is never committed, the connection
            // that still had the transaction open is not lent again.
            let err = adb.transaction(|tx| -> kysera::Result<()> {
                let ghost = tx.repo::<User>().create(&new_user("ghost@example.com"))?;
                panic!("after writing user {}", ghost.id)
            }).await.unwrap_err();
            assert!(matches!(&err, Error::Panicked { message } if message.starts_with("after writing user ")), "{err:?}");
            let state = adb.database().state();
            assert!(state.in_use == 0 && state.connections <= 1, "{state:?}");
            let (in_transaction, ghosts) = adb.interact(|c| {
                Ok::<_, Error>((c.in_transaction(), c.repo::<User>().find_by_email("ghost@example.com")?.len()))
            }).await.unwrap();
            assert!(!in_transaction, "the next call must not run inside the panicked transaction");
            assert_eq!(ghosts, 0, "the panicked transaction's write must be rolled back");

            // A nested transaction inside interact, and the pool still writes and commits.
            let err = adb.interact(|c| c.transaction(|_| -> kysera::Result<()> { panic!("nested") })).await.unwrap_err();
            assert!(matches!(&err, Error::Panicked { message } if message == "nested"), "{err:?}");
            adb.transaction(|tx| tx.repo::<User>().create(&new_user("alive@example.com"))).await.unwrap();
            assert_eq!(emails(&adb).await, ["alive@example.com"]);
            assert_eq!(adb.database().state().in_use, 0);
        });
    }

    fn pool_timeout_is_typed_and_the_executor_keeps_running(db: &TestDb) {
        let adb = single_connection(db, Duration::from_millis(300));
        // A single executor thread: had the wait for a connection blocked it, the watcher below
        // could not run until the wait was over.
        current_thread().block_on(async {
            let (held_tx, held_rx) = tokio::sync::oneshot::channel();
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let holder = tokio::spawn({
                let adb = adb.clone();
                async move {
                    adb.interact(move |c| {
                        let _ = held_tx.send(());
                        // Bounded, so a bridge that blocked the executor fails the test
                        // instead of hanging it; returns at once if the test fails first.
                        let _ = release_rx.recv_timeout(Duration::from_secs(30));
                        c.repo::<User>().count()
                    })
                    .await
                }
            });
            held_rx.await.expect("the holder has the only connection");

            let finished = Arc::new(AtomicBool::new(false));
            // Runs on the same, only executor thread as the call that waits for the pool.
            let watcher = tokio::spawn({
                let adb = adb.clone();
                let finished = finished.clone();
                async move {
                    loop {
                        if adb.database().state().waiting > 0 {
                            return true;
                        }
                        if finished.load(Ordering::SeqCst) {
                            return false;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            });
            let second = adb.interact(|c| c.repo::<User>().count()).await;
            finished.store(true, Ordering::SeqCst);
            assert!(
                watcher.await.unwrap(),
                "another task must run on the executor while a call waits for the pool"
            );
            match second {
                Err(e @ Error::PoolTimeout { .. }) => assert!(e.is_transient()),
                other => panic!("expected the pool's timeout, got {other:?}"),
            }

            release_tx.send(()).unwrap();
            assert_eq!(holder.await.unwrap().unwrap(), 0);
            let state = adb.database().state();
            assert_eq!((state.in_use, state.waiting), (0, 0), "{state:?}");
            assert_eq!(adb.interact(|c| c.repo::<User>().count()).await.unwrap(), 0);
        });
    }

    fn concurrent_calls_share_the_pool(db: &TestDb) {
        multi_thread().block_on(async {
            let adb = AsyncDatabase::new(db.db.clone());
            let max_size = adb.database().state().max_size as usize;
            let calls: Vec<_> = (0..4 * max_size)
                .map(|i| {
                    let adb = adb.clone();
                    tokio::spawn(async move {
                        adb.transaction(move |tx| tx.repo::<User>().create(&new_user(&format!("u{i}@example.com")))).await
                    })
                })
                .collect();
            for call in calls {
                call.await.unwrap().unwrap();
            }
            assert_eq!(emails(&adb).await.len(), 4 * max_size);
            assert_eq!(adb.database().state().in_use, 0);
        });
    }
}

#[test]
fn awaited_outside_a_runtime_is_a_config_error() {
    let adb = AsyncDatabase::new(Database::connect("sqlite::memory:").unwrap());
    let mut call = pin!(adb.interact(|_| Ok::<_, Error>(())));
    match call.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Err(Error::Config(message))) => {
            assert!(message.contains("Tokio runtime"), "{message}")
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn a_call_cancelled_by_runtime_shutdown_is_a_typed_error() {
    let adb = AsyncDatabase::new(Database::connect("sqlite::memory:").unwrap());
    let stopped = current_thread();
    let handle = stopped.handle().clone();
    stopped.shutdown_background();
    let ran = Arc::new(AtomicBool::new(false));
    let mut call = pin!(adb.interact({
        let ran = ran.clone();
        move |_| {
            ran.store(true, Ordering::SeqCst);
            Ok::<_, Error>(())
        }
    }));
    // Each poll of the call sees the stopped runtime as its own; another runtime drives it.
    let result = current_thread().block_on(std::future::poll_fn(|cx| {
        let _stopped = handle.enter();
        call.as_mut().poll(cx)
    }));
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(!ran.load(Ordering::SeqCst), "a cancelled call never runs");
    assert!(!Error::Cancelled.is_transient());
}

#[test]
fn connect_and_shutdown_off_the_executor() {
    current_thread().block_on(async {
        let err = AsyncDatabase::connect("nosuch://x").await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        let adb = AsyncDatabase::connect("sqlite::memory:").await.unwrap();
        assert_eq!(adb.database().backend(), BackendKind::Sqlite);
        let answer = adb.interact(|c| {
            c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (42)")?;
            Ok::<_, Error>(42)
        });
        assert_eq!(answer.await.unwrap(), 42);
        adb.shutdown(Duration::from_secs(5)).await.unwrap();
        assert!(adb.database().is_shutting_down());
        let after = adb.interact(|_| Ok::<_, Error>(())).await;
        assert!(matches!(after, Err(Error::ShuttingDown)), "{after:?}");
        // A clone shares the pool, and so its shutdown.
        let sync: Database = adb.clone().into_inner();
        assert!(matches!(sync.conn(), Err(Error::ShuttingDown)));
    });
}
