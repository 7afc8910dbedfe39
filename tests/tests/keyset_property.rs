//! Keyset pagination against the truth, on every backend: for random rows (duplicates and
//! NULLs included), random orderings of one to three columns in random directions and random
//! page sizes, the pages walked forwards with next cursors, and backwards from the end with
//! previous cursors, concatenate to the full ordered scan. The scan is computed in memory with
//! the documented NULL placement (smaller than every value) and checked against one
//! `ORDER BY` query on the database.
#![allow(missing_docs)]

use std::cmp::Ordering;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use kysera::pagination::{CursorPage, CursorRequest, Direction, Keyset};
use kysera::{BackendKind, Repository};
use kysera_integration_tests::TestDb;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "prop_rows")]
pub struct PropRow {
    #[kysera(primary_key)]
    pub id: i64,
    pub a: i32,
    pub b: Option<String>,
    pub c: Option<i64>,
    pub d: NaiveDateTime,
}

fn schema(backend: BackendKind) -> String {
    let (text, ts) = match backend {
        BackendKind::Sqlite | BackendKind::Postgres => ("TEXT", "TIMESTAMP"),
        BackendKind::Mysql => ("VARCHAR(8)", "DATETIME(6)"),
    };
    format!(
        "CREATE TABLE prop_rows (id BIGINT PRIMARY KEY, a INTEGER NOT NULL, b {text} NULL, \
         c BIGINT NULL, d {ts} NOT NULL)"
    )
}

/// The order columns a case may pick, and whether they are nullable.
const COLUMNS: [(&str, bool); 5] = [
    ("a", false),
    ("b", true),
    ("c", true),
    ("d", false),
    ("id", false),
];

#[derive(Debug, Clone)]
struct Case {
    /// (a, b, c, d as a step of 1.5 s): few distinct values, so many ties.
    rows: Vec<(i32, Option<String>, Option<i64>, u8)>,
    /// (index into COLUMNS, descending), column indices distinct.
    order: Vec<(usize, bool)>,
    limit: u64,
}

fn case() -> impl Strategy<Value = Case> {
    let row = (
        0..3i32,
        proptest::option::of("[ab]{0,2}"),
        proptest::option::of(0..3i64),
        0..3u8,
    );
    (
        proptest::collection::vec(row, 0..30),
        proptest::collection::vec((0..COLUMNS.len(), any::<bool>()), 1..=3),
        1..7u64,
    )
        .prop_map(|(rows, order, limit)| {
            let mut seen = Vec::new();
            let order = order
                .into_iter()
                .filter(|(c, _)| {
                    let fresh = !seen.contains(c);
                    seen.push(*c);
                    fresh
                })
                .collect();
            Case { rows, order, limit }
        })
}

fn at(step: u8) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 5, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        + TimeDelta::milliseconds(1_500 * i64::from(step))
}

/// One column of a row, NULL as `None`, for the in-memory order.
#[derive(PartialEq, PartialOrd)]
enum Cell<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Time(NaiveDateTime),
}

fn cell<'a>(row: &'a PropRow, column: &str) -> Cell<'a> {
    match column {
        "a" => Cell::Int(Some(i64::from(row.a))),
        "b" => Cell::Text(row.b.as_deref()),
        "c" => Cell::Int(row.c),
        "d" => Cell::Time(row.d),
        _ => Cell::Int(Some(row.id)),
    }
}

/// The order columns with the key appended as kysera documents it: in the last column's
/// direction, unless the key is already there.
fn full_order(case: &Case) -> Vec<(&'static str, bool, bool)> {
    let mut order: Vec<_> = case
        .order
        .iter()
        .map(|&(i, desc)| (COLUMNS[i].0, COLUMNS[i].1, desc))
        .collect();
    if !order.iter().any(|(c, _, _)| *c == "id") {
        let desc = order.last().is_some_and(|(_, _, d)| *d);
        order.push(("id", false, desc));
    }
    order
}

/// The rows in order, NULL smaller than every value (`Option`'s own order).
fn expected(rows: &[PropRow], order: &[(&str, bool, bool)]) -> Vec<i64> {
    let mut sorted: Vec<&PropRow> = rows.iter().collect();
    sorted.sort_by(|x, y| {
        for (column, _, desc) in order {
            let ord = cell(x, column)
                .partial_cmp(&cell(y, column))
                .unwrap_or(Ordering::Equal);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
    sorted.iter().map(|r| r.id).collect()
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The same order as one `ORDER BY` on the database, NULL placement spelled out where the
/// backend's default differs (PostgreSQL).
fn database_scan(db: &TestDb, order: &[(&str, bool, bool)]) -> Vec<i64> {
    let terms: Vec<String> = order
        .iter()
        .map(|(column, nullable, desc)| {
            let nulls = match (db.backend(), nullable, desc) {
                (BackendKind::Postgres, true, false) => " NULLS FIRST",
                (BackendKind::Postgres, true, true) => " NULLS LAST",
                _ => "",
            };
            format!("{column} {}{nulls}", if *desc { "DESC" } else { "ASC" })
        })
        .collect();
    let sql = format!("SELECT id FROM prop_rows ORDER BY {}", terms.join(", "));
    let rows: Vec<IdRow> = db.conn().load(diesel::sql_query(sql)).unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

fn ids(page: &CursorPage<PropRow>) -> Vec<i64> {
    page.items.iter().map(|r| r.id).collect()
}

fn walk_forward(
    repo: &PropRowRepository<'_>,
    keyset: &Keyset,
    limit: u64,
    rows: usize,
) -> Vec<i64> {
    let mut all = Vec::new();
    let mut page = repo
        .keyset_page(keyset, &CursorRequest::first(limit))
        .unwrap();
    assert!(!page.has_prev && page.prev_cursor.is_none());
    for _ in 0..=rows + 1 {
        assert_eq!(page.next_cursor.is_some(), page.has_next);
        assert!(page.items.len() as u64 <= limit);
        assert!(
            !page.has_next || page.items.len() as u64 == limit,
            "a short page before the end"
        );
        all.extend(ids(&page));
        let Some(next) = page.next_cursor.clone() else {
            return all;
        };
        page = repo
            .keyset_page(keyset, &CursorRequest::after(next, limit))
            .unwrap();
        assert!(page.has_prev && page.prev_cursor.is_some());
    }
    panic!("the forward walk does not end");
}

fn walk_backward(
    repo: &PropRowRepository<'_>,
    keyset: &Keyset,
    limit: u64,
    rows: usize,
) -> Vec<i64> {
    let mut pages: Vec<Vec<i64>> = Vec::new();
    let mut page = repo
        .keyset_page(keyset, &CursorRequest::last(limit))
        .unwrap();
    assert!(!page.has_next && page.next_cursor.is_none());
    for _ in 0..=rows + 1 {
        assert_eq!(page.prev_cursor.is_some(), page.has_prev);
        assert!(
            !page.has_prev || page.items.len() as u64 == limit,
            "a short page before the start"
        );
        pages.push(ids(&page));
        let Some(prev) = page.prev_cursor.clone() else {
            return pages.into_iter().rev().flatten().collect();
        };
        page = repo
            .keyset_page(keyset, &CursorRequest::before(prev, limit))
            .unwrap();
        assert!(page.has_next && page.next_cursor.is_some());
    }
    panic!("the backward walk does not end");
}

fn run(backend: BackendKind) {
    let db = TestDb::new(backend, schema(backend));
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&case(), |case| {
            let conn = db.conn();
            conn.batch_execute("DELETE FROM prop_rows").unwrap();
            let repo = conn.repo::<PropRow>();
            let rows: Vec<PropRow> = case
                .rows
                .iter()
                .enumerate()
                .map(|(i, (a, b, c, d))| PropRow {
                    id: i as i64 + 1,
                    a: *a,
                    b: b.clone(),
                    c: *c,
                    d: at(*d),
                })
                .collect();
            if !rows.is_empty() {
                let new: Vec<NewPropRow> = rows
                    .iter()
                    .map(|r| NewPropRow {
                        id: r.id,
                        a: r.a,
                        b: r.b.clone(),
                        c: r.c,
                        d: r.d,
                    })
                    .collect();
                repo.create_many(&new).unwrap();
            }
            let order = full_order(&case);
            let truth = expected(&rows, &order);
            prop_assert_eq!(
                &database_scan(&db, &order),
                &truth,
                "ORDER BY on the database"
            );
            let keyset = case.order.iter().fold(Keyset::new(), |k, &(i, desc)| {
                k.by(
                    COLUMNS[i].0,
                    if desc {
                        Direction::Desc
                    } else {
                        Direction::Asc
                    },
                )
            });
            prop_assert_eq!(
                &walk_forward(&repo, &keyset, case.limit, rows.len()),
                &truth,
                "forwards"
            );
            prop_assert_eq!(
                &walk_backward(&repo, &keyset, case.limit, rows.len()),
                &truth,
                "backwards"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn sqlite_pages_concatenate_to_the_scan() {
    run(BackendKind::Sqlite);
}

#[test]
fn postgres_pages_concatenate_to_the_scan() {
    run(BackendKind::Postgres);
}

#[test]
fn mysql_pages_concatenate_to_the_scan() {
    run(BackendKind::Mysql);
}
