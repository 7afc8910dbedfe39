// All three behaviours with their columns renamed through the options (bare and
// `#[kysera(...)]` spellings mixed), run on in-memory SQLite.

use chrono::NaiveDateTime;
use kysera::prelude::*;
use kysera::{BackendKind, Operation};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "members")]
#[timestamps(created_at = "inserted_at", updated_at = "modified_at", updated_on_insert = false)]
#[kysera(soft_delete(column = "removed_at"))]
#[audited(exclude(notes), redact(password))]
pub struct Member {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub password: String,
    pub notes: Option<String>,
    pub inserted_at: NaiveDateTime,
    pub modified_at: Option<NaiveDateTime>,
    pub removed_at: Option<NaiveDateTime>,
}

fn main() -> kysera::Result<()> {
    let db = Database::connect("sqlite::memory:")?;
    let conn = db.conn()?;
    conn.batch_execute(
        "CREATE TABLE members (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            password TEXT NOT NULL,
            notes TEXT,
            inserted_at TIMESTAMP NOT NULL,
            modified_at TIMESTAMP,
            removed_at TIMESTAMP
        )",
    )?;
    conn.batch_execute(kysera::audit::migration_sql(BackendKind::Sqlite))?;
    let members = conn.repo::<Member>();

    // The managed timestamps are optional in the Create struct; the deleted-at column is absent.
    let ada = members.create(&NewMember {
        name: "ada".into(),
        password: "hunter2".into(),
        notes: Some("private".into()),
        inserted_at: None,
        modified_at: None,
    })?;
    assert_eq!(ada.modified_at, None, "updated_on_insert = false leaves it empty");
    assert_eq!(ada.removed_at, None);

    let removed = members.soft_delete(ada.id)?;
    assert!(removed.removed_at.is_some());
    assert!(removed.modified_at.is_some(), "a soft delete is a write");
    assert_eq!(removed.inserted_at, ada.inserted_at);

    assert_eq!(members.count()?, 0);
    assert_eq!(members.find_by_id(ada.id)?, None);
    assert_eq!(members.clone().with_deleted().count()?, 1);

    let history = members.audit_history(ada.id)?;
    assert_eq!(history.len(), 2);
    let ops: Vec<Operation> = history.iter().map(|e| e.operation().unwrap()).collect();
    assert_eq!(ops, [Operation::Insert, Operation::SoftDelete]);
    let inserted = history[0].new_values.as_deref().expect("values are recorded");
    assert!(inserted.contains("[REDACTED]"), "{inserted}");
    assert!(!inserted.contains("hunter2"), "{inserted}");
    assert!(!inserted.contains("notes"), "{inserted}");
    Ok(())
}
