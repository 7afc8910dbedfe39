//! `kysera::testing`: rollback-only transactions, test databases, cleaning, factories,
//! fixtures, snapshots and isolation levels, on every backend.
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{NaiveDateTime, Utc};
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use kysera::migrate::{Migrations, Migrator};
use kysera::testing::{
    at_isolation, clean, load_fixtures, load_fixtures_str, rollback, row_count, snapshot,
    snapshot_columns, Cleaner, Factory, Strategy, TestDatabase,
};
use kysera::{assert_row_count, BackendKind, Conn, Error, Isolation, Repository};
use kysera_examples::blog::{self, NewPost, NewUser, Post, User};
use kysera_integration_tests::{all_backends, server_url, StatementLog};
use serde_json::json;

/// A model with managed timestamps and an audit trail, to show factories write through the
/// repository.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "notes")]
#[timestamps]
#[audited]
pub struct Note {
    #[kysera(primary_key, generated)]
    pub id: i64,
    #[kysera(validate(non_empty))]
    pub title: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn schema(backend: BackendKind) -> String {
    let (id, ts) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP"),
        BackendKind::Mysql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)"),
    };
    format!(
        "{}
         CREATE TABLE notes (id {id}, title TEXT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL);
         {}",
        blog::schema(backend),
        kysera::audit::migration_sql(backend)
    )
}

const ALL_TABLES: [&str; 5] = ["audit_logs", "comments", "notes", "posts", "users"];

fn users_factory() -> Factory<NewUser> {
    Factory::new(|n| NewUser {
        email: format!("user{n}@example.com"),
        name: format!("User {n}"),
        bio: None,
    })
}

fn notes_factory() -> Factory<NewNote> {
    Factory::new(|n| NewNote {
        title: format!("Note {n}"),
        created_at: None,
        updated_at: None,
    })
}

/// Three users (`user<first>@example.com`...), two posts, one comment, one audited note.
fn seed(conn: &Conn, first: u64) {
    let users = users_factory()
        .starting_at(first)
        .create_many(&conn.repo::<User>(), 3)
        .unwrap();
    let author = users[0].id;
    let posts = Factory::new(move |n| NewPost {
        author_id: author,
        title: format!("Post {n}"),
        body: "...".into(),
        published: n % 2 == 0,
        views: 0,
    })
    .create_many(&conn.repo::<Post>(), 2)
    .unwrap();
    conn.repo::<blog::Comment>()
        .create(&blog::NewComment {
            post_id: posts[0].id,
            author_id: users[1].id,
            body: "Nice.".into(),
        })
        .unwrap();
    notes_factory().create(&conn.repo::<Note>()).unwrap();
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// The URL a `TestDatabase` is created from on `backend`.
fn server(backend: BackendKind) -> String {
    match backend {
        BackendKind::Sqlite => "sqlite".to_string(),
        other => server_url(other),
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Level {
    #[diesel(sql_type = Text)]
    v: String,
}

/// Databases on the server whose name starts with `prefix` (SQLite: temporary directories).
fn databases_named(backend: BackendKind, prefix: &str) -> i64 {
    if backend == BackendKind::Sqlite {
        return std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .count() as i64;
    }
    let admin = Conn::establish(&server_url(backend)).unwrap();
    let sql = if backend == BackendKind::Postgres {
        "SELECT COUNT(*) AS n FROM pg_database WHERE starts_with(datname, $1)"
    } else {
        "SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, CHAR_LENGTH(?)) = ?"
    };
    let query = diesel::sql_query(sql).bind::<Text, _>(prefix);
    let rows: Vec<Count> = if backend == BackendKind::Postgres {
        admin.load(query).unwrap()
    } else {
        admin.load(query.bind::<Text, _>(prefix)).unwrap()
    };
    rows[0].n
}

fn database_exists(backend: BackendKind, name: &str) -> bool {
    match backend {
        BackendKind::Sqlite => std::path::Path::new(name).exists(),
        _ => databases_named(backend, name) > 0,
    }
}

/// The isolation level of the open transaction, as the server reports it.
fn current_level(conn: &Conn) -> kysera::Result<Option<String>> {
    let sql = match conn.backend() {
        BackendKind::Postgres => "SELECT current_setting('transaction_isolation') AS v",
        // InnoDB lists the transaction once it has read something, in a table it refreshes
        // at most every 100 ms (sooner, it still shows the previous transaction).
        BackendKind::Mysql => {
            row_count(conn, "users")?;
            std::thread::sleep(std::time::Duration::from_millis(150));
            "SELECT trx_isolation_level AS v FROM information_schema.INNODB_TRX \
             WHERE trx_mysql_thread_id = CONNECTION_ID()"
        }
        BackendKind::Sqlite => return Ok(None),
    };
    let rows: Vec<Level> = conn.load(diesel::sql_query(sql))?;
    Ok(rows.into_iter().next().map(|r| r.v.to_lowercase()))
}

fn recent(t: NaiveDateTime) -> bool {
    (Utc::now().naive_utc() - t).num_seconds().abs() < 300
}

all_backends! {
    fn rollback_undoes_every_write_and_returns_the_value(db: &TestDb) {
        let conn = db.conn();
        let factory = users_factory();
        let (id, inside) = rollback(&conn, |tx| {
            let user = factory.create(&tx.repo::<User>())?;
            tx.repo::<Post>().create(&NewPost { author_id: user.id, title: "t".into(), body: "b".into(), published: true, views: 0 })?;
            Ok::<_, Error>((user.id, row_count(tx, "users")?))
        })
        .unwrap();
        assert_eq!(inside, 1, "writes are visible inside");
        assert_eq!(conn.repo::<User>().find_by_id(id).unwrap(), None);
        assert_row_count!(conn, "posts", 0);
        assert!(!conn.in_transaction());

        // An error is returned as it is, and rolled back the same way.
        let result: Result<(), Error> = rollback(&conn, |tx| {
            factory.create(&tx.repo::<User>())?;
            Err(Error::InvalidArgument("stop here".into()))
        });
        assert!(matches!(&result, Err(Error::InvalidArgument(m)) if m == "stop here"), "{result:?}");
        assert_row_count!(conn, "users", 0);

        // On a pool: a connection is borrowed for the call and handed back clean.
        let seen = rollback(&db.db, |tx| {
            factory.create(&tx.repo::<User>())?;
            row_count(tx, "users")
        })
        .unwrap();
        assert_eq!(seen, 1);
        assert_row_count!(db.db, "users", 0);
    }

    fn transactions_inside_rollback_are_savepoints(db: &TestDb) {
        let conn = db.conn();
        let log = StatementLog::attach(&conn);
        let factory = users_factory();
        rollback(&conn, |tx| {
            let users = tx.repo::<User>();
            factory.create(&users)?;
            let inner: Result<(), Error> = tx.transaction(|_| {
                factory.create(&users)?;
                Err(Error::InvalidArgument("undo the savepoint".into()))
            });
            assert!(inner.is_err());
            assert_eq!(users.count()?, 1, "the failed savepoint is undone, the outer write stays");
            tx.transaction(|_| factory.create(&users))?;
            assert_eq!(users.count()?, 2, "a released savepoint is part of the transaction");
            Ok::<_, Error>(())
        })
        .unwrap();
        assert_row_count!(conn, "users", 0);
        let statements = log.take();
        let starting = |word: &str| statements.iter().filter(|s| s.trim_start().to_uppercase().starts_with(word)).count();
        // One transaction; the two inner ones (and, on MySQL, each create's own) are savepoints.
        assert_eq!(starting("BEGIN"), 1, "{statements:#?}");
        assert!(starting("SAVEPOINT") >= 2, "{statements:#?}");
    }

    fn test_databases_are_unique_migrated_and_dropped(db: &TestDb) {
        let backend = db.backend();
        let migrations = Migrations::from_dir(format!("{}/migrations", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let first = TestDatabase::builder(&server(backend)).migrations(&migrations).create().unwrap();
        let second = TestDatabase::create(&server(backend)).unwrap();
        assert_eq!(first.backend(), backend);
        assert_ne!(first.name(), second.name());
        assert!(database_exists(backend, first.name()), "{}", first.name());
        assert!(database_exists(backend, second.name()), "{}", second.name());

        assert_eq!(row_count(&first, "__diesel_schema_migrations").unwrap(), 2, "both migrations applied");
        assert_row_count!(first, "m_users", 0);
        assert!(matches!(row_count(&second, "m_users"), Err(Error::InvalidArgument(_))), "no migrations given");
        first.conn().unwrap().batch_execute("INSERT INTO m_users (id, email) VALUES (1, 'a@example.com')").unwrap();
        assert_row_count!(first, "m_users", 1);
        assert!(row_count(&db.db, "m_users").is_err(), "the test database is a database of its own");

        // A connection still open does not keep the database alive.
        let open = first.conn().unwrap();
        let (first_name, second_name) = (first.name().to_string(), second.name().to_string());
        first.drop_now().unwrap();
        drop(open);
        assert!(!database_exists(backend, &first_name), "{first_name}");
        drop(second);
        assert!(!database_exists(backend, &second_name), "{second_name}");
    }

    fn a_failed_test_database_setup_leaves_nothing_behind(db: &TestDb) {
        let backend = db.backend();
        let prefix = format!("kfail_{}_{}", std::process::id(), backend);
        let broken = Migrations::new(vec![kysera::migrate::Migration::new(
            "2024-01-01-000000_broken", "CREATE TABLE;", None, None,
        ).unwrap()]).unwrap();
        let result = TestDatabase::builder(&server(backend)).prefix(&prefix).migrations(&broken).create();
        assert!(matches!(result, Err(Error::Migration(_))), "{result:?}");
        assert_eq!(databases_named(backend, &prefix), 0);

        let bad_prefix = TestDatabase::builder(&server(backend)).prefix("x\"; DROP DATABASE test; --").create();
        assert!(matches!(bad_prefix, Err(Error::Config(_))), "{bad_prefix:?}");
        assert!(matches!(TestDatabase::create("oracle://db/x"), Err(Error::Config(_))));
    }

    fn truncate_empties_every_table_and_restarts_ids(db: &TestDb) {
        let conn = db.conn();
        Migrator::new(&conn, &Migrations::new(vec![]).unwrap()).setup().unwrap();
        seed(&conn, 1);
        assert_row_count!(conn, "audit_logs", 1);
        let emptied: BTreeSet<String> = clean(&conn, Strategy::Truncate).unwrap().into_iter().collect();
        assert_eq!(emptied, ALL_TABLES.iter().map(|t| t.to_string()).collect());
        for table in ALL_TABLES {
            assert_row_count!(conn, table, 0);
        }
        assert_row_count!(conn, "kysera_migration_lock", 1);
        assert_eq!(users_factory().create(&conn.repo::<User>()).unwrap().id, 1, "ids start again");
        assert_eq!(notes_factory().create(&conn.repo::<Note>()).unwrap().id, 1);

        // Kept tables are left alone.
        seed(&conn, 10);
        let emptied = Cleaner::new(Strategy::Truncate).keep(&["users", "notes", "audit_logs"]).clean(&conn).unwrap();
        assert_eq!(emptied.into_iter().collect::<BTreeSet<_>>(), BTreeSet::from(["comments".to_string(), "posts".to_string()]));
        assert_row_count!(conn, "users", 4);
        assert_row_count!(conn, "posts", 0);
    }

    fn truncate_inside_a_transaction(db: &TestDb) {
        let conn = db.conn();
        seed(&conn, 1);
        let result: Result<Vec<String>, Error> = rollback(&conn, |tx| {
            let emptied = clean(tx, Strategy::Truncate)?;
            assert_row_count!(tx, "users", 0);
            Ok(emptied)
        });
        if db.backend() == BackendKind::Mysql {
            assert!(matches!(&result, Err(Error::InvalidArgument(m)) if m.contains("implicitly")), "{result:?}");
        } else {
            assert_eq!(result.unwrap().len(), ALL_TABLES.len());
        }
        assert_row_count!(conn, "users", 3);
        assert_row_count!(conn, "comments", 1);
    }

    fn delete_in_fk_order_removes_children_first(db: &TestDb) {
        let conn = db.conn();
        seed(&conn, 1);
        let order = clean(&conn, Strategy::DeleteInFkOrder).unwrap();
        let position = |t: &str| order.iter().position(|o| o == t).unwrap();
        assert!(position("comments") < position("posts"), "{order:?}");
        assert!(position("posts") < position("users"), "{order:?}");
        assert_eq!(order.len(), ALL_TABLES.len());
        for table in ALL_TABLES {
            assert_row_count!(conn, table, 0);
        }
        assert_eq!(users_factory().create(&conn.repo::<User>()).unwrap().id, 4, "sequences keep counting");

        seed(&conn, 10);
        let emptied = Cleaner::new(Strategy::DeleteInFkOrder).keep(&["users"]).clean(&conn).unwrap();
        assert!(!emptied.contains(&"users".to_string()));
        assert_row_count!(conn, "users", 4);
        assert_row_count!(conn, "comments", 0);

        let err = Cleaner::new(Strategy::DeleteInFkOrder).keep(&["user"]).clean(&conn).unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("`user`")), "{err}");
    }

    fn a_foreign_key_cycle_is_refused_by_delete_and_truncated(db: &TestDb) {
        let conn = db.conn();
        let ddl = match db.backend() {
            BackendKind::Sqlite => {
                "CREATE TABLE cycle_a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES cycle_b (id));
                 CREATE TABLE cycle_b (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES cycle_a (id));"
            }
            BackendKind::Postgres => {
                "CREATE TABLE cycle_a (id BIGINT PRIMARY KEY, b_id BIGINT);
                 CREATE TABLE cycle_b (id BIGINT PRIMARY KEY, a_id BIGINT NOT NULL REFERENCES cycle_a (id));
                 ALTER TABLE cycle_a ADD CONSTRAINT cycle_a_b FOREIGN KEY (b_id) REFERENCES cycle_b (id);"
            }
            BackendKind::Mysql => {
                "CREATE TABLE cycle_a (id BIGINT PRIMARY KEY, b_id BIGINT) ENGINE = InnoDB;
                 CREATE TABLE cycle_b (id BIGINT PRIMARY KEY, a_id BIGINT NOT NULL,
                     CONSTRAINT cycle_b_a FOREIGN KEY (a_id) REFERENCES cycle_a (id)) ENGINE = InnoDB;
                 ALTER TABLE cycle_a ADD CONSTRAINT cycle_a_b FOREIGN KEY (b_id) REFERENCES cycle_b (id);"
            }
        };
        conn.batch_execute(ddl).unwrap();
        conn.batch_execute(
            "INSERT INTO cycle_a (id, b_id) VALUES (1, NULL);
             INSERT INTO cycle_b (id, a_id) VALUES (1, 1);
             UPDATE cycle_a SET b_id = 1 WHERE id = 1;",
        )
        .unwrap();
        seed(&conn, 1);

        let err = clean(&conn, Strategy::DeleteInFkOrder).unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("cycle_a, cycle_b")), "{err}");
        assert_row_count!(conn, "users", 3);
        assert_row_count!(conn, "cycle_a", 1);

        clean(&conn, Strategy::Truncate).unwrap();
        for table in ["cycle_a", "cycle_b", "users", "posts", "comments"] {
            assert_row_count!(conn, table, 0);
        }
    }

    fn cleaner_run_with_each_strategy(db: &TestDb) {
        let conn = db.conn();
        seed(&conn, 1);
        let factory = users_factory().starting_at(100);
        let created = Cleaner::new(Strategy::Rollback)
            .run(&conn, |tx| factory.create(&tx.repo::<User>()))
            .unwrap();
        assert_eq!(created.email, "user100@example.com");
        assert_row_count!(conn, "users", 3);
        let misuse = Cleaner::new(Strategy::Rollback).clean(&conn);
        assert!(matches!(&misuse, Err(Error::InvalidArgument(m)) if m.contains("Cleaner::run")), "{misuse:?}");

        // The other strategies start the body from empty tables; what it writes stays.
        Cleaner::new(Strategy::DeleteInFkOrder)
            .run(&conn, |tx| {
                assert_row_count!(tx, "users", 0);
                factory.create(&tx.repo::<User>())
            })
            .unwrap();
        assert_row_count!(conn, "users", 1);
    }

    fn factories_build_sequences_and_overrides(db: &TestDb) {
        let _ = db;
        let factory = users_factory();
        assert_eq!(factory.build().email, "user1@example.com");
        let many: Vec<String> = factory.build_many(3).into_iter().map(|u| u.email).collect();
        assert_eq!(many, ["user2@example.com", "user3@example.com", "user4@example.com"]);
        let admin = factory.build_with(|u| u.name = "Admin".into());
        assert_eq!((admin.email.as_str(), admin.name.as_str()), ("user5@example.com", "Admin"));
        let biographies = factory.build_many_with(2, |i, u| u.bio = Some(format!("bio {i}")));
        assert_eq!(biographies[1].bio.as_deref(), Some("bio 1"));
        assert_eq!(factory.peek_sequence(), 8);
        factory.reset();
        assert_eq!(factory.build().email, "user1@example.com");

        // Shared between threads, the sequence never hands out a number twice.
        let shared = Arc::new(Factory::new(|n| n));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || (0..250).map(|_| shared.build()).collect::<Vec<u64>>())
            })
            .collect();
        let numbers: BTreeSet<u64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        assert_eq!(numbers, (1..=1000).collect());
    }

    fn factories_create_through_the_repository(db: &TestDb) {
        let conn = db.conn();
        let users = conn.repo::<User>();
        let factory = users_factory();
        let created = factory.create_many(&users, 3).unwrap();
        let emails: Vec<&str> = created.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["user1@example.com", "user2@example.com", "user3@example.com"]);
        let ada = factory.create_with(&users, |u| u.name = "Ada".into()).unwrap();
        assert_eq!(users.get(ada.id).unwrap().name, "Ada");

        // Validation applies: nothing invalid reaches the database.
        let invalid = factory.create_with(&users, |u| u.email = "not an email".into());
        assert!(matches!(invalid, Err(Error::Validation(_))), "{invalid:?}");
        assert_row_count!(conn, "users", 4);

        // Timestamps and audit apply.
        let notes = conn.repo::<Note>();
        let note = notes_factory().create(&notes).unwrap();
        assert!(recent(note.created_at) && recent(note.updated_at));
        assert_eq!(notes.audit_history(note.id).unwrap().len(), 1);
    }

    fn fixtures_fill_tables_in_file_order(db: &TestDb) {
        let conn = db.conn();
        let loaded = load_fixtures(&conn, fixture("blog.json")).unwrap();
        assert_eq!(loaded, vec![("users".to_string(), 2), ("posts".to_string(), 2), ("comments".to_string(), 1)]);
        assert_eq!(
            snapshot(&conn, "users").unwrap(),
            json!([
                {"id": 1, "email": "ada@example.com", "name": "Ada", "bio": "First programmer", "created_at": "2024-01-01T00:00:00"},
                {"id": 2, "email": "grace@example.com", "name": "Grace", "bio": null, "created_at": "2024-01-02T03:04:05"},
            ])
        );
        assert_eq!(
            snapshot(&conn, "posts").unwrap(),
            json!([
                {"id": 10, "author_id": 1, "title": "Notes", "body": "On the engine", "published": true, "views": 3},
                {"id": 11, "author_id": 2, "title": "Compilers", "body": "A-0", "published": false, "views": 0},
            ])
        );
        // Values arrive with their types: the repository reads them back.
        assert_eq!(conn.repo::<User>().get(2).unwrap().created_at, at("2024-01-02 03:04:05"));
        assert!(conn.repo::<Post>().get(10).unwrap().published);

        // Keys the database picks afterwards do not collide with the fixture's.
        assert_eq!(users_factory().create(&conn.repo::<User>()).unwrap().id, 3);
        let post = conn.repo::<Post>().create(&NewPost { author_id: 1, title: "Next".into(), body: "...".into(), published: false, views: 0 }).unwrap();
        assert_eq!(post.id, 12);

        // Arrays and objects are stored as their JSON text.
        load_fixtures_str(&conn, "inline.json", r#"{"users": [{"id": 50, "email": "j@example.com", "name": "J", "bio": {"likes": ["tea"]}}]}"#).unwrap();
        assert_eq!(
            snapshot_columns(&conn, "users", &["bio"]).unwrap()[3],
            json!({"bio": r#"{"likes":["tea"]}"#})
        );
    }

    fn fixture_errors_name_the_file_and_write_nothing(db: &TestDb) {
        let conn = db.conn();
        let fixture_error = |result: kysera::Result<kysera::testing::Loaded>| match result {
            Err(Error::Fixture { file, table, column, message }) => (file, table, column, message),
            other => panic!("expected a fixture error, got {other:?}"),
        };

        let (file, table, column, _) = fixture_error(load_fixtures(&conn, fixture("unknown_table.json")));
        assert!(file.ends_with("unknown_table.json"), "{file}");
        assert_eq!((table.as_deref(), column), (Some("authors"), None));

        // A hostile column name is only an unknown column.
        let hostile = r#"{"users": [{"id": 1, "email\"; DROP TABLE users; --": "x"}]}"#;
        let (file, table, column, message) = fixture_error(load_fixtures_str(&conn, "inline.json", hostile));
        assert_eq!((file.as_str(), table.as_deref()), ("inline.json", Some("users")));
        assert_eq!(column.as_deref(), Some("email\"; DROP TABLE users; --"));
        assert!(message.contains("row 1"), "{message}");

        let (_, table, _, message) = fixture_error(load_fixtures(&conn, fixture("malformed.json")));
        assert_eq!(table, None);
        assert!(message.contains("line 3"), "{message}");

        let (_, table, _, _) = fixture_error(load_fixtures_str(&conn, "x.json", r#"{"users": {"id": 1}}"#));
        assert_eq!(table.as_deref(), Some("users"));
        let (_, _, column, _) = fixture_error(load_fixtures_str(&conn, "x.json", r#"{"users": [{"id": 18446744073709551615}]}"#));
        assert_eq!(column.as_deref(), Some("id"));

        // The third table fails in the database: the two before it are not kept either.
        let (_, table, _, message) = fixture_error(load_fixtures(&conn, fixture("broken_reference.json")));
        assert_eq!(table.as_deref(), Some("comments"));
        assert!(message.contains("row 1") && message.to_lowercase().contains("foreign key"), "{message}");

        let (_, _, _, message) = fixture_error(load_fixtures(&conn, fixture("missing.json")));
        assert!(message.contains("cannot read"), "{message}");

        for table in ALL_TABLES {
            assert_row_count!(conn, table, 0);
        }
    }

    fn snapshots_and_row_counts(db: &TestDb) {
        let conn = db.conn();
        load_fixtures(&conn, fixture("blog.json")).unwrap();
        assert_eq!(
            snapshot_columns(&conn, "posts", &["title", "published"]).unwrap(),
            json!([{"title": "Notes", "published": true}, {"title": "Compilers", "published": false}])
        );
        assert_eq!(
            snapshot(&conn, "comments").unwrap(),
            json!([{"id": 100, "post_id": 10, "author_id": 2, "body": "Brilliant."}])
        );
        assert_eq!(snapshot(&conn, "posts").unwrap(), snapshot(&db.db, "posts").unwrap(), "deterministic");

        // Without a primary key, rows are ordered by every column.
        conn.batch_execute("CREATE TABLE tags (name VARCHAR(20) NOT NULL, weight INTEGER NOT NULL);
                            INSERT INTO tags (name, weight) VALUES ('b', 1), ('a', 2), ('a', 1);").unwrap();
        assert_eq!(
            snapshot(&conn, "tags").unwrap(),
            json!([{"name": "a", "weight": 1}, {"name": "a", "weight": 2}, {"name": "b", "weight": 1}])
        );

        let err = snapshot_columns(&conn, "posts", &["title", "secret"]).unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("`secret`")), "{err}");
        let err = snapshot(&conn, "post").unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("`post`") && m.contains("posts")), "{err}");
        let err = row_count(&conn, "post\"; DROP TABLE posts; --").unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument(_)), "{err}");

        assert_eq!(row_count(&conn, "posts").unwrap(), 2);
        assert_row_count!(conn, "posts", 2);
        let mismatch = std::panic::catch_unwind(AssertUnwindSafe(|| assert_row_count!(conn, "posts", 5)));
        let message = mismatch.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("`posts` has 2 rows, expected 5"), "{message}");
    }

    fn at_isolation_starts_the_chosen_level(db: &TestDb) {
        let conn = db.conn();
        for (level, name) in [
            (Isolation::ReadUncommitted, "read uncommitted"),
            (Isolation::ReadCommitted, "read committed"),
            (Isolation::RepeatableRead, "repeatable read"),
            (Isolation::Serializable, "serializable"),
        ] {
            let seen = at_isolation(&conn, level, current_level).unwrap();
            match db.backend() {
                BackendKind::Sqlite => assert_eq!(seen, None),
                _ => assert_eq!(seen.as_deref(), Some(name), "{level}"),
            }
        }

        // Ok commits, Err rolls back.
        let factory = users_factory();
        at_isolation(&conn, Isolation::Serializable, |tx| factory.create(&tx.repo::<User>())).unwrap();
        let failed: Result<(), Error> = at_isolation(&conn, Isolation::Serializable, |tx| {
            factory.create(&tx.repo::<User>())?;
            Err(Error::InvalidArgument("no".into()))
        });
        assert!(failed.is_err());
        assert_row_count!(conn, "users", 1);

        // The level of an open transaction cannot change.
        let nested: Result<(), Error> = conn.transaction(|tx| at_isolation(tx, Isolation::Serializable, |_| Ok(())));
        assert!(matches!(&nested, Err(Error::InvalidArgument(m)) if m.contains("outside any transaction")), "{nested:?}");
    }

    fn isolation_levels_decide_what_a_transaction_sees(db: &TestDb) {
        let reader = db.conn();
        let writer = db.conn();
        let factory = users_factory();
        // Rows another connection commits between two reads of one transaction.
        let appeared = |level| {
            at_isolation(&reader, level, |tx| {
                let before = row_count(tx, "users")?;
                factory.create(&writer.repo::<User>())?;
                Ok::<_, Error>(row_count(tx, "users")? - before)
            })
            .unwrap()
        };
        let read_committed = appeared(Isolation::ReadCommitted);
        let repeatable_read = appeared(Isolation::RepeatableRead);
        match db.backend() {
            // Every SQLite transaction reads one snapshot.
            BackendKind::Sqlite => assert_eq!((read_committed, repeatable_read), (0, 0)),
            _ => assert_eq!((read_committed, repeatable_read), (1, 0)),
        }
        assert_row_count!(reader, "users", 2);

        if db.backend() == BackendKind::Sqlite {
            // Serializable takes SQLite's write lock up front: another writer is turned away.
            writer.batch_execute("PRAGMA busy_timeout = 0").unwrap();
            let refused = at_isolation(&reader, Isolation::Serializable, |_| {
                Ok::<_, Error>(factory.create(&writer.repo::<User>()))
            })
            .unwrap();
            assert!(matches!(refused, Err(Error::Busy { .. })), "{refused:?}");
        }
    }
}
