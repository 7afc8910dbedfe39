//! Random sequences of writes on a model with every behaviour, checked against a plain
//! in-memory model after each step; at the end, replaying the audit log rebuilds the table.
#![allow(missing_docs)]

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use kysera::{BackendKind, Error, Operation, PageRequest, Repository};
use kysera_integration_tests::TestDb;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "docs")]
#[timestamps]
#[soft_delete]
#[audited]
pub struct Doc {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub title: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

fn schema(backend: BackendKind) -> String {
    let (id, ts) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP"),
        BackendKind::Mysql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)"),
    };
    format!(
        "CREATE TABLE docs (id {id}, title TEXT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL, deleted_at {ts} NULL); {}",
        kysera::audit::migration_sql(backend)
    )
}

#[derive(Debug, Clone)]
enum Step {
    Create(String),
    Update(usize, String),
    SoftDelete(usize),
    Restore(usize),
    HardDelete(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => "[a-z]{1,8}".prop_map(Step::Create),
        2 => (any::<usize>(), "[a-z]{1,8}").prop_map(|(i, t)| Step::Update(i, t)),
        2 => any::<usize>().prop_map(Step::SoftDelete),
        2 => any::<usize>().prop_map(Step::Restore),
        1 => any::<usize>().prop_map(Step::HardDelete),
    ]
}

/// The in-memory truth: id → (title, soft-deleted).
type Truth = BTreeMap<i64, (String, bool)>;

fn pick(known: &[i64], i: usize) -> Option<i64> {
    (!known.is_empty()).then(|| known[i % known.len()])
}

fn run(backend: BackendKind) {
    let db = TestDb::new(backend, schema(backend));
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(step(), 1..24), |steps| {
            let conn = db.conn();
            conn.batch_execute("DELETE FROM docs; DELETE FROM audit_logs")
                .unwrap();
            let docs = conn.repo::<Doc>();
            let mut truth = Truth::new();
            let mut known: Vec<i64> = Vec::new();
            for step in steps {
                apply(&docs, &mut truth, &mut known, step);
                check(&docs, &truth);
            }
            check_audit_replay(&docs);
            Ok(())
        })
        .unwrap();
}

fn apply(docs: &DocRepository<'_>, truth: &mut Truth, known: &mut Vec<i64>, step: Step) {
    match step {
        Step::Create(title) => {
            let doc = docs
                .create(&NewDoc {
                    title: title.clone(),
                    created_at: None,
                    updated_at: None,
                })
                .unwrap();
            truth.insert(doc.id, (title, false));
            known.push(doc.id);
        }
        Step::Update(i, title) => {
            let Some(id) = pick(known, i) else { return };
            let result = docs.update(
                id,
                &DocUpdate {
                    title: Some(title.clone()),
                    ..Default::default()
                },
            );
            match truth.get_mut(&id) {
                Some((t, false)) => {
                    assert_eq!(result.unwrap().title, title);
                    *t = title;
                }
                _ => assert!(
                    matches!(result, Err(Error::NotFound { .. })),
                    "update of a deleted row: {result:?}"
                ),
            }
        }
        Step::SoftDelete(i) => {
            let Some(id) = pick(known, i) else { return };
            let result = docs.soft_delete(id);
            match truth.get_mut(&id) {
                Some((_, deleted @ false)) => {
                    assert!(result.unwrap().deleted_at.is_some());
                    *deleted = true;
                }
                _ => assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}"),
            }
        }
        Step::Restore(i) => {
            let Some(id) = pick(known, i) else { return };
            let result = docs.restore(id);
            match truth.get_mut(&id) {
                Some((_, deleted @ true)) => {
                    assert!(result.unwrap().deleted_at.is_none());
                    *deleted = false;
                }
                _ => assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}"),
            }
        }
        Step::HardDelete(i) => {
            let Some(id) = pick(known, i) else { return };
            let result = docs.hard_delete(id);
            match truth.remove(&id) {
                Some(_) => result.unwrap(),
                None => assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}"),
            }
        }
    }
}

fn check(docs: &DocRepository<'_>, truth: &Truth) {
    let live: Vec<(i64, String)> = truth
        .iter()
        .filter(|(_, (_, d))| !d)
        .map(|(id, (t, _))| (*id, t.clone()))
        .collect();
    let found: Vec<(i64, String)> = docs
        .find_all()
        .unwrap()
        .into_iter()
        .map(|d| (d.id, d.title))
        .collect();
    assert_eq!(found, live, "find_all");
    assert_eq!(docs.count().unwrap(), live.len() as u64, "count");
    assert_eq!(
        docs.with_deleted().count().unwrap(),
        truth.len() as u64,
        "with_deleted count"
    );
    let deleted: Vec<i64> = truth
        .iter()
        .filter(|(_, (_, d))| *d)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(
        docs.only_deleted()
            .find_all()
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect::<Vec<_>>(),
        deleted,
        "only_deleted"
    );
    let page = docs.paginate(PageRequest::new(2, 3)).unwrap();
    assert_eq!(page.total, live.len() as u64);
    let expected: Vec<i64> = live.iter().skip(3).take(3).map(|(id, _)| *id).collect();
    assert_eq!(
        page.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        expected,
        "page 2 of 3"
    );
    for (id, (_, deleted)) in truth {
        assert_eq!(
            docs.find_by_id(*id).unwrap().is_some(),
            !deleted,
            "find_by_id {id}"
        );
        assert_eq!(docs.exists(*id).unwrap(), !deleted, "exists {id}");
    }
}

/// Replays every audit row in order; the result must equal the table.
fn check_audit_replay(docs: &DocRepository<'_>) {
    let mut replayed: BTreeMap<String, kysera::json::JsonMap> = BTreeMap::new();
    let rows = docs.with_deleted().find_all().unwrap();
    let mut ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    // Hard-deleted rows are gone from the table but not from the log: collect every entity.
    let entries: Vec<kysera::AuditEntry> = docs
        .conn()
        .load(diesel::QueryDsl::order(
            kysera::audit::audit_logs::table,
            kysera::audit::audit_logs::id,
        ))
        .unwrap();
    ids.extend(
        entries
            .iter()
            .filter_map(|e| e.entity_id.parse::<i64>().ok()),
    );
    for entry in &entries {
        match entry.operation().unwrap() {
            Operation::Delete => {
                replayed.remove(&entry.entity_id);
            }
            _ => {
                replayed.insert(
                    entry.entity_id.clone(),
                    entry.new_values().unwrap().expect("captured values"),
                );
            }
        }
    }
    let actual: BTreeMap<String, kysera::json::JsonMap> = rows
        .iter()
        .map(|d| (d.id.to_string(), kysera::json::JsonFields::to_json(d)))
        .collect();
    assert_eq!(
        replayed, actual,
        "replaying the audit log rebuilds the table"
    );
}

#[test]
fn sqlite_matches_the_model() {
    run(BackendKind::Sqlite);
}

#[test]
fn postgres_matches_the_model() {
    run(BackendKind::Postgres);
}

#[test]
fn mysql_matches_the_model() {
    run(BackendKind::Mysql);
}
