//! Filtered, ordered reads with the total against hand-written Diesel doing the same work on
//! the same SQLite connection: `author_id = 7 AND score >= 50 ORDER BY score DESC, id LIMIT 20`
//! plus `COUNT(*)` of the same filter, over 10,000 rows with an index on (author_id, score).
//!
//! * `diesel`: the two statements written by hand.
//! * `kysera_typed`: `find_and_count` with the same Diesel expressions.
//! * `kysera_runtime`: `find_and_count` with a run-time `Filter` and `OrderTerm`.
//!
//! ```text
//! cargo bench -p kysera-benches --bench filters
//! ```

use std::hint::black_box;

use criterion::Criterion;
use diesel::prelude::*;
use kysera::{AnyConnection, Conn, Filter, Find, OrderTerm, ValidationMode};

mod schema {
    diesel::table! {
        /// Posts under a name no test uses.
        kysera_bench_posts (id) {
            /// Assigned by the database.
            id -> BigInt,
            /// The author.
            author_id -> BigInt,
            /// A score.
            score -> BigInt,
            /// A title.
            title -> Text,
        }
    }
}

use schema::kysera_bench_posts as posts;

#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(schema = schema::kysera_bench_posts)]
struct Post {
    #[kysera(primary_key, generated)]
    id: i64,
    author_id: i64,
    score: i64,
    title: String,
}

#[derive(Queryable, Debug)]
#[allow(dead_code)]
struct DieselPost {
    id: i64,
    author_id: i64,
    score: i64,
    title: String,
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = kysera::Database::connect(&url).expect("database");
    let conn: Conn = db.conn().expect("connection");
    conn.batch_execute(
        "CREATE TABLE kysera_bench_posts (id INTEGER PRIMARY KEY AUTOINCREMENT, \
         author_id BIGINT NOT NULL, score BIGINT NOT NULL, title TEXT NOT NULL); \
         CREATE INDEX kysera_bench_posts_author_score ON kysera_bench_posts (author_id, score)",
    )
    .expect("schema");
    let rows: Vec<NewPost> = (0..10_000i64)
        .map(|i| NewPost {
            author_id: i % 100,
            score: (i * 37) % 101,
            title: format!("post {i}"),
        })
        .collect();
    conn.repo::<Post>().create_many(&rows).expect("seed");
    let repo = conn.repo::<Post>().with_validation(ValidationMode::Never);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("filtered_find_and_count");
    group.bench_function("diesel/sqlite", |b| {
        b.iter(|| {
            conn.with_connection(|c: &mut AnyConnection| {
                let AnyConnection::Sqlite(c) = c else {
                    unreachable!()
                };
                let filter = posts::author_id.eq(7).and(posts::score.ge(50));
                let rows: Vec<DieselPost> = posts::table
                    .filter(filter)
                    .order((posts::score.desc(), posts::id))
                    .limit(20)
                    .load(c)
                    .unwrap();
                let total: i64 = posts::table
                    .filter(posts::author_id.eq(7).and(posts::score.ge(50)))
                    .count()
                    .get_result(c)
                    .unwrap();
                black_box((rows, total))
            })
            .unwrap()
        })
    });
    group.bench_function("kysera_typed/sqlite", |b| {
        b.iter(|| {
            let find = Find::new()
                .filter(posts::author_id.eq(7).and(posts::score.ge(50)))
                .order_by(posts::score.desc())
                .limit(20);
            black_box(repo.find_and_count(find).unwrap())
        })
    });
    group.bench_function("kysera_runtime/sqlite", |b| {
        b.iter(|| {
            let find = Find::new()
                .filter(Filter::eq("author_id", 7).and(Filter::gte("score", 50)))
                .order_by(
                    OrderTerm::column::<Post>("score", kysera::pagination::Direction::Desc)
                        .unwrap(),
                )
                .limit(20);
            black_box(repo.find_and_count(find).unwrap())
        })
    });
    group.finish();
    c.final_summary();
}
