//! Filters and orderings on repository reads and writes: typed Diesel expressions and
//! run-time filters, with scopes on top, on every backend.
#![allow(missing_docs)]

use chrono::NaiveDateTime;
use diesel::prelude::*;
use kysera::{BackendKind, Error, Filter, Find, OrderTerm, PageRequest, Repository};
use kysera_integration_tests::{all_backends, TestDb};
use serde_json::json;

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "posts")]
#[soft_delete]
#[audited]
pub struct Post {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    pub published: bool,
    pub score: Option<i64>,
    pub deleted_at: Option<NaiveDateTime>,
}

fn schema(backend: BackendKind) -> String {
    let (id, ts) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP"),
        BackendKind::Mysql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)"),
    };
    format!(
        "CREATE TABLE posts (id {id}, author_id BIGINT NOT NULL, title TEXT NOT NULL,
            published BOOLEAN NOT NULL, score BIGINT NULL, deleted_at {ts} NULL);
         {}",
        kysera::audit::migration_sql(backend)
    )
}

/// Ten posts: authors 1 and 2 alternate, every third unpublished, score NULL for every
/// fourth, titles with LIKE wildcards in two of them.
fn seed(db: &TestDb) -> (kysera::Conn, Vec<Post>) {
    let conn = db.conn();
    let titles = [
        "Rust 1",
        "rust 2",
        "100%_sure",
        "100 sure",
        "Diesel",
        "Kysera",
        "Rust 3",
        "Go",
        "Zig",
        "C",
    ];
    let rows: Vec<NewPost> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| NewPost {
            author_id: 1 + (i as i64 % 2),
            title: t.to_string(),
            published: i % 3 != 0,
            score: (i % 4 != 0).then_some(i as i64 * 10),
        })
        .collect();
    let posts = conn.repo::<Post>().create_many(&rows).unwrap();
    (conn, posts)
}

fn titles(rows: &[Post]) -> Vec<&str> {
    rows.iter().map(|p| p.title.as_str()).collect()
}

all_backends! {
    fn typed_filters_order_limit_offset_and_totals(db: &TestDb) {
        let (conn, _) = seed(db);
        let repo = conn.repo::<Post>();
        let mine = || Find::new().filter(posts::author_id.eq(1).and(posts::published.eq(true)));
        let all_mine = repo.find(mine().order_by(posts::title.desc())).unwrap();
        assert_eq!(titles(&all_mine), vec!["Zig", "Diesel", "100%_sure"]);
        let (page, total) = repo.find_and_count(mine().order_by(posts::title.desc()).limit(2).offset(1)).unwrap();
        assert_eq!((titles(&page), total), (vec!["Diesel", "100%_sure"], 3));
        assert_eq!(repo.find_one(mine().order_by(posts::id.desc())).unwrap().unwrap().title, "Zig");
        assert_eq!(repo.count_where(posts::author_id.eq(2)).unwrap(), 5);
        assert!(repo.exists_where(posts::score.gt(80)).unwrap());
        assert!(!repo.exists_where(posts::score.gt(1000)).unwrap());
        let paged = repo.paginate_by(Find::new().filter(posts::published.eq(true).and(posts::score.is_not_null())).order_by(posts::score.desc()), PageRequest::new(2, 2)).unwrap();
        assert_eq!(paged.total, 4);
        assert_eq!(paged.items.iter().map(|p| p.score).collect::<Vec<_>>(), vec![Some(20), Some(10)]);
    }

    fn runtime_filters_from_json(db: &TestDb) {
        let (conn, posts) = seed(db);
        let repo = conn.repo::<Post>();
        let find = |q: serde_json::Value| repo.find(Find::new().filter(Filter::from_json(&q).unwrap())).unwrap();
        assert_eq!(titles(&find(json!({"author_id": 1, "score": {"$gte": 40}}))), vec!["Rust 3"]);
        assert_eq!(titles(&find(json!({"score": null}))), vec!["Rust 1", "Diesel", "Zig"]);
        // NULL-aware inequality: NULL scores differ from 20.
        assert_eq!(find(json!({"score": {"$ne": 20}})).len(), 9);
        // NOT IN keeps NULLs; IN with null takes them.
        assert_eq!(find(json!({"score": {"$nin": [10, 20]}})).len(), 8);
        assert_eq!(find(json!({"score": {"$in": [10, null]}})).len(), 4);
        assert_eq!(find(json!({"score": {"$in": []}})).len(), 0);
        assert_eq!(find(json!({"score": {"$nin": []}})).len(), 10);
        // Wildcards in literal text match literally.
        assert_eq!(titles(&find(json!({"title": {"$contains": "%_"}}))), vec!["100%_sure"]);
        assert_eq!(titles(&find(json!({"title": {"$like": "100%sure"}}))), vec!["100%_sure", "100 sure"]);
        assert_eq!(titles(&find(json!({"title": {"$ilike": "rust%"}}))), vec!["Rust 1", "rust 2", "Rust 3"]);
        assert_eq!(titles(&find(json!({"title": {"$endsWith": "sure"}}))), vec!["100%_sure", "100 sure"]);
        assert_eq!(find(json!({"score": {"$between": [20, 50]}})).len(), 3);
        assert_eq!(titles(&find(json!({"$or": [{"title": "Go"}, {"title": "C"}]}))), vec!["Go", "C"]);
        assert_eq!(find(json!({"$not": {"published": true}})).len(), 4);
        assert_eq!(find(json!({"score": {"$isNull": false}, "published": false})).len(), 3);
        // Builders and JSON agree.
        let built = Filter::eq("author_id", 2).and(!Filter::is_null("score"));
        assert_eq!(repo.count_where(built).unwrap(), 5);
        // Scopes apply on top: a soft-deleted row is never found.
        repo.delete(posts[0].id).unwrap();
        assert_eq!(titles(&find(json!({"score": null}))), vec!["Diesel", "Zig"]);
        assert_eq!(repo.with_deleted().count_where(Filter::is_null("score")).unwrap(), 3);
    }

    fn runtime_filters_and_orderings_are_checked(db: &TestDb) {
        let (conn, _) = seed(db);
        let repo = conn.repo::<Post>();
        match repo.count_where(Filter::eq("colour", "red")) {
            Err(Error::UnknownColumn { table, column, valid }) => {
                assert_eq!((table.as_str(), column.as_str()), ("posts", "colour"));
                assert!(valid.contains(&"title".to_string()), "{valid:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(repo.count_where(Filter::eq("author_id", "1 OR 1=1")), Err(Error::InvalidFilter(_))));
        assert!(matches!(repo.count_where(Filter::contains("score", "1")), Err(Error::InvalidFilter(_))));
        assert!(matches!(OrderTerm::parse::<Post>("id; DROP TABLE posts"), Err(Error::UnknownColumn { .. })));
        let ordered = repo.find(Find::new().order_by_all(OrderTerm::parse::<Post>("-author_id, title").unwrap())).unwrap();
        assert_eq!(&titles(&ordered)[..3], &["100 sure", "C", "Go"]);
        assert!(matches!(repo.find(Find::new().limit(-1)), Err(Error::InvalidArgument(_))));
        assert_eq!(repo.count().unwrap(), 10, "nothing changed");
    }

    fn writes_by_filter(db: &TestDb) {
        let (conn, _) = seed(db);
        let repo = conn.repo::<Post>();
        let updated = repo.update_where(Filter::eq("author_id", 2).and(Filter::eq("published", false)), &PostUpdate { score: Some(Some(-1)), ..Default::default() }).unwrap();
        assert_eq!(updated.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), vec!["100 sure", "C"]);
        assert_eq!(repo.count_where(posts::score.eq(-1)).unwrap(), 2);
        assert_eq!(repo.delete_where(posts::author_id.eq(1)).unwrap(), 5, "soft deletes");
        assert_eq!(repo.count().unwrap(), 5);
        assert_eq!(repo.only_deleted().count().unwrap(), 5);
        assert_eq!(repo.delete_where(posts::author_id.eq(1)).unwrap(), 0, "already deleted");
        let audit: i64 = conn.first(kysera::audit::audit_logs::table.count()).unwrap().unwrap();
        assert_eq!(audit, 10 + 2 + 5, "inserts, two updates, five soft deletes");
    }
}
