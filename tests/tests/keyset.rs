//! Keyset pagination on every backend: orderings, NULL placement, edges, scope, cursors that
//! must be refused, the SQL form per backend and the index it uses.
#![allow(missing_docs)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use kysera::pagination::{CursorError, CursorKey, CursorPage, CursorRequest, Keyset};
use kysera::{BackendKind, Error, Repository};
use kysera_integration_tests::{all_backends, StatementLog, TestDb};
use sha2::{Digest, Sha256};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "entries")]
#[soft_delete]
pub struct Entry {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub score: i32,
    pub bonus: Option<i64>,
    pub seen_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// A second table with a column of the same name, for cursors crossing tables.
#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "others")]
pub struct Other {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
}

fn schema(backend: BackendKind) -> String {
    let (id, text, ts) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "TIMESTAMP"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TEXT", "TIMESTAMP"),
        BackendKind::Mysql => (
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "VARCHAR(64)",
            "DATETIME(6)",
        ),
    };
    // PostgreSQL sorts NULL last by default: the index matches kysera's NULLS FIRST.
    let bonus_index = if backend == BackendKind::Postgres {
        "CREATE INDEX entries_bonus_id ON entries (bonus NULLS FIRST, id)"
    } else {
        "CREATE INDEX entries_bonus_id ON entries (bonus, id)"
    };
    format!(
        "CREATE TABLE entries (id {id}, name {text} NOT NULL, score INTEGER NOT NULL, bonus BIGINT NULL, \
         seen_at {ts} NOT NULL, deleted_at {ts} NULL);
         CREATE INDEX entries_score_id ON entries (score, id);
         {bonus_index};
         CREATE TABLE others (id {id}, name {text} NOT NULL);"
    )
}

fn at(hours: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 1)
        .unwrap()
        .and_hms_micro_opt(hours, 0, 0, 250_000)
        .unwrap()
}

/// Seven rows with repeated scores, NULL bonuses and repeated timestamps; ids 1..=7.
fn seed(db: &TestDb) {
    let rows = [
        ("ada", 3, Some(10), at(1)),
        ("bob", 1, None, at(0)),
        ("cy", 3, Some(5), at(2)),
        ("dee", 2, None, at(1)),
        ("eve", 3, None, at(3)),
        ("fay", 1, Some(10), at(2)),
        ("gus", 2, Some(7), at(0)),
    ];
    let new: Vec<NewEntry> = rows
        .iter()
        .map(|(name, score, bonus, seen_at)| NewEntry {
            name: name.to_string(),
            score: *score,
            bonus: *bonus,
            seen_at: *seen_at,
        })
        .collect();
    let created = db.conn().repo::<Entry>().create_many(&new).unwrap();
    assert_eq!(
        created.iter().map(|e| e.id).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
}

fn ids<T: HasId>(page: &CursorPage<T>) -> Vec<i64> {
    page.items.iter().map(HasId::key).collect()
}

trait HasId {
    fn key(&self) -> i64;
}
impl HasId for Entry {
    fn key(&self) -> i64 {
        self.id
    }
}

/// Every page from the first, following next cursors; checks the flags on the way.
fn walk_forward(repo: &EntryRepository<'_>, keyset: &Keyset, limit: u64) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut page = repo
        .keyset_page(keyset, &CursorRequest::first(limit))
        .unwrap();
    assert!(
        !page.has_prev && page.prev_cursor.is_none(),
        "first page has nothing before it"
    );
    loop {
        assert_eq!(page.next_cursor.is_some(), page.has_next);
        assert_eq!(page.prev_cursor.is_some(), page.has_prev);
        pages.push(ids(&page));
        let Some(next) = page.next_cursor.clone() else {
            break;
        };
        assert!(pages.len() < 50, "the walk does not end");
        page = repo
            .keyset_page(keyset, &CursorRequest::after(next, limit))
            .unwrap();
        assert!(page.has_prev);
    }
    pages
}

/// Every page from the last, following previous cursors; pages in table order.
fn walk_backward(repo: &EntryRepository<'_>, keyset: &Keyset, limit: u64) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut page = repo
        .keyset_page(keyset, &CursorRequest::last(limit))
        .unwrap();
    assert!(
        !page.has_next && page.next_cursor.is_none(),
        "last page has nothing after it"
    );
    loop {
        assert_eq!(page.next_cursor.is_some(), page.has_next);
        assert_eq!(page.prev_cursor.is_some(), page.has_prev);
        pages.insert(0, ids(&page));
        let Some(prev) = page.prev_cursor.clone() else {
            break;
        };
        assert!(pages.len() < 50, "the walk does not end");
        page = repo
            .keyset_page(keyset, &CursorRequest::before(prev, limit))
            .unwrap();
        assert!(page.has_next);
    }
    pages
}

fn invalid_cursor(result: kysera::Result<CursorPage<Entry>>) -> CursorError {
    match result {
        Err(Error::InvalidCursor { reason }) => reason,
        other => panic!("expected an invalid cursor, got {other:?}"),
    }
}

/// A change to a cursor's JSON payload.
type PayloadEdit = dyn Fn(&mut serde_json::Value);

/// Re-encodes a cursor's payload after `edit`, with a fresh (unsigned) checksum: what a
/// client can forge when cursors are not signed.
fn forge(token: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let bytes = URL_SAFE_NO_PAD.decode(token).unwrap();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&bytes[1..bytes.len() - 32]).unwrap();
    edit(&mut payload);
    let mut out = vec![bytes[0]];
    out.extend_from_slice(&serde_json::to_vec(&payload).unwrap());
    let tag = Sha256::digest(&out);
    out.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(out)
}

/// `EXPLAIN` (PostgreSQL, MySQL) or `EXPLAIN QUERY PLAN` (SQLite) in front of a query, with
/// the query's own binds.
mod explain {
    use diesel::backend::Backend;
    use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
    use diesel::sql_types::{Nullable, Text, Untyped};
    use diesel::{QueryResult, QueryableByName, RunQueryDsl};
    use kysera::{AnyConnection, BackendKind, Conn};

    pub struct Explain<Q>(pub Q);

    impl<Q> QueryId for Explain<Q> {
        type QueryId = ();
        const HAS_STATIC_QUERY_ID: bool = false;
    }
    impl<Q> Query for Explain<Q> {
        type SqlType = Untyped;
    }
    impl<Q, C> RunQueryDsl<C> for Explain<Q> {}
    impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Explain<Q> {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
            let sqlite = std::any::type_name::<DB>().contains("Sqlite");
            out.push_sql(if sqlite {
                "EXPLAIN QUERY PLAN "
            } else {
                "EXPLAIN "
            });
            self.0.walk_ast(out.reborrow())
        }
    }

    #[derive(QueryableByName)]
    struct SqliteLine {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    #[derive(QueryableByName)]
    struct PgLine {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    #[derive(QueryableByName)]
    struct MysqlLine {
        #[diesel(sql_type = Nullable<Text>, column_name = "type")]
        access: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        key: Option<String>,
        #[diesel(sql_type = Nullable<Text>, column_name = "Extra")]
        extra: Option<String>,
    }

    /// The plan of `query` as text lines (MySQL: `type=… key=… extra=…` per table).
    pub fn plan<Q>(conn: &Conn, query: Q) -> Vec<String>
    where
        Q: QueryFragment<diesel::sqlite::Sqlite>
            + QueryFragment<diesel::pg::Pg>
            + QueryFragment<diesel::mysql::Mysql>,
    {
        let query = Explain(query);
        conn.with_connection(|c| match c {
            AnyConnection::Sqlite(c) => query
                .load::<SqliteLine>(c)
                .map(|rows| rows.into_iter().map(|r| r.detail).collect()),
            AnyConnection::Postgres(c) => query
                .load::<PgLine>(c)
                .map(|rows| rows.into_iter().map(|r| r.line).collect()),
            AnyConnection::Mysql(c) => query.load::<MysqlLine>(c).map(|rows| {
                rows.into_iter()
                    .map(|r| {
                        format!(
                            "type={} key={} extra={}",
                            r.access.unwrap_or_default(),
                            r.key.unwrap_or_default(),
                            r.extra.unwrap_or_default()
                        )
                    })
                    .collect()
            }),
            _ => unreachable!("every backend is enabled in the tests"),
        })
        .unwrap()
        .unwrap()
    }

    /// True when `plan` reads rows in `index` order, without sorting them.
    pub fn reads_index_in_order(backend: BackendKind, plan: &[String], index: &str) -> bool {
        let text = plan.join("\n");
        match backend {
            BackendKind::Sqlite => {
                text.contains(&format!("INDEX {index}")) && !text.contains("TEMP B-TREE")
            }
            BackendKind::Postgres => {
                text.contains(&format!("using {index}")) && !text.contains("Sort")
            }
            BackendKind::Mysql => {
                text.contains(&format!("key={index}")) && !text.contains("filesort")
            }
        }
    }

    /// True when `plan` reads `index` as a range (not from its start) and sorts nothing.
    pub fn uses_index_range(backend: BackendKind, plan: &[String], index: &str) -> bool {
        let text = plan.join("\n");
        match backend {
            BackendKind::Sqlite => {
                plan.iter()
                    .any(|l| l.starts_with("SEARCH") && l.contains(index))
                    && !text.contains("TEMP B-TREE")
            }
            BackendKind::Postgres => {
                text.contains(&format!("using {index}"))
                    && text.contains("Index Cond")
                    && !text.contains("Sort")
            }
            BackendKind::Mysql => {
                text.contains("type=range")
                    && text.contains(&format!("key={index}"))
                    && !text.contains("filesort")
            }
        }
    }
}

/// 5,000 rows: 50 scores, a NULL bonus in every seventh row.
fn seed_many(db: &TestDb) {
    let values: Vec<String> = (0..5_000)
        .map(|i| {
            let bonus = if i % 7 == 0 {
                "NULL".to_string()
            } else {
                (i % 30).to_string()
            };
            format!("('n{i}', {}, {bonus}, '2026-03-01 00:00:00')", i % 50)
        })
        .collect();
    let conn = db.conn();
    conn.batch_execute(&format!(
        "INSERT INTO entries (name, score, bonus, seen_at) VALUES {}",
        values.join(", ")
    ))
    .unwrap();
    match db.backend() {
        BackendKind::Sqlite => conn.batch_execute("ANALYZE").unwrap(),
        BackendKind::Postgres => conn.batch_execute("ANALYZE entries").unwrap(),
        // InnoDB keeps its statistics up to date by itself.
        BackendKind::Mysql => {}
    }
}

all_backends! {
    fn mixed_directions_walk_forward_and_back(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        // score DESC, name ASC, then id ASC (the last column's direction).
        let keyset = Keyset::new().desc("score").asc("name");
        assert_eq!(walk_forward(&entries, &keyset, 3), vec![vec![1, 3, 5], vec![4, 7, 2], vec![6]]);
        assert_eq!(walk_backward(&entries, &keyset, 3), vec![vec![1], vec![3, 5, 4], vec![7, 2, 6]]);
        // Ties on every order column fall back to the key, descending like the last column.
        let keyset = Keyset::new().desc("score");
        assert_eq!(walk_forward(&entries, &keyset, 2), vec![vec![5, 3], vec![1, 7], vec![4, 6], vec![2]]);
        assert_eq!(walk_backward(&entries, &keyset, 2), vec![vec![5], vec![3, 1], vec![7, 4], vec![6, 2]]);
        // The key given explicitly in the middle is not appended again.
        let keyset = Keyset::new().asc("score").desc("id").asc("name");
        assert_eq!(walk_forward(&entries, &keyset, 4), vec![vec![6, 2, 7, 4], vec![5, 3, 1]]);
    }

    fn nulls_sort_first_ascending_and_last_descending(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        let up = Keyset::new().asc("bonus");
        assert_eq!(walk_forward(&entries, &up, 2), vec![vec![2, 4], vec![5, 3], vec![7, 1], vec![6]]);
        assert_eq!(walk_backward(&entries, &up, 2), vec![vec![2], vec![4, 5], vec![3, 7], vec![1, 6]]);
        let down = Keyset::new().desc("bonus");
        assert_eq!(walk_forward(&entries, &down, 2), vec![vec![6, 1], vec![7, 3], vec![5, 4], vec![2]]);
        assert_eq!(walk_backward(&entries, &down, 2), vec![vec![6], vec![1, 7], vec![3, 5], vec![4, 2]]);
        // A NULL first column with more columns after it.
        let keyset = Keyset::new().desc("bonus").asc("score");
        assert_eq!(walk_forward(&entries, &keyset, 3), vec![vec![6, 1, 7], vec![3, 2, 4], vec![5]]);
    }

    fn timestamps_order_with_their_own_type(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        // PostgreSQL refuses `timestamp < text`: the cursor value is bound as a timestamp.
        let keyset = Keyset::new().desc("seen_at");
        assert_eq!(walk_forward(&entries, &keyset, 2), vec![vec![5, 6], vec![3, 4], vec![1, 7], vec![2]]);
        let keyset = Keyset::new().asc("seen_at").desc("name");
        assert_eq!(walk_forward(&entries, &keyset, 3), vec![vec![7, 2, 4], vec![1, 6, 3], vec![5]]);
        assert_eq!(walk_backward(&entries, &keyset, 3), vec![vec![7], vec![2, 4, 1], vec![6, 3, 5]]);
    }

    fn flags_and_cursors_at_the_edges(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        let keyset = Keyset::new().asc("name");
        // Exactly one full page: nothing before, nothing after.
        let all = entries.keyset_page(&keyset, &CursorRequest::first(7)).unwrap();
        assert_eq!((all.items.len(), all.has_next, all.has_prev), (7, false, false));
        assert_eq!((all.next_cursor, all.prev_cursor), (None, None));
        let all = entries.keyset_page(&keyset, &CursorRequest::last(7)).unwrap();
        assert_eq!((ids(&all), all.has_next, all.has_prev), ((1..=7).collect(), false, false));
        // Pages that end exactly at the last row: the last one says so without an empty page.
        entries.soft_delete(7).unwrap();
        assert_eq!(walk_forward(&entries, &keyset, 3), vec![vec![1, 2, 3], vec![4, 5, 6]]);
        assert_eq!(walk_backward(&entries, &keyset, 3), vec![vec![1, 2, 3], vec![4, 5, 6]]);
        // Rows removed behind a cursor: an empty page that can still go back to the rows
        // up to and including the cursor's row.
        let first = entries.keyset_page(&keyset, &CursorRequest::first(2)).unwrap();
        entries.hard_delete_many(&[3, 4, 5, 6]).unwrap();
        let empty = entries
            .keyset_page(&keyset, &CursorRequest::after(first.next_cursor.unwrap(), 2))
            .unwrap();
        assert!(empty.items.is_empty() && !empty.has_next && empty.has_prev);
        let back = entries
            .keyset_page(&keyset, &CursorRequest::before(empty.prev_cursor.unwrap(), 2))
            .unwrap();
        assert_eq!((ids(&back), back.has_prev, back.has_next), (vec![1, 2], false, true));
        // `resume` follows whichever direction the cursor was made for.
        let resumed = entries
            .keyset_page(&keyset, &CursorRequest::resume(back.next_cursor.unwrap(), 2))
            .unwrap();
        assert!(resumed.items.is_empty() && resumed.has_prev);
    }

    fn an_empty_table_has_one_empty_page(db: &TestDb) {
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        for request in [CursorRequest::first(5), CursorRequest::last(5)] {
            let page = entries.keyset_page(&Keyset::new().desc("score"), &request).unwrap();
            assert_eq!(page, CursorPage { items: vec![], next_cursor: None, prev_cursor: None, has_next: false, has_prev: false });
        }
    }

    fn soft_deleted_rows_are_left_out(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        entries.soft_delete_many(&[3, 4]).unwrap();
        let keyset = Keyset::new().desc("score").asc("name");
        assert_eq!(walk_forward(&entries, &keyset, 2), vec![vec![1, 5], vec![7, 2], vec![6]]);
        assert_eq!(walk_backward(&entries, &keyset, 2), vec![vec![1], vec![5, 7], vec![2, 6]]);
        let with_deleted = entries.with_deleted();
        let page = with_deleted.keyset_page(&keyset, &CursorRequest::first(10)).unwrap();
        assert_eq!(ids(&page), vec![1, 3, 5, 4, 7, 2, 6]);
        let only = entries.only_deleted().keyset_page(&keyset, &CursorRequest::first(10)).unwrap();
        assert_eq!(ids(&only), vec![3, 4]);
    }

    fn pages_any_diesel_query_of_the_table(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        entries.soft_delete(1).unwrap();
        let keyset = Keyset::new().desc("seen_at");
        // The repository's query keeps its scope (row 1 is soft-deleted) and adds a filter.
        let scoped = entries.query().filter(entries::score.ge(2));
        let page = entries.keyset_page_of(scoped, &keyset, &CursorRequest::first(2)).unwrap();
        assert_eq!(ids(&page), vec![5, 3]);
        let scoped = entries.query().filter(entries::score.ge(2));
        let page = entries
            .keyset_page_of(scoped, &keyset, &CursorRequest::after(page.next_cursor.unwrap(), 2))
            .unwrap();
        assert_eq!((ids(&page), page.has_next), (vec![4, 7], false));
        // A plain Diesel query of the table sees every row; its own ORDER BY is replaced.
        let plain = entries::table.filter(entries::score.ge(2)).order(entries::name.desc());
        let page = entries.keyset_page_of(plain, &keyset, &CursorRequest::first(10)).unwrap();
        assert_eq!(ids(&page), vec![5, 3, 4, 1, 7]);
    }

    fn damaged_cursors_are_typed_errors(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        let keyset = Keyset::new().desc("score").asc("name");
        let next = entries.keyset_page(&keyset, &CursorRequest::first(2)).unwrap().next_cursor.unwrap();
        let after = |token: &str| entries.keyset_page(&keyset, &CursorRequest::after(token, 2));
        assert_eq!(invalid_cursor(after("not a cursor!")), CursorError::Encoding);
        assert_eq!(invalid_cursor(after("")), CursorError::Truncated);
        assert_eq!(invalid_cursor(after(&next[..20])), CursorError::Truncated);
        for cut in [next.len() - 1, next.len() - 2, next.len() - 5, next.len() / 2] {
            assert!(matches!(after(&next[..cut]), Err(Error::InvalidCursor { .. })), "cut at {cut}");
        }
        // Changing any character is caught by the checksum (or breaks the encoding).
        for i in 0..next.len() {
            let mut bytes = next.clone().into_bytes();
            bytes[i] = if bytes[i] == b'x' { b'y' } else { b'x' };
            let damaged = String::from_utf8(bytes).unwrap();
            assert!(matches!(after(&damaged), Err(Error::InvalidCursor { .. })), "change at {i}");
        }
        // A previous-page cursor is not a next-page cursor.
        let page = entries.keyset_page(&keyset, &CursorRequest::after(next.clone(), 2)).unwrap();
        let prev = page.prev_cursor.unwrap();
        assert!(matches!(invalid_cursor(after(&prev)), CursorError::Direction { .. }));
        assert!(matches!(
            invalid_cursor(entries.keyset_page(&keyset, &CursorRequest::before(next, 2))),
            CursorError::Direction { .. }
        ));
        assert_eq!(Error::InvalidCursor { reason: CursorError::Tag }.code(), "invalid_cursor");
    }

    fn cursors_of_another_ordering_or_table_are_refused(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        let by_name = Keyset::new().asc("name");
        let next = entries.keyset_page(&by_name, &CursorRequest::first(2)).unwrap().next_cursor.unwrap();
        for other in [Keyset::new().desc("name"), Keyset::new().asc("score"), Keyset::new().asc("name").asc("score")] {
            assert_eq!(
                invalid_cursor(entries.keyset_page(&other, &CursorRequest::after(next.clone(), 2))),
                CursorError::Ordering
            );
        }
        let others = conn.repo::<Other>();
        match others.keyset_page(&by_name, &CursorRequest::after(next, 2)) {
            Err(Error::InvalidCursor { reason: CursorError::Ordering }) => {}
            other => panic!("a cursor of another table was accepted: {other:?}"),
        }
    }

    fn signed_cursors_refuse_other_keys_and_forgeries(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        let key = CursorKey::new(b"the service's secret key").unwrap();
        let signed = Keyset::new().asc("name").signed(key);
        let page = entries.keyset_page(&signed, &CursorRequest::first(2)).unwrap();
        let next = page.next_cursor.unwrap();
        let ok = entries.keyset_page(&signed, &CursorRequest::after(next.clone(), 2)).unwrap();
        assert_eq!(ids(&ok), vec![3, 4]);
        let wrong_key = Keyset::new().asc("name").signed(CursorKey::new(b"another secret key!").unwrap());
        assert_eq!(invalid_cursor(entries.keyset_page(&wrong_key, &CursorRequest::after(next.clone(), 2))), CursorError::Tag);
        let unsigned = Keyset::new().asc("name");
        assert_eq!(invalid_cursor(entries.keyset_page(&unsigned, &CursorRequest::after(next, 2))), CursorError::Tag);
        // A position forged with a valid checksum: accepted unsigned, refused signed.
        let unsigned_next = entries.keyset_page(&unsigned, &CursorRequest::first(2)).unwrap().next_cursor.unwrap();
        let forged = forge(&unsigned_next, |p| p["k"][0] = serde_json::json!(["t", "eve"]));
        let page = entries.keyset_page(&unsigned, &CursorRequest::after(forged.clone(), 2)).unwrap();
        assert_eq!(ids(&page), vec![5, 6]);
        assert_eq!(invalid_cursor(entries.keyset_page(&signed, &CursorRequest::after(forged, 2))), CursorError::Tag);
    }

    fn forged_values_are_checked_against_their_columns(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        let keyset = Keyset::new().desc("seen_at").asc("bonus");
        let next = entries.keyset_page(&keyset, &CursorRequest::first(2)).unwrap().next_cursor.unwrap();
        let after = |token: String| invalid_cursor(entries.keyset_page(&keyset, &CursorRequest::after(token, 2)));
        // Text where a timestamp belongs, NULL in a NOT NULL column, a bad timestamp,
        // an integer out of range, too few values, an unknown field.
        let cases: Vec<(&str, Box<PayloadEdit>)> = vec![
            ("seen_at", Box::new(|p| p["k"][0] = serde_json::json!(["t", "2026-03-01"]))),
            ("seen_at", Box::new(|p| p["k"][0] = serde_json::Value::Null)),
            ("seen_at", Box::new(|p| p["k"][0] = serde_json::json!(["ts", "yesterday"]))),
            ("id", Box::new(|p| p["k"][2] = serde_json::json!(["i8", 1e30]))),
        ];
        for (column, edit) in cases {
            match after(forge(&next, edit)) {
                CursorError::Value { column: c, .. } => assert_eq!(c, column),
                other => panic!("expected a value error on {column}, got {other:?}"),
            }
        }
        assert!(matches!(after(forge(&next, |p| { p["k"].as_array_mut().unwrap().pop(); })), CursorError::Payload(_)));
        assert!(matches!(after(forge(&next, |p| p["x"] = serde_json::json!(1))), CursorError::Payload(_)));
        // NULL is a valid position in the nullable column.
        let null_bonus = forge(&next, |p| p["k"][1] = serde_json::Value::Null);
        assert!(entries.keyset_page(&keyset, &CursorRequest::after(null_bonus, 2)).is_ok());
    }

    fn unknown_columns_and_bad_limits_are_refused(db: &TestDb) {
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        match entries.keyset_page(&Keyset::new().asc("nmae"), &CursorRequest::first(5)) {
            Err(Error::InvalidArgument(message)) => {
                assert!(message.contains("`nmae`"), "{message}");
                assert!(message.contains("id, name, score, bonus, seen_at, deleted_at"), "{message}");
            }
            other => panic!("expected an unknown column error, got {other:?}"),
        }
        assert!(matches!(
            entries.keyset_page(&Keyset::new().asc("name").desc("name"), &CursorRequest::first(5)),
            Err(Error::InvalidArgument(m)) if m.contains("twice")
        ));
        for limit in [0, CursorRequest::MAX_LIMIT + 1] {
            assert!(matches!(
                entries.keyset_page(&Keyset::new(), &CursorRequest::first(limit)),
                Err(Error::InvalidArgument(m)) if m.contains("page limit")
            ));
        }
        assert!(entries.keyset_page(&Keyset::new(), &CursorRequest::first(CursorRequest::MAX_LIMIT)).is_ok());
    }

    fn predicate_form_follows_the_backend(db: &TestDb) {
        seed(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        let log = StatementLog::attach(&conn);
        let sql_of = |keyset: &Keyset| {
            let first = entries.keyset_page(keyset, &CursorRequest::first(2)).unwrap();
            log.take();
            entries.keyset_page(keyset, &CursorRequest::after(first.next_cursor.unwrap(), 2)).unwrap();
            log.take_data_statements().join("\n")
        };
        // Diesel quotes with backticks on SQLite and MySQL.
        let (q, row_values) = match db.backend() {
            BackendKind::Sqlite => ('`', true),
            BackendKind::Postgres => ('"', true),
            BackendKind::Mysql => ('`', false),
        };
        let col = |c: &str| format!("{q}entries{q}.{q}{c}{q}");
        // Every direction agrees, nothing nullable: a row value where the index serves it.
        let sql = sql_of(&Keyset::new().desc("score"));
        let row = format!("({}, {}) < (", col("score"), col("id"));
        assert_eq!(sql.contains(&row), row_values, "{sql}");
        assert_eq!(sql.contains(&format!("{} <= ", col("score"))), !row_values, "{sql}");
        // Mixed directions: expanded, led by a bound on the first column.
        let sql = sql_of(&Keyset::new().desc("score").asc("name"));
        assert!(sql.contains(&format!("{} <= ", col("score"))), "{sql}");
        assert!(!sql.contains(") < ("), "{sql}");
        // Nullable: expanded; PostgreSQL spells out the NULL placement.
        let sql = sql_of(&Keyset::new().asc("bonus"));
        assert!(sql.contains(&format!("{} IS NOT NULL", col("bonus"))) || sql.contains(&format!("{} >= ", col("bonus"))), "{sql}");
        assert_eq!(sql.contains("NULLS FIRST"), db.backend() == BackendKind::Postgres, "{sql}");
    }

    fn keyset_queries_use_the_index(db: &TestDb) {
        seed_many(db);
        let conn = db.conn();
        let entries = conn.repo::<Entry>();
        let backend = db.backend();
        // (ordering, index, read backwards, range scan expected)
        let cases = [
            // Row values on SQLite and PostgreSQL, expanded on MySQL: a range either way.
            (Keyset::new().desc("score"), "entries_score_id", false, true),
            (Keyset::new().desc("score"), "entries_score_id", true, true),
            // Nullable: expanded everywhere, `NULLS FIRST` on PostgreSQL, led by `bonus >= ?`.
            (Keyset::new().asc("bonus"), "entries_bonus_id", false, true),
            // Backwards past a non-NULL value, the NULL rows still follow: no single range on
            // SQLite and PostgreSQL (an ordered index scan with a filter); MySQL ranges it.
            (Keyset::new().asc("bonus"), "entries_bonus_id", true, backend == BackendKind::Mysql),
        ];
        for (keyset, index, backward, range) in cases {
            // A position in the middle of the table, on a row with a bonus.
            let middle = entries.keyset_page(&keyset, &CursorRequest::first(2_600)).unwrap();
            assert!(middle.items.last().unwrap().bonus.is_some());
            let next = middle.next_cursor.unwrap();
            let request = if backward {
                let following = entries.keyset_page(&keyset, &CursorRequest::after(next, 20)).unwrap();
                CursorRequest::before(following.prev_cursor.unwrap(), 20)
            } else {
                CursorRequest::after(next, 20)
            };
            let plan = keyset.plan::<Entry>(&request).unwrap();
            assert_eq!(plan.is_backward(), backward);
            let query = entries::table.filter(plan.filter()).order(plan.order()).limit(plan.fetch_limit());
            let lines = explain::plan(&conn, query);
            println!("{backend} {:?} backward={backward}:\n  {}", keyset.columns().collect::<Vec<_>>(), lines.join("\n  "));
            assert!(explain::reads_index_in_order(backend, &lines, index), "{lines:#?}");
            assert_eq!(explain::uses_index_range(backend, &lines, index), range, "{lines:#?}");
        }
    }
}
