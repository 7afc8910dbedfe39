//! UUID keys (`kysera::Uuid`, feature `uuid`): native `uuid` on PostgreSQL, hyphenated text on
//! SQLite (`TEXT`) and MySQL/MariaDB (`CHAR(36)`), through every operation.
#![allow(missing_docs)]

use chrono::NaiveDateTime;
use kysera::{BackendKind, CursorRequest, Error, Filter, Find, Keyset, Repository, Upsert, Uuid};
use kysera_integration_tests::all_backends;

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "accounts", has_many(Session))]
#[soft_delete]
#[audited]
pub struct Account {
    #[kysera(primary_key)]
    pub id: Uuid,
    pub name: String,
    pub referrer: Option<Uuid>,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "sessions", belongs_to(Account))]
pub struct Session {
    #[kysera(primary_key)]
    pub id: Uuid,
    pub account_id: Uuid,
}

fn schema(backend: BackendKind) -> String {
    let (uuid, ts) = match backend {
        BackendKind::Sqlite => ("TEXT", "TIMESTAMP"),
        BackendKind::Postgres => ("UUID", "TIMESTAMP"),
        BackendKind::Mysql => ("CHAR(36)", "DATETIME(6)"),
    };
    format!(
        "CREATE TABLE accounts (id {uuid} PRIMARY KEY, name VARCHAR(50) NOT NULL, referrer {uuid} NULL,
            deleted_at {ts} NULL);
         CREATE TABLE sessions (id {uuid} PRIMARY KEY, account_id {uuid} NOT NULL);
         {}",
        kysera::audit::migration_sql(backend)
    )
}

fn id(n: u128) -> Uuid {
    Uuid::from(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_0000 + n,
    ))
}

fn account(n: u128, name: &str) -> NewAccount {
    NewAccount {
        id: id(n),
        name: name.into(),
        referrer: (n > 1).then(|| id(1)),
    }
}

all_backends! {
    fn uuid_keys_through_every_operation(db: &TestDb) {
        let conn = db.conn();
        let accounts = conn.repo::<Account>();
        let created = accounts.create_many(&[account(3, "c"), account(1, "a"), account(2, "b")]).unwrap();
        assert_eq!(created.iter().map(|a| a.id).collect::<Vec<_>>(), [id(3), id(1), id(2)], "input order");
        assert_eq!(accounts.get(id(2)).unwrap().referrer, Some(id(1)));
        let found = accounts.find_by_ids(&[id(3), id(1), id(99)]).unwrap();
        assert_eq!(found.iter().map(|a| a.id).collect::<Vec<_>>(), [id(1), id(3)]);
        match accounts.get(id(99)) {
            Err(Error::NotFound { key, .. }) => assert_eq!(key, id(99).to_string()),
            other => panic!("expected NotFound, got {other:?}"),
        }

        let renamed = accounts.update(id(1), &AccountUpdate { name: Some("A".into()), ..Default::default() }).unwrap();
        assert_eq!(renamed.name, "A");
        let bulk = accounts.bulk_update(&[
            (id(2), AccountUpdate { referrer: Some(None), ..Default::default() }),
            (id(3), AccountUpdate { name: Some("C".into()), ..Default::default() }),
        ]).unwrap();
        assert_eq!((bulk[0].referrer, bulk[1].name.as_str()), (None, "C"));

        // Run-time filters read the column's UUID type from its text.
        let by_text = accounts.find(Find::new().filter(Filter::eq("referrer", id(1).to_string()))).unwrap();
        assert_eq!(by_text.iter().map(|a| a.id).collect::<Vec<_>>(), [id(3)]);
        let wrong = accounts.find(Find::new().filter(Filter::eq("id", "not-a-uuid")));
        assert!(matches!(wrong, Err(Error::InvalidFilter(_))), "{wrong:?}");

        // Soft delete, restore, audit by the hyphenated key.
        accounts.delete(id(3)).unwrap();
        assert_eq!(accounts.count().unwrap(), 2);
        accounts.restore(id(3)).unwrap();
        let history = accounts.audit_history(id(3)).unwrap();
        assert!(history.iter().all(|e| e.entity_id == id(3).to_string()), "{history:?}");
        let rename = history.iter().find(|e| e.operation == "update").expect("the rename");
        assert_eq!(accounts.restore_from_audit(rename.id).unwrap().row.name, "c");

        // Keyset pages break ties on the UUID key; streams walk by it.
        accounts.update_many(&[id(1), id(2), id(3)], &AccountUpdate { name: Some("same".into()), ..Default::default() }).unwrap();
        let keyset = Keyset::new().asc("name");
        let first = accounts.keyset_page(&keyset, &CursorRequest::first(2)).unwrap();
        let rest = accounts.keyset_page(&keyset, &CursorRequest::after(first.next_cursor.clone().unwrap(), 2)).unwrap();
        let paged: Vec<Uuid> = first.items.iter().chain(&rest.items).map(|a| a.id).collect();
        assert_eq!(paged.len(), 3);
        let streamed: Vec<Uuid> = accounts.stream_chunks(Find::new(), 2).unwrap().flat_map(|c| c.unwrap()).map(|a| a.id).collect();
        assert_eq!(streamed, paged, "the same key order");

        // Upsert and relations keyed by UUID.
        let up = accounts.upsert_many(&[account(1, "upserted"), account(4, "d")], &Upsert::on(["id"])).unwrap();
        assert_eq!(up.iter().map(|u| (u.row.id, u.inserted)).collect::<Vec<_>>(), [(id(1), false), (id(4), true)]);
        let sessions = conn.repo::<Session>();
        for (s, a) in [(10, 1), (11, 1), (12, 4)] {
            sessions.create(&NewSession { id: id(s), account_id: id(a) }).unwrap();
        }
        let owners = accounts.find_by_ids(&[id(1), id(2), id(4)]).unwrap();
        let loaded = accounts.load_sessions(&owners).unwrap();
        assert_eq!(loaded.iter().map(Vec::len).collect::<Vec<_>>(), [2, 0, 1]);
        assert!(sessions.load_account(&sessions.find_all().unwrap()).unwrap().iter().all(Option::is_some));
    }
}
