//! `#[timestamps]`, `#[soft_delete]` and `#[audited]` together, on every backend.
#![allow(missing_docs)]

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use kysera::{BackendKind, Context, Error, Operation, PageRequest, Repository};
use kysera_integration_tests::{all_backends, StatementLog};

/// A model with all three behaviours.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "articles")]
#[timestamps]
#[soft_delete]
#[audited(redact(secret))]
pub struct Article {
    #[kysera(primary_key, generated)]
    pub id: i64,
    #[kysera(validate(non_empty))]
    pub title: String,
    pub body: Option<String>,
    pub secret: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

fn schema(backend: BackendKind) -> String {
    let (id, ts, text) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP", "TEXT"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP", "TEXT"),
        BackendKind::Mysql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)", "TEXT"),
    };
    format!(
        "CREATE TABLE articles (id {id}, title {text} NOT NULL, body {text}, secret {text},
            created_at {ts} NOT NULL, updated_at {ts} NOT NULL, deleted_at {ts} NULL);
         {}",
        kysera::audit::migration_sql(backend)
    )
}

fn new(title: &str) -> NewArticle {
    NewArticle {
        title: title.into(),
        body: None,
        secret: Some("s3cret".into()),
        created_at: None,
        updated_at: None,
    }
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn recent(t: NaiveDateTime) -> bool {
    (Utc::now().naive_utc() - t).num_seconds().abs() < 300
}

all_backends! {
    fn timestamps_are_set_on_every_write(db: &TestDb) {
        let conn = db.conn();
        let articles = conn.repo::<Article>();
        let a = articles.create(&new("a")).unwrap();
        assert!(recent(a.created_at), "{a:?}");
        assert_eq!(a.created_at, a.updated_at, "one instant per write");

        let given = at("2020-01-02 03:04:05");
        let b = articles.create(&NewArticle { created_at: Some(given), ..new("b") }).unwrap();
        assert_eq!(b.created_at, given, "an explicit value wins");
        assert!(recent(b.updated_at));

        let patch = ArticleUpdate { body: Some(Some("x".into())), ..Default::default() };
        let a2 = articles.update(a.id, &patch).unwrap();
        assert_eq!(a2.created_at, a.created_at);
        assert!(a2.updated_at >= a.updated_at);
        let explicit = articles.update(a.id, &ArticleUpdate { updated_at: Some(given), ..Default::default() }).unwrap();
        assert_eq!(explicit.updated_at, given);

        let untouched = articles.update_without_timestamps(a.id, &ArticleUpdate { title: Some("a!".into()), ..Default::default() }).unwrap();
        assert_eq!(untouched.updated_at, given, "update_without_timestamps leaves updated_at alone");

        for row in articles.update_many(&[a.id, b.id], &ArticleUpdate { body: Some(None), ..Default::default() }).unwrap() {
            assert!(recent(row.updated_at), "update_many stamps {row:?}");
        }
        let bulk = articles
            .bulk_update(&[
                (a.id, ArticleUpdate { title: Some("bulk a".into()), ..Default::default() }),
                (b.id, ArticleUpdate { title: Some("bulk b".into()), updated_at: Some(given), ..Default::default() }),
            ])
            .unwrap();
        assert!(recent(bulk[0].updated_at));
        assert_eq!(bulk[1].updated_at, given, "explicit value wins in bulk_update");

        let touched = articles.touch(b.id).unwrap();
        assert!(recent(touched.updated_at));
        assert!(matches!(articles.create_without_timestamps(&new("c")), Err(Error::InvalidArgument(_))));
        let c = articles.create_without_timestamps(&NewArticle { created_at: Some(given), updated_at: Some(given), ..new("c") }).unwrap();
        assert_eq!((c.created_at, c.updated_at), (given, given));
    }

    fn soft_deleted_rows_never_leak_into_reads(db: &TestDb) {
        let conn = db.conn();
        let articles = conn.repo::<Article>();
        let rows = articles.create_many(&[new("keep"), new("gone"), new("also kept")]).unwrap();
        let gone = articles.delete(rows[1].id).map(|_| rows[1].id).unwrap();
        assert!(matches!(articles.delete(gone), Err(Error::NotFound { .. })), "deleting twice");

        assert_eq!(articles.find_by_id(gone).unwrap(), None);
        assert!(matches!(articles.get(gone), Err(Error::NotFound { .. })));
        assert_eq!(articles.find_by_ids(&[rows[0].id, gone]).unwrap().len(), 1);
        assert_eq!(articles.find_all().unwrap().len(), 2);
        assert!(articles.find_by_title("gone").unwrap().is_empty());
        assert_eq!(articles.find_one_by_title("gone").unwrap(), None);
        assert_eq!(articles.count().unwrap(), 2);
        assert!(!articles.exists(gone).unwrap());
        let page = articles.paginate(PageRequest::new(1, 10)).unwrap();
        assert_eq!((page.total, page.items.len()), (2, 2));
        let custom = articles.load(articles.query().filter(articles::title.eq("gone"))).unwrap();
        assert!(custom.is_empty(), "the escape hatch is scoped too");
        assert!(matches!(articles.update(gone, &ArticleUpdate { title: Some("x".into()), ..Default::default() }), Err(Error::NotFound { .. })));
        assert!(articles.update_many(&[gone], &ArticleUpdate { title: Some("x".into()), ..Default::default() }).unwrap().is_empty());

        assert_eq!(articles.with_deleted().find_all().unwrap().len(), 3);
        assert_eq!(articles.with_deleted().count().unwrap(), 3);
        let only = articles.only_deleted().find_all().unwrap();
        assert_eq!(only.len(), 1);
        assert!(only[0].deleted_at.is_some());

        let back = articles.restore(gone).unwrap();
        assert_eq!(back.deleted_at, None);
        assert!(matches!(articles.restore(gone), Err(Error::NotFound { .. })), "restoring a live row");
        assert_eq!(articles.count().unwrap(), 3);

        assert_eq!(articles.soft_delete_many(&[rows[0].id, rows[2].id]).unwrap().len(), 2);
        assert_eq!(articles.restore_many(&[rows[0].id]).unwrap().len(), 1);
        articles.hard_delete(rows[2].id).unwrap();
        assert_eq!(articles.with_deleted().count().unwrap(), 2, "hard delete removes a soft-deleted row");
        assert_eq!(articles.hard_delete_many(&[rows[0].id, rows[1].id]).unwrap(), 2);
        assert_eq!(articles.with_deleted().count().unwrap(), 0);
    }

    fn every_write_is_audited(db: &TestDb) {
        let conn = db.conn();
        conn.set_context(Context::new().actor("user:7").metadata(serde_json::json!({"request": "r-1"})));
        let articles = conn.repo::<Article>();
        let a = articles.create(&new("first")).unwrap();
        articles.update(a.id, &ArticleUpdate { title: Some("second".into()), ..Default::default() }).unwrap();
        articles.soft_delete(a.id).unwrap();
        articles.restore(a.id).unwrap();
        articles.hard_delete(a.id).unwrap();

        let history = articles.audit_history(a.id).unwrap();
        let ops: Vec<Operation> = history.iter().map(|e| e.operation().unwrap()).collect();
        assert_eq!(ops, vec![Operation::Insert, Operation::Update, Operation::SoftDelete, Operation::Restore, Operation::Delete]);
        let insert = &history[0];
        assert_eq!(insert.changed_by.as_deref(), Some("user:7"));
        assert!(insert.metadata.as_deref().unwrap().contains("r-1"));
        assert!(insert.old().unwrap().is_none());
        let created = insert.new_values().unwrap().unwrap();
        assert_eq!(created["title"], "first");
        assert_eq!(created["secret"], "[REDACTED]");
        let update = &history[1];
        assert_eq!(update.old().unwrap().unwrap()["title"], "first");
        assert_eq!(update.new_values().unwrap().unwrap()["title"], "second");
        assert!(history[2].new_values().unwrap().unwrap()["deleted_at"].is_string());
        assert!(history[4].new_values().unwrap().is_none());
        assert_eq!(history[4].old().unwrap().unwrap()["title"], "second");
        assert_eq!(articles.audit_entry(update.id).unwrap(), *update);
    }

    fn audit_rows_roll_back_with_the_change(db: &TestDb) {
        let conn = db.conn();
        let articles = conn.repo::<Article>();
        let result: Result<(), Error> = conn.transaction(|_| {
            articles.create(&new("doomed"))?;
            Err(Error::InvalidArgument("roll back".into()))
        });
        assert!(result.is_err());
        let entries: Vec<i64> = conn.load(kysera::audit::audit_logs::table.select(kysera::audit::audit_logs::id)).unwrap();
        assert!(entries.is_empty(), "no audit row survives a rollback");
    }

    fn bulk_audit_does_not_grow_with_rows(db: &TestDb) {
        let conn = db.conn();
        let articles = conn.repo::<Article>();
        let rows = articles.create_many(&(0..60).map(|i| new(&format!("t{i}"))).collect::<Vec<_>>()).unwrap();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let log = StatementLog::attach(&conn);
        let patch = ArticleUpdate { body: Some(Some("b".into())), ..Default::default() };
        articles.update_many(&ids[..5], &patch).unwrap();
        let small = log.take_data_statements().len();
        articles.update_many(&ids[5..], &patch).unwrap();
        let large = log.take_data_statements().len();
        assert_eq!(small, large, "5 rows and 55 rows take the same number of statements");
        articles.soft_delete_many(&ids[..5]).unwrap();
        let soft_small = log.take_data_statements().len();
        articles.soft_delete_many(&ids[5..]).unwrap();
        assert_eq!(soft_small, log.take_data_statements().len());
        let entries: Vec<i64> = conn.load(kysera::audit::audit_logs::table.select(kysera::audit::audit_logs::id)).unwrap();
        assert_eq!(entries.len(), 60 + 60 + 60);
    }

    fn restore_from_audit_reapplies_old_values(db: &TestDb) {
        let conn = db.conn();
        let articles = conn.repo::<Article>();
        let a = articles.create(&NewArticle { body: Some("original".into()), ..new("title") }).unwrap();
        articles.update(a.id, &ArticleUpdate { body: Some(Some("changed".into())), ..Default::default() }).unwrap();
        let update = articles.audit_history(a.id).unwrap().pop().unwrap();
        let restored = articles.restore_from_audit(update.id).unwrap().row;
        assert_eq!(restored.body.as_deref(), Some("original"));

        articles.hard_delete(a.id).unwrap();
        let deletion = articles.audit_history(a.id).unwrap().pop().unwrap();
        assert_eq!(deletion.operation().unwrap(), Operation::Delete);
        let back = articles.restore_from_audit(deletion.id).unwrap().row;
        assert_eq!((back.id, back.title.as_str(), back.created_at), (a.id, "title", a.created_at));
        let insert = articles.audit_history(a.id).unwrap().remove(0);
        assert!(matches!(articles.restore_from_audit(insert.id), Err(Error::InvalidArgument(_))));
    }
}

mod finders {
    use super::*;

    fn seeded(db: &kysera_integration_tests::TestDb) -> (kysera::Conn, Vec<Article>) {
        let conn = db.conn();
        let stamps = [
            "2024-01-01 00:00:00",
            "2024-02-01 00:00:00",
            "2024-03-01 00:00:00",
            "2024-04-01 00:00:00",
        ];
        let rows = stamps
            .iter()
            .enumerate()
            .map(|(i, t)| NewArticle {
                created_at: Some(at(t)),
                updated_at: Some(at(stamps[3 - i])),
                ..new(&format!("t{i}"))
            })
            .collect::<Vec<_>>();
        let created = conn.repo::<Article>().create_many(&rows).unwrap();
        (conn, created)
    }

    fn ids(rows: Vec<Article>) -> Vec<i64> {
        rows.into_iter().map(|a| a.id).collect()
    }

    all_backends! {
        fn timestamp_finders(db: &TestDb) {
            let (conn, rows) = seeded(db);
            let articles = conn.repo::<Article>();
            let id = |i: usize| rows[i].id;
            assert_eq!(ids(articles.created_after(at("2024-02-01 00:00:00")).unwrap()), vec![id(2), id(3)]);
            assert_eq!(ids(articles.created_before(at("2024-02-01 00:00:00")).unwrap()), vec![id(0)]);
            assert_eq!(ids(articles.created_between(at("2024-02-01 00:00:00"), at("2024-03-01 00:00:00")).unwrap()), vec![id(1), id(2)]);
            assert_eq!(ids(articles.recently_created(2).unwrap()), vec![id(3), id(2)]);
            assert_eq!(ids(articles.recently_updated(1).unwrap()), vec![id(0)]);
            assert_eq!(ids(articles.updated_after(at("2024-02-15 00:00:00")).unwrap()), vec![id(0), id(1)]);
            articles.delete(id(3)).unwrap();
            assert_eq!(ids(articles.recently_created(1).unwrap()), vec![id(2)], "soft-deleted rows stay out");
        }
    }

    fn schema(backend: BackendKind) -> String {
        super::schema(backend)
    }
}

mod options {
    use super::*;

    /// Custom column names, no updated_at on insert, excluded columns.
    #[derive(Repository, Debug, Clone, PartialEq)]
    #[kysera(table = "accounts")]
    #[timestamps(
        created_at = "opened",
        updated_at = "changed",
        updated_on_insert = false
    )]
    #[kysera(soft_delete(column = "closed"))]
    #[audited(exclude(password))]
    pub struct Account {
        #[kysera(primary_key, generated)]
        pub id: i64,
        pub login: String,
        pub password: String,
        pub opened: NaiveDateTime,
        pub changed: Option<NaiveDateTime>,
        pub closed: Option<NaiveDateTime>,
    }

    /// Audit without values.
    #[derive(Repository, Debug, Clone, PartialEq)]
    #[kysera(table = "events")]
    #[audited(values = false)]
    pub struct Event {
        #[kysera(primary_key, generated)]
        pub id: i64,
        pub name: String,
    }

    fn schema(backend: BackendKind) -> String {
        let (id, ts) = match backend {
            BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP"),
            BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP"),
            BackendKind::Mysql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)"),
        };
        format!(
            "CREATE TABLE accounts (id {id}, login TEXT NOT NULL, password TEXT NOT NULL, opened {ts} NOT NULL, changed {ts} NULL, closed {ts} NULL);
             CREATE TABLE events (id {id}, name TEXT NOT NULL);
             {}",
            kysera::audit::migration_sql(backend)
        )
    }

    all_backends! {
        fn configured_columns_and_audit_options(db: &TestDb) {
            let conn = db.conn();
            let accounts = conn.repo::<Account>();
            let a = accounts.create(&NewAccount { login: "ada".into(), password: "hunter2".into(), opened: None, changed: None }).unwrap();
            assert!(recent(a.opened));
            assert_eq!(a.changed, None, "updated_on_insert = false");
            let a = accounts.update(a.id, &AccountUpdate { login: Some("ada2".into()), ..Default::default() }).unwrap();
            assert!(a.changed.is_some_and(recent));
            accounts.delete(a.id).unwrap();
            assert_eq!(accounts.count().unwrap(), 0);
            assert!(accounts.with_deleted().get(a.id).unwrap().closed.is_some());
            for entry in accounts.audit_history(a.id).unwrap() {
                let values = entry.new_values().unwrap().unwrap();
                assert!(!values.contains_key("password"), "excluded column recorded: {values:?}");
                assert!(values.contains_key("login"));
            }

            let events = conn.repo::<Event>();
            let e = events.create(&NewEvent { name: "boot".into() }).unwrap();
            events.delete(e.id).unwrap();
            let history = events.audit_history(e.id).unwrap();
            assert_eq!(history.len(), 2);
            assert!(history.iter().all(|h| h.old_values.is_none() && h.new_values.is_none()), "values = false");
        }
    }
}
