//! Regressions of defects found by using kysera from the outside: statements past the bind
//! limit, writes racing a concurrent soft delete, audit restore and keys, composite unique
//! keys on MySQL, and the text form of timestamps written by the test helpers.
#![allow(missing_docs)]

use chrono::NaiveDateTime;
use diesel::prelude::*;
use kysera::{BackendKind, Context, Error, Repository};
use kysera_examples::tenant::TenantPlugin;
use kysera_integration_tests::{all_backends, TestDb};

/// An audited model without other behaviours.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "ledger")]
#[audited]
pub struct Ledger {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub amount: i64,
    pub memo: String,
}

/// A soft-deleted, audited model.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "docs")]
#[soft_delete]
#[audited]
pub struct Doc {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub title: String,
    pub deleted_at: Option<NaiveDateTime>,
}

/// A soft-deleted model without audit, for long key lists.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "marks")]
#[soft_delete]
pub struct Mark {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub n: i64,
    pub deleted_at: Option<NaiveDateTime>,
}

/// A tenant-scoped model (the example plugin scopes on `tenant_id`).
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "notes")]
pub struct Note {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub tenant_id: i64,
    pub body: String,
}

/// Redacted and excluded columns.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "accounts")]
#[audited(redact(secret), exclude(internal))]
pub struct Account {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub secret: Option<String>,
    pub internal: Option<String>,
}

/// A redacted NOT NULL column: a hard-deleted row cannot be re-inserted from the log.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "vaults")]
#[audited(redact(pin))]
pub struct Vault {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub pin: String,
}

/// A text key.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "products")]
#[audited]
pub struct Product {
    #[kysera(primary_key)]
    pub sku: String,
    pub name: String,
}

/// Unique keys: an unnamed composite one and a named single-column one.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "members")]
pub struct Member {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub handle: String,
}

/// Timestamps compared as the repository writes them.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "events")]
#[timestamps]
pub struct Event {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn schema(backend: BackendKind) -> String {
    let (id, ts, text, key) = match backend {
        BackendKind::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "TIMESTAMP",
            "TEXT",
            "TEXT",
        ),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP", "TEXT", "TEXT"),
        BackendKind::Mysql => (
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "DATETIME(6)",
            "TEXT",
            "VARCHAR(191)",
        ),
    };
    format!(
        "CREATE TABLE ledger (id {id}, amount BIGINT NOT NULL, memo {text} NOT NULL);
         CREATE TABLE docs (id {id}, title {text} NOT NULL, deleted_at {ts} NULL);
         CREATE TABLE marks (id {id}, n BIGINT NOT NULL, deleted_at {ts} NULL);
         CREATE TABLE notes (id {id}, tenant_id BIGINT NOT NULL, body {text} NOT NULL);
         CREATE TABLE accounts (id {id}, name {text} NOT NULL, secret {text}, internal {text});
         CREATE TABLE vaults (id {id}, name {text} NOT NULL, pin {text} NOT NULL);
         CREATE TABLE products (sku {key} PRIMARY KEY, name {text} NOT NULL);
         CREATE TABLE members (id {id}, org_id BIGINT NOT NULL, email {key} NOT NULL,
             handle {key} NOT NULL, UNIQUE (org_id, email), CONSTRAINT uq_member_handle UNIQUE (handle));
         CREATE TABLE events (id {id}, name {text} NOT NULL, created_at {ts} NOT NULL,
             updated_at {ts} NOT NULL);
         {}",
        kysera::audit::migration_sql(backend)
    )
}

/// Most bind parameters one statement takes on `backend`.
fn bind_limit(backend: BackendKind) -> usize {
    match backend {
        BackendKind::Sqlite => 32_766,
        BackendKind::Postgres | BackendKind::Mysql => 65_535,
    }
}

/// Values one audit row binds (every column of `audit_logs` but its id).
const AUDIT_BINDS: usize = 8;

fn audit_rows(conn: &kysera::Conn) -> i64 {
    conn.first(kysera::audit::audit_logs::table.count())
        .unwrap()
        .unwrap()
}

fn ledger_rows(n: usize) -> Vec<NewLedger> {
    (0..n)
        .map(|i| NewLedger {
            amount: i as i64,
            memo: format!("m{i}"),
        })
        .collect()
}

/// Gives a concurrent write on a second connection the chance to commit first: on SQLite a
/// writer racing another's snapshot is refused as busy, which leaves the data unchanged too.
fn not_found_or_busy<T: std::fmt::Debug>(backend: BackendKind, result: kysera::Result<T>) {
    match result {
        Err(Error::NotFound { .. }) => {}
        Err(Error::Busy { .. }) if backend == BackendKind::Sqlite => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

all_backends! {
    // 1. Statements whose binds grow with input stay under the backend's limit.

    fn audited_create_many_at_and_past_the_bind_limit(db: &TestDb) {
        let conn = db.conn();
        let ledger = conn.repo::<Ledger>();
        let at_limit = bind_limit(db.backend()) / AUDIT_BINDS;
        let mut expected = 0;
        for n in [at_limit, at_limit + 1, 2 * at_limit + 7] {
            let created = ledger.create_many(&ledger_rows(n)).unwrap_or_else(|e| panic!("{n} rows: {e}"));
            assert_eq!(created.len(), n);
            assert_eq!(created[n - 1].memo, format!("m{}", n - 1), "input order");
            expected += n;
            assert_eq!(audit_rows(&conn), expected as i64, "one audit row per created row");
        }
        assert_eq!(ledger.count().unwrap(), expected as u64);
    }

    fn audited_update_many_delete_many_and_bulk_update_past_the_bind_limit(db: &TestDb) {
        let conn = db.conn();
        let ledger = conn.repo::<Ledger>();
        let n = bind_limit(db.backend()) / AUDIT_BINDS + 809;
        let ids: Vec<i64> = ledger.create_many(&ledger_rows(n)).unwrap().iter().map(|r| r.id).collect();
        let updated = ledger.update_many(&ids, &LedgerUpdate { memo: Some("same".into()), ..Default::default() }).unwrap();
        assert_eq!(updated.len(), n);
        assert!(updated.iter().all(|r| r.memo == "same"));
        assert_eq!(audit_rows(&conn), 2 * n as i64);

        // bulk_update returns rows in input order: give it the keys backwards.
        let patches: Vec<(i64, LedgerUpdate)> = ids.iter().rev()
            .map(|&id| (id, LedgerUpdate { amount: Some(-id), ..Default::default() }))
            .collect();
        let bulk = ledger.bulk_update(&patches).unwrap();
        assert_eq!(bulk.len(), n);
        assert_eq!(bulk.iter().map(|r| r.id).collect::<Vec<_>>(), ids.iter().rev().copied().collect::<Vec<_>>());
        assert!(bulk.iter().all(|r| r.amount == -r.id));
        assert_eq!(audit_rows(&conn), 3 * n as i64);

        assert_eq!(ledger.delete_many(&ids).unwrap(), n as u64);
        assert_eq!(ledger.count().unwrap(), 0);
        assert_eq!(audit_rows(&conn), 4 * n as i64);
    }

    fn audited_soft_delete_and_restore_many_past_the_bind_limit(db: &TestDb) {
        let conn = db.conn();
        let docs = conn.repo::<Doc>();
        let n = bind_limit(db.backend()) / AUDIT_BINDS + 3;
        let rows: Vec<NewDoc> = (0..n).map(|i| NewDoc { title: format!("d{i}") }).collect();
        let ids: Vec<i64> = docs.create_many(&rows).unwrap().iter().map(|d| d.id).collect();
        assert_eq!(docs.soft_delete_many(&ids).unwrap().len(), n);
        assert_eq!(docs.count().unwrap(), 0);
        assert_eq!(docs.restore_many(&ids).unwrap().len(), n);
        assert_eq!(docs.count().unwrap(), n as u64);
        assert_eq!(docs.delete_many(&ids).unwrap(), n as u64, "soft deletes");
        assert_eq!(audit_rows(&conn), 4 * n as i64);
    }

    fn key_lists_longer_than_the_bind_limit(db: &TestDb) {
        let conn = db.conn();
        let marks = conn.repo::<Mark>();
        let n = bind_limit(db.backend()) + 1;
        let rows: Vec<NewMark> = (0..n as i64).map(|i| NewMark { n: i }).collect();
        let ids: Vec<i64> = marks.create_many(&rows).unwrap().iter().map(|m| m.id).collect();
        assert_eq!(marks.find_by_ids(&ids).unwrap().len(), n);
        assert_eq!(marks.soft_delete_many(&ids).unwrap().len(), n);
        assert_eq!(marks.count().unwrap(), 0);
        assert_eq!(marks.restore_many(&ids).unwrap().len(), n);
        let patch = MarkUpdate { n: Some(0) };
        assert_eq!(marks.update_many(&ids, &patch).unwrap().len(), n);
        assert_eq!(marks.hard_delete_many(&ids).unwrap(), n as u64);
        assert_eq!(marks.with_deleted().count().unwrap(), 0);
    }

    // 2. A write carries the scope's condition as it stands when the write runs.

    fn writes_see_a_concurrent_soft_delete_and_restore(db: &TestDb) {
        let (a, b) = (db.conn(), db.conn());
        let docs = a.repo::<Doc>();
        let live = docs.create(&NewDoc { title: "live".into() }).unwrap();
        let deleted = docs.create(&NewDoc { title: "deleted".into() }).unwrap();
        docs.soft_delete(deleted.id).unwrap();
        let audit_before = audit_rows(&a);
        let backend = db.backend();
        a.transaction(|tx| {
            let docs = tx.repo::<Doc>();
            assert_eq!(docs.count()?, 1, "the snapshot: one live row");
            // Another connection soft-deletes the live row and restores the deleted one.
            let other = b.repo::<Doc>();
            other.soft_delete(live.id).unwrap();
            other.restore(deleted.id).unwrap();
            not_found_or_busy(backend, docs.update(live.id, &DocUpdate { title: Some("changed".into()) }));
            not_found_or_busy(backend, docs.soft_delete(live.id));
            not_found_or_busy(backend, docs.restore(deleted.id));
            Ok::<(), Error>(())
        })
        .unwrap();
        let now = b.repo::<Doc>().with_deleted();
        let live_now = now.get(live.id).unwrap();
        let first_deletion = b.repo::<Doc>().only_deleted().get(live.id).unwrap().deleted_at;
        assert_eq!(live_now.title, "live", "not modified");
        assert_eq!(live_now.deleted_at, first_deletion);
        assert!(live_now.deleted_at.is_some());
        assert_eq!(now.get(deleted.id).unwrap().deleted_at, None, "still restored");
        assert_eq!(audit_rows(&b), audit_before + 2, "only the other connection's two writes");
    }

    fn writes_see_a_concurrent_hard_delete(db: &TestDb) {
        let (a, b) = (db.conn(), db.conn());
        let row = a.repo::<Ledger>().create(&NewLedger { amount: 1, memo: "x".into() }).unwrap();
        let backend = db.backend();
        a.transaction(|tx| {
            assert_eq!(tx.repo::<Ledger>().count()?, 1);
            b.repo::<Ledger>().delete(row.id).unwrap();
            not_found_or_busy(backend, tx.repo::<Ledger>().update(row.id, &LedgerUpdate { amount: Some(2), ..Default::default() }));
            Ok::<(), Error>(())
        })
        .unwrap();
        assert_eq!(b.repo::<Ledger>().count().unwrap(), 0);
    }

    fn writes_see_a_row_moved_out_of_the_tenant_scope(db: &TestDb) {
        let tenant = |id: i64| {
            let conn = db.db.clone().with_plugin(TenantPlugin::new()).conn().unwrap();
            conn.set_context(Context::new().with("tenant_id", id));
            conn
        };
        let (a, b) = (tenant(1), db.conn());
        let note = a.repo::<Note>().create(&NewNote { tenant_id: 0, body: "mine".into() }).unwrap();
        assert_eq!(note.tenant_id, 1);
        let backend = db.backend();
        a.transaction(|tx| {
            assert_eq!(tx.repo::<Note>().count()?, 1);
            // Moved to tenant 2 behind the plugin's back.
            b.repo::<Note>().update(note.id, &NoteUpdate { tenant_id: Some(2), ..Default::default() }).unwrap();
            not_found_or_busy(backend, tx.repo::<Note>().update(note.id, &NoteUpdate { body: Some("changed".into()), ..Default::default() }));
            Ok::<(), Error>(())
        })
        .unwrap();
        let stored = b.repo::<Note>().get(note.id).unwrap();
        assert_eq!((stored.tenant_id, stored.body.as_str()), (2, "mine"));
    }

    // 3. Redacted and excluded columns are never written back from the audit log.

    fn restore_from_audit_leaves_redacted_and_excluded_columns_alone(db: &TestDb) {
        let conn = db.conn();
        let accounts = conn.repo::<Account>();
        let a = accounts.create(&NewAccount { name: "ada".into(), secret: Some("s3cret".into()), internal: Some("keep".into()) }).unwrap();
        accounts.update(a.id, &AccountUpdate { name: Some("renamed".into()), ..Default::default() }).unwrap();
        let update = accounts.audit_history(a.id).unwrap().pop().unwrap();
        let restored = accounts.restore_from_audit(update.id).unwrap();
        assert_eq!(restored.row, Account { name: "ada".into(), ..a.clone() });
        assert_eq!(restored.not_restored, vec!["secret", "internal"]);
        assert_eq!(accounts.get(a.id).unwrap().secret.as_deref(), Some("s3cret"));

        // A hard-deleted row comes back without what the log does not hold.
        accounts.hard_delete(a.id).unwrap();
        let deletion = accounts.audit_history(a.id).unwrap().pop().unwrap();
        let back = accounts.restore_from_audit(deletion.id).unwrap();
        assert_eq!(back.row, Account { secret: None, internal: None, ..a.clone() });
        assert_eq!(back.not_restored, vec!["secret", "internal"]);
    }

    fn restore_from_audit_refuses_a_row_missing_a_required_column(db: &TestDb) {
        let conn = db.conn();
        let vaults = conn.repo::<Vault>();
        let v = vaults.create(&NewVault { name: "v".into(), pin: "1234".into() }).unwrap();
        vaults.hard_delete(v.id).unwrap();
        let deletion = vaults.audit_history(v.id).unwrap().pop().unwrap();
        match vaults.restore_from_audit(deletion.id) {
            Err(Error::InvalidArgument(message)) => assert!(message.contains("pin"), "{message}"),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
        assert_eq!(vaults.count().unwrap(), 0, "nothing re-inserted");
    }

    // 4. Audit rows store a text key as its plain text.

    fn audit_entity_id_is_the_plain_key_text(db: &TestDb) {
        let conn = db.conn();
        let products = conn.repo::<Product>();
        let sku = "sku:\"A\\B\"\tü";
        products.create(&NewProduct { sku: sku.into(), name: "p".into() }).unwrap();
        let stored: Vec<String> = conn.load(kysera::audit::audit_logs::table.select(kysera::audit::audit_logs::entity_id)).unwrap();
        assert_eq!(stored, vec![sku.to_string()]);
        assert_eq!(products.audit_history(sku.to_string()).unwrap().len(), 1);
        match products.get("missing \"one\"".to_string()) {
            Err(Error::NotFound { key, .. }) => assert_eq!(key, "missing \"one\""),
            other => panic!("{other:?}"),
        }
        let ledger = conn.repo::<Ledger>().create(&NewLedger { amount: 1, memo: "m".into() }).unwrap();
        let history = conn.repo::<Ledger>().audit_history(ledger.id).unwrap();
        assert_eq!(history[0].entity_id, ledger.id.to_string());
    }

    // 5. Unique violations name the key's real columns.

    fn unique_violations_name_every_column_of_the_key(db: &TestDb) {
        let conn = db.conn();
        let members = conn.repo::<Member>();
        let new = |org_id: i64, email: &str, handle: &str| NewMember { org_id, email: email.into(), handle: handle.into() };
        members.create(&new(1, "a@x", "ann")).unwrap();
        match members.create(&new(1, "a@x", "other")) {
            Err(Error::UniqueViolation(v)) => {
                assert_eq!(v.columns, vec!["org_id", "email"], "{v:?}");
                assert_eq!(v.field, None, "{v:?}");
                assert_eq!(v.table.as_deref(), Some("members"), "{v:?}");
            }
            other => panic!("{other:?}"),
        }
        match members.create(&new(2, "b@x", "ann")) {
            Err(Error::UniqueViolation(v)) => {
                assert_eq!(v.columns, vec!["handle"], "{v:?}");
                assert_eq!(v.field.as_deref(), Some("handle"), "{v:?}");
            }
            other => panic!("{other:?}"),
        }
        // Outside a repository the table comes from the server's message or catalog.
        let raw = diesel::sql_query("INSERT INTO members (org_id, email, handle) VALUES (1, 'a@x', 'third')");
        match conn.execute(raw) {
            Err(Error::UniqueViolation(v)) => {
                assert_eq!(v.columns, vec!["org_id", "email"], "{v:?}");
                assert_eq!(v.field, None, "{v:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    // 6. Timestamps written by fixtures compare with those the repository writes.

    fn fixture_timestamps_compare_like_repository_timestamps(db: &TestDb) {
        let conn = db.conn();
        let fixture = r#"{"events": [
            {"id": 1, "name": "ten", "created_at": "2024-01-01T10:00:00", "updated_at": "2024-01-01T10:00:00"},
            {"id": 2, "name": "noon", "created_at": "2024-01-01T12:00:00.250", "updated_at": "2024-01-01 12:00:00"},
            {"id": 3, "name": "zoned", "created_at": "2024-01-01T13:00:00+02:00", "updated_at": "2024-01-01T11:00:00Z"}
        ]}"#;
        kysera::testing::load_fixtures_str(&conn, "events.json", fixture).unwrap();
        let events = conn.repo::<Event>();
        let after = events.created_after(at("2024-01-01 11:00:00")).unwrap();
        assert_eq!(after.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), vec!["noon"]);
        let zoned = events.get(3).unwrap();
        assert_eq!(zoned.created_at, at("2024-01-01 11:00:00"), "an offset is converted to UTC");
        assert_eq!(zoned.updated_at, at("2024-01-01 11:00:00"));
        assert_eq!(events.get(2).unwrap().created_at, at("2024-01-01 12:00:00") + chrono::Duration::milliseconds(250));

        // A snapshot loads back and still compares correctly.
        let snapshot = kysera::testing::snapshot(&conn, "events").unwrap();
        conn.batch_execute("DELETE FROM events").unwrap();
        kysera::testing::load_fixtures_str(&conn, "snapshot.json", &serde_json::json!({"events": snapshot}).to_string()).unwrap();
        let after = events.created_after(at("2024-01-01 11:00:00")).unwrap();
        assert_eq!(after.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), vec!["noon"]);

        // A value that is no timestamp is refused, naming the column; nothing is written.
        let bad = r#"{"events": [{"id": 9, "name": "bad", "created_at": "yesterday", "updated_at": "2024-01-01 10:00:00"}]}"#;
        match kysera::testing::load_fixtures_str(&conn, "bad.json", bad) {
            Err(Error::Fixture { column: Some(column), .. }) => assert_eq!(column, "created_at"),
            other => panic!("{other:?}"),
        }
        assert!(events.find_by_id(9).unwrap().is_none());
    }
}

/// On SQLite the stored text is what Diesel's own binding writes, so text comparison is time
/// comparison.
#[test]
fn sqlite_fixture_timestamps_are_stored_in_diesels_form() {
    let db = TestDb::new(BackendKind::Sqlite, schema(BackendKind::Sqlite));
    let conn = db.conn();
    let fixture = r#"{"events": [{"id": 1, "name": "a", "created_at": "2024-01-01T10:00:00", "updated_at": "2024-01-01T10:00:00.5"}]}"#;
    kysera::testing::load_fixtures_str(&conn, "events.json", fixture).unwrap();
    let ten = at("2024-01-01 10:00:00");
    conn.repo::<Event>()
        .create_without_timestamps(&NewEvent {
            name: "b".into(),
            created_at: Some(ten),
            updated_at: Some(ten + chrono::Duration::milliseconds(500)),
        })
        .unwrap();
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        created: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        updated: String,
    }
    let stored: Vec<Stored> = conn
        .load(diesel::sql_query(
            "SELECT CAST(created_at AS TEXT) AS created, CAST(updated_at AS TEXT) AS updated FROM events ORDER BY id",
        ))
        .unwrap();
    assert_eq!(
        stored[0], stored[1],
        "the fixture's text and the repository's text"
    );
    assert_eq!(stored[0].created, "2024-01-01 10:00:00");
}
