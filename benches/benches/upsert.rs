//! `upsert_many` of 1,000 rows against hand-written Diesel doing the same work on the same
//! SQLite connection: one transaction, each row `INSERT ... ON CONFLICT (email) DO UPDATE SET
//! name = excluded.name, visits = excluded.visits RETURNING *` (after the first iteration
//! every row conflicts, so every row is updated).
//!
//! * `diesel`: the statements written by hand, one per row (as kysera writes them on SQLite).
//! * `kysera`: `upsert_many` with `Upsert::on(["email"])`, which also reads the conflicting
//!   rows first (for the inserted/updated flags).
//!
//! With the `postgres` feature, the same on PostgreSQL (`KYSERA_BENCH_POSTGRES_URL`, by
//! default `postgres://postgres@127.0.0.1:5432/test`; the table is dropped and created at
//! start and dropped at the end): Diesel's one multi-row `INSERT ... ON CONFLICT ... DO
//! UPDATE ... RETURNING` against `upsert_many`, which for this model (not audited, no
//! plugins) is the same one statement, with `(xmax = 0)` added to its `RETURNING`.
//!
//! ```text
//! cargo bench -p kysera-benches --bench upsert
//! cargo bench -p kysera-benches --bench upsert --features postgres
//! ```

use std::hint::black_box;

use criterion::Criterion;
use diesel::prelude::*;
use diesel::upsert::excluded;
use kysera::{AnyConnection, Conn, Upsert, ValidationMode};

mod schema {
    diesel::table! {
        /// Members under a name no test uses.
        kysera_bench_members (id) {
            /// Assigned by the database.
            id -> BigInt,
            /// Unique.
            email -> Text,
            /// A name.
            name -> Text,
            /// A counter.
            visits -> BigInt,
        }
    }
}

use schema::kysera_bench_members as members;

#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(schema = schema::kysera_bench_members)]
struct Member {
    #[kysera(primary_key, generated)]
    id: i64,
    email: String,
    name: String,
    visits: i64,
}

#[derive(Queryable, Debug)]
#[allow(dead_code)]
struct DieselMember {
    id: i64,
    email: String,
    name: String,
    visits: i64,
}

#[derive(Insertable)]
#[diesel(table_name = members)]
struct DieselNew<'a> {
    email: &'a str,
    name: &'a str,
    visits: i64,
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = kysera::Database::connect(&url).expect("database");
    let conn: Conn = db.conn().expect("connection");
    conn.batch_execute(
        "CREATE TABLE kysera_bench_members (id INTEGER PRIMARY KEY AUTOINCREMENT, \
         email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, visits BIGINT NOT NULL)",
    )
    .expect("schema");
    let rows: Vec<NewMember> = (0..1_000i64)
        .map(|i| NewMember {
            email: format!("m{i}@example.org"),
            name: format!("member {i}"),
            visits: i,
        })
        .collect();
    let repo = conn.repo::<Member>().with_validation(ValidationMode::Never);
    let on_email = Upsert::on(["email"]);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("upsert_many_1000");
    group.sample_size(20);
    group.bench_function("diesel/sqlite", |b| {
        b.iter(|| {
            conn.with_connection(|c: &mut AnyConnection| {
                let AnyConnection::Sqlite(c) = c else {
                    unreachable!()
                };
                c.transaction::<_, diesel::result::Error, _>(|c| {
                    let mut stored = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let new = DieselNew {
                            email: &row.email,
                            name: &row.name,
                            visits: row.visits,
                        };
                        let member: DieselMember = diesel::insert_into(members::table)
                            .values(&new)
                            .on_conflict(members::email)
                            .do_update()
                            .set((
                                members::name.eq(excluded(members::name)),
                                members::visits.eq(excluded(members::visits)),
                            ))
                            .returning(members::all_columns)
                            .get_result(c)?;
                        stored.push(member);
                    }
                    Ok(black_box(stored))
                })
                .unwrap()
            })
            .unwrap()
        })
    });
    group.bench_function("kysera/sqlite", |b| {
        b.iter(|| black_box(repo.upsert_many(&rows, &on_email).unwrap()))
    });
    group.finish();
    #[cfg(feature = "postgres")]
    postgres(&mut c, &rows);
    c.final_summary();
}

#[cfg(feature = "postgres")]
fn postgres(c: &mut Criterion, rows: &[NewMember]) {
    let url = std::env::var("KYSERA_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let conn = Conn::establish(&url).unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    conn.batch_execute(
        "DROP TABLE IF EXISTS kysera_bench_members;
         CREATE TABLE kysera_bench_members (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE,
             name TEXT NOT NULL, visits BIGINT NOT NULL)",
    )
    .expect("schema");
    let repo = conn.repo::<Member>().with_validation(ValidationMode::Never);
    let on_email = Upsert::on(["email"]);
    let mut group = c.benchmark_group("upsert_many_1000");
    group.sample_size(20);
    group.bench_function("diesel/postgres", |b| {
        b.iter(|| {
            conn.with_connection(|c: &mut AnyConnection| {
                let AnyConnection::Postgres(c) = c else {
                    unreachable!()
                };
                let new: Vec<DieselNew> = rows
                    .iter()
                    .map(|row| DieselNew {
                        email: &row.email,
                        name: &row.name,
                        visits: row.visits,
                    })
                    .collect();
                c.transaction::<_, diesel::result::Error, _>(|c| {
                    let stored: Vec<DieselMember> = diesel::insert_into(members::table)
                        .values(&new)
                        .on_conflict(members::email)
                        .do_update()
                        .set((
                            members::name.eq(excluded(members::name)),
                            members::visits.eq(excluded(members::visits)),
                        ))
                        .returning(members::all_columns)
                        .get_results(c)?;
                    Ok(black_box(stored))
                })
                .unwrap()
            })
            .unwrap()
        })
    });
    group.bench_function("kysera/postgres", |b| {
        b.iter(|| black_box(repo.upsert_many(rows, &on_email).unwrap()))
    });
    group.finish();
    conn.batch_execute("DROP TABLE kysera_bench_members")
        .expect("drop");
}
