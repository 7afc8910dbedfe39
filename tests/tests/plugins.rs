//! User-written plugins: the multi-tenant example, hook order, refusal, rollback, observation.
#![allow(missing_docs)]

use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use kysera::plugin::{AfterWrite, BeforeWrite, Plugin, QueryEvent};
use kysera::{BackendKind, Context, Error, PageRequest, Repository};
use kysera_examples::tenant::TenantPlugin;
use kysera_integration_tests::{all_backends, TestDb};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "notes")]
#[soft_delete]
pub struct Note {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub tenant_id: i64,
    #[kysera(validate(non_empty))]
    pub body: String,
    pub deleted_at: Option<NaiveDateTime>,
}

fn schema(backend: BackendKind) -> String {
    let (id, ts) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP"),
        BackendKind::Mysql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)"),
    };
    format!("CREATE TABLE notes (id {id}, tenant_id BIGINT NOT NULL, body TEXT NOT NULL, deleted_at {ts} NULL)")
}

fn note(body: &str) -> NewNote {
    // The plugin writes the tenant; whatever the caller puts here is replaced.
    NewNote {
        tenant_id: 0,
        body: body.into(),
    }
}

fn tenant(db: &TestDb, id: i64) -> kysera::Conn {
    let conn = db
        .db
        .clone()
        .with_plugin(TenantPlugin::new())
        .conn()
        .unwrap();
    conn.set_context(Context::new().with("tenant_id", id));
    conn
}

/// Records every hook call, to check order and arguments.
struct Recorder {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
    refuse: bool,
    fail_after: bool,
}

impl Plugin for Recorder {
    fn name(&self) -> &str {
        self.name
    }
    fn before_write(&self, write: &mut BeforeWrite<'_>) -> kysera::Result<()> {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:before:{}", self.name, write.operation.as_str()));
        if self.refuse {
            return Err(Error::plugin(self.name, "refused"));
        }
        Ok(())
    }
    fn after_write(&self, write: &AfterWrite<'_>) -> kysera::Result<()> {
        self.log.lock().unwrap().push(format!(
            "{}:after:{}:{}",
            self.name,
            write.operation.as_str(),
            write.rows.len()
        ));
        if self.fail_after {
            return Err(Error::plugin(self.name, "after failed"));
        }
        Ok(())
    }
    fn on_query(&self, query: &QueryEvent<'_>) {
        self.log.lock().unwrap().push(format!(
            "{}:query:{}",
            self.name,
            query.sql.split_whitespace().next().unwrap_or("")
        ));
    }
    fn on_error(&self, table: &'static str, error: &Error) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:error:{table}:{}", self.name, error.code()));
    }
}

fn recorder(name: &'static str, log: &Arc<Mutex<Vec<String>>>) -> Recorder {
    Recorder {
        name,
        log: log.clone(),
        refuse: false,
        fail_after: false,
    }
}

all_backends! {
    fn tenants_see_only_their_rows(db: &TestDb) {
        let one = tenant(db, 1);
        let two = tenant(db, 2);
        let (notes1, notes2) = (one.repo::<Note>(), two.repo::<Note>());
        let a = notes1.create(&note("one's")).unwrap();
        assert_eq!(a.tenant_id, 1, "the plugin set the tenant on insert");
        let b = notes2.create_many(&[note("two's"), note("two's too")]).unwrap();
        assert!(b.iter().all(|n| n.tenant_id == 2));

        assert_eq!(notes1.find_all().unwrap(), vec![a.clone()]);
        assert_eq!(notes2.count().unwrap(), 2);
        assert_eq!(notes1.find_by_id(b[0].id).unwrap(), None, "another tenant's row is invisible");
        assert!(!notes1.exists(b[0].id).unwrap());
        assert_eq!(notes1.find_by_ids(&[a.id, b[0].id]).unwrap(), vec![a.clone()]);
        assert!(notes1.find_by_body("two's").unwrap().is_empty());
        assert_eq!(notes1.paginate(PageRequest::new(1, 10)).unwrap().total, 1);
        assert!(notes1.load(notes1.query().filter(notes::body.like("two%"))).unwrap().is_empty());

        let patch = NoteUpdate { body: Some("hijacked".into()), ..Default::default() };
        assert!(matches!(notes1.update(b[0].id, &patch), Err(Error::NotFound { .. })));
        assert!(matches!(notes1.delete(b[0].id), Err(Error::NotFound { .. })));
        let moved = NoteUpdate { tenant_id: Some(2), ..Default::default() };
        assert!(matches!(notes1.update(a.id, &moved), Err(Error::Plugin { .. })));

        // Soft delete and its views respect the tenant: with_deleted lifts only soft delete.
        notes2.delete(b[0].id).unwrap();
        assert_eq!(notes2.count().unwrap(), 1);
        assert_eq!(notes2.with_deleted().count().unwrap(), 2);
        assert_eq!(notes1.with_deleted().count().unwrap(), 1);
        assert!(notes1.only_deleted().find_all().unwrap().is_empty());

        // The same inside a transaction.
        one.transaction(|tx| {
            let notes = tx.repo::<Note>();
            notes.create(&note("in a transaction"))?;
            assert_eq!(notes.count()?, 2);
            Ok::<_, Error>(())
        })
        .unwrap();

        // Turned off by name for one call: every tenant's rows.
        assert_eq!(notes1.without_plugins(&[TenantPlugin::NAME]).with_deleted().count().unwrap(), 4);

        // No tenant in the context: nothing to read, no write allowed.
        let nobody = db.db.clone().with_plugin(TenantPlugin::new()).conn().unwrap();
        assert_eq!(nobody.repo::<Note>().count().unwrap(), 0);
        assert!(matches!(nobody.repo::<Note>().create(&note("x")), Err(Error::Plugin { .. })));
    }

    fn hooks_run_in_order_and_can_refuse(db: &TestDb) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let conn = db.db.clone().with_plugin(recorder("first", &log)).with_plugin(recorder("second", &log)).conn().unwrap();
        let notes = conn.repo::<Note>();
        notes.create(&NewNote { tenant_id: 5, body: "hello".into() }).unwrap();
        let calls: Vec<String> = log.lock().unwrap().drain(..).filter(|c| !c.contains(":query:")).collect();
        assert_eq!(calls, vec!["first:before:insert", "second:before:insert", "first:after:insert:1", "second:after:insert:1"]);

        let refusing = db.db.clone().with_plugin(Recorder { refuse: true, ..recorder("guard", &log) }).conn().unwrap();
        let err = refusing.repo::<Note>().create(&NewNote { tenant_id: 5, body: "no".into() }).unwrap_err();
        assert!(matches!(err, Error::Plugin { ref plugin, .. } if plugin == "guard"), "{err:?}");
        let failing = db.db.clone().with_plugin(Recorder { fail_after: true, ..recorder("late", &log) }).conn().unwrap();
        assert!(failing.repo::<Note>().create(&NewNote { tenant_id: 5, body: "rolled back".into() }).is_err());
        assert_eq!(conn.repo::<Note>().count().unwrap(), 1, "a refused or failed write leaves nothing behind");
        let calls = log.lock().unwrap().clone();
        assert!(calls.iter().any(|c| c.starts_with("guard:query:") || c.starts_with("late:query:")), "queries are observed: {calls:?}");
        assert!(calls.iter().any(|c| c == "late:error:notes:plugin"), "errors are observed: {calls:?}");
    }
}
