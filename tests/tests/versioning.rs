//! Optimistic locking: `#[kysera(version)]` starts at 1, every update names the version it
//! was made from and adds 1, a stale write changes nothing and is `Error::StaleVersion`, on
//! every write path and backend.
#![allow(missing_docs)]

use kysera::{BackendKind, Error, Upsert};
use kysera_integration_tests::all_backends;

#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(table = "documents")]
#[audited]
pub struct Document {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub slug: String,
    pub body: String,
    #[kysera(version)]
    pub version: i32,
}

fn schema(backend: BackendKind) -> String {
    let id = match backend {
        BackendKind::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        BackendKind::Postgres => "BIGSERIAL PRIMARY KEY",
        BackendKind::Mysql => "BIGINT AUTO_INCREMENT PRIMARY KEY",
    };
    format!(
        "CREATE TABLE documents (id {id}, slug VARCHAR(50) NOT NULL UNIQUE, body TEXT NOT NULL,
            version INTEGER NOT NULL);
         {}",
        kysera::audit::migration_sql(backend)
    )
}

fn new(slug: &str, body: &str) -> NewDocument {
    NewDocument {
        slug: slug.into(),
        body: body.into(),
    }
}

fn edit(body: &str, from: i32) -> DocumentUpdate {
    DocumentUpdate {
        body: Some(body.into()),
        version: Some(from),
        ..Default::default()
    }
}

fn is_stale(result: &kysera::Result<impl std::fmt::Debug>, key: &str, expected: i64) -> bool {
    matches!(result, Err(Error::StaleVersion { table, key: k, expected: e }) if table == "documents" && k == key && *e == expected)
}

all_backends! {
    fn updates_check_and_increment_the_version(db: &TestDb) {
        let conn = db.conn();
        let docs = conn.repo::<Document>();
        let doc = docs.create(&new("a", "first")).unwrap();
        assert_eq!(doc.version, 1, "a new row starts at version 1");

        let edited = docs.update(doc.id, &edit("second", 1)).unwrap();
        assert_eq!((edited.body.as_str(), edited.version), ("second", 2));

        // A writer that read version 1 is too late: nothing changes.
        let stale = docs.update(doc.id, &edit("lost update", 1));
        assert!(is_stale(&stale, &doc.id.to_string(), 1), "{stale:?}");
        assert_eq!(docs.get(doc.id).unwrap(), edited);
        assert_eq!(stale.unwrap_err().code(), "stale_version");

        // The version is required; a missing row is still NotFound.
        let unversioned = docs.update(doc.id, &DocumentUpdate { body: Some("x".into()), ..Default::default() });
        assert!(matches!(&unversioned, Err(Error::InvalidArgument(m)) if m.contains("version")), "{unversioned:?}");
        assert!(matches!(docs.update(9_999, &edit("x", 1)), Err(Error::NotFound { .. })));

        // A guard that fails is None, not a stale version; a stale version under a holding
        // guard is StaleVersion.
        use diesel::ExpressionMethods;
        let guarded = docs.update_if(doc.id, documents::body.eq("not the body"), &edit("x", 2)).unwrap();
        assert_eq!(guarded, None);
        let stale_guarded = docs.update_if(doc.id, documents::body.eq("second"), &edit("x", 1));
        assert!(is_stale(&stale_guarded, &doc.id.to_string(), 1), "{stale_guarded:?}");

        // Only the update that happened is audited.
        assert_eq!(docs.audit_history(doc.id).unwrap().len(), 2);

        // update_many: one stale row rolls back the others.
        let other = docs.create(&new("b", "b")).unwrap();
        docs.update(other.id, &edit("b2", 1)).unwrap();
        let many = docs.update_many(&[doc.id, other.id], &edit("both", 2));
        assert!(matches!(many, Ok(ref rows) if rows.len() == 2), "both at version 2: {many:?}");
        let many = docs.update_many(&[doc.id, other.id], &edit("again", 3));
        assert!(many.is_ok());
        docs.update(other.id, &edit("moved on", 4)).unwrap();
        let mixed = docs.update_many(&[doc.id, other.id], &edit("never", 4));
        assert!(is_stale(&mixed, &other.id.to_string(), 4), "{mixed:?}");
        assert_eq!(docs.get(doc.id).unwrap().body, "again", "rolled back with the stale row");
    }

    fn bulk_update_and_upsert_keep_counting(db: &TestDb) {
        let conn = db.conn();
        let docs = conn.repo::<Document>();
        let a = docs.create(&new("a", "a")).unwrap();
        let b = docs.create(&new("b", "b")).unwrap();
        let done = docs.bulk_update(&[(a.id, edit("a2", 1)), (b.id, edit("b2", 1))]).unwrap();
        assert_eq!(done.iter().map(|d| (d.body.as_str(), d.version)).collect::<Vec<_>>(), [("a2", 2), ("b2", 2)]);
        let stale = docs.bulk_update(&[(a.id, edit("a3", 2)), (b.id, edit("b3", 1))]);
        assert!(is_stale(&stale, &b.id.to_string(), 1), "{stale:?}");
        assert_eq!(docs.get(a.id).unwrap().body, "a2", "nothing written");

        // An upsert inserts at 1 and adds 1 when it updates.
        let on_slug = Upsert::on(["slug"]);
        let inserted = docs.upsert(&new("c", "c"), &on_slug).unwrap();
        assert!(inserted.inserted && inserted.row.version == 1);
        let updated = docs.upsert(&new("a", "a by upsert"), &on_slug).unwrap();
        assert!(!updated.inserted);
        assert_eq!((updated.row.body.as_str(), updated.row.version), ("a by upsert", 3));
    }

    fn of_two_writers_from_one_version_one_wins(db: &TestDb) {
        let doc = db.conn().repo::<Document>().create(&new("race", "v1")).unwrap();
        let outcomes: Vec<kysera::Result<Document>> = std::thread::scope(|s| {
            let writers: Vec<_> = (0..6)
                .map(|i| {
                    let pool = db.db.clone();
                    s.spawn(move || loop {
                        let conn = pool.conn().unwrap();
                        match conn.repo::<Document>().update(doc.id, &edit(&format!("writer {i}"), 1)) {
                            // SQLite refuses a concurrent writer with a transient Busy.
                            Err(e) if e.is_transient() => continue,
                            other => break other,
                        }
                    })
                })
                .collect();
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let winners: Vec<&Document> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        assert!(outcomes.iter().filter(|o| o.is_err()).all(|o| is_stale(o, &doc.id.to_string(), 1)), "{outcomes:?}");
        assert_eq!(db.conn().repo::<Document>().get(doc.id).unwrap(), *winners[0]);
        assert_eq!(winners[0].version, 2);
    }
}
