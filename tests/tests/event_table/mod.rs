//! The `events` table the streaming tests walk, and a server-side generator of its rows.

use chrono::NaiveDateTime;
use kysera::{BackendKind, Repository};
use kysera_integration_tests::TestDb;

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "events")]
#[soft_delete]
pub struct Event {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub deleted_at: Option<NaiveDateTime>,
}

pub fn schema(backend: BackendKind) -> String {
    let (id, ts) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP"),
        BackendKind::Mysql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)"),
    };
    format!(
        "CREATE TABLE events (id {id}, kind VARCHAR(10) NOT NULL, payload VARCHAR(200) NOT NULL,
            deleted_at {ts} NULL);
         CREATE TABLE digits (d INTEGER NOT NULL);
         INSERT INTO digits (d) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);"
    )
}

/// Inserts `n` events (n ≤ 1,000,000) on the server: kinds alternate click/view, keys 1..=n.
pub fn generate(db: &TestDb, n: usize) {
    let number = "a.d + 10 * b.d + 100 * c.d + 1000 * d.d + 10000 * e.d + 100000 * f.d";
    db.conn()
        .batch_execute(&format!(
            "INSERT INTO events (kind, payload, deleted_at)
             SELECT CASE WHEN ({number}) % 2 = 0 THEN 'view' ELSE 'click' END,
                    'an event payload of some eighty bytes, as a log line or a small JSON document would be',
                    NULL
             FROM digits a, digits b, digits c, digits d, digits e, digits f
             WHERE {number} < {n}
             ORDER BY {number}"
        ))
        .expect("generated rows");
}
