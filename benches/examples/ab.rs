#![allow(dead_code, unused_imports, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use criterion::{BenchmarkId, Criterion};
use diesel::prelude::*;
use kysera::{AnyConnection, Conn, PageRequest, ValidationMode};

/// Rows in the table while reads run; `find_all` reads all of them.
const SEED_ROWS: usize = 1_000;
/// Rows per `create_many` call.
const MANY_ROWS: usize = 1_000;
/// Single-row creates between two clean-ups of the table.
const CREATE_BATCH: usize = 1_000;
/// `paginate` reads page 5 of 20 rows (OFFSET 80), plus the total count.
const PAGE: u64 = 5;
const PER_PAGE: u64 = 20;

/// The Diesel schema both sides share.
mod schema {
    diesel::table! {
        /// Users, as in `kysera_examples::blog`, under a name no test uses.
        kysera_bench_users (id) {
            /// Assigned by the database.
            id -> BigInt,
            /// Unique.
            email -> Text,
            /// Display name.
            name -> Text,
            /// Optional profile text.
            bio -> Nullable<Text>,
            /// Set by the database on insert.
            created_at -> Timestamp,
        }
    }
}

use schema::kysera_bench_users as users;

/// The kysera model: the blog `User` (same fields, same validation rules) on the bench table.
#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(schema = schema::kysera_bench_users)]
struct User {
    #[kysera(primary_key, generated)]
    id: i64,
    #[kysera(validate(email))]
    email: String,
    #[kysera(validate(length(min = 1, max = 100)))]
    name: String,
    #[kysera(validate(length(max = 2000)))]
    bio: Option<String>,
    #[kysera(generated)]
    created_at: NaiveDateTime,
}

/// The hand-written Diesel row.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = users)]
struct Row {
    id: i64,
    email: String,
    name: String,
    bio: Option<String>,
    created_at: NaiveDateTime,
}

/// The hand-written Diesel insert: `None` binds NULL (as kysera does), so SQLite can insert
/// many rows in one statement.
#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
struct NewRow {
    email: String,
    name: String,
    bio: Option<String>,
}

/// The hand-written Diesel side: one module per backend, same code.
macro_rules! hand_written {
    ($module:ident, $feature:literal, $conn:ty) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;

            /// `SELECT .. WHERE id = ? LIMIT ?`, like `Repo::find_by_id`.
            pub(crate) fn find_by_id(c: &mut $conn, id: i64) -> QueryResult<Option<Row>> {
                users::table
                    .find(id)
                    .select(Row::as_select())
                    .first(c)
                    .optional()
            }

            /// `SELECT .. ORDER BY id`, like `Repo::find_all`.
            pub(crate) fn find_all(c: &mut $conn) -> QueryResult<Vec<Row>> {
                users::table
                    .select(Row::as_select())
                    .order(users::id)
                    .load(c)
            }

            /// The page ordered by key with LIMIT/OFFSET, then `COUNT(*)`, like `Repo::paginate`.
            pub(crate) fn paginate(
                c: &mut $conn,
                page: i64,
                per_page: i64,
            ) -> QueryResult<(Vec<Row>, i64)> {
                let items = users::table
                    .select(Row::as_select())
                    .order(users::id)
                    .limit(per_page)
                    .offset((page - 1) * per_page)
                    .load(c)?;
                let total = users::table.count().get_result(c)?;
                Ok((items, total))
            }

            /// `INSERT .. RETURNING ..`, like `Repo::create`.
            pub(crate) fn create(c: &mut $conn, new: &NewRow) -> QueryResult<Row> {
                diesel::insert_into(users::table)
                    .values(new)
                    .returning(Row::as_returning())
                    .get_result(c)
            }

            /// One multi-row `INSERT .. RETURNING ..`, like `Repo::create_many`.
            pub(crate) fn create_many(c: &mut $conn, rows: &[NewRow]) -> QueryResult<Vec<Row>> {
                diesel::insert_into(users::table)
                    .values(rows)
                    .returning(Row::as_returning())
                    .get_results(c)
            }

            /// `UPDATE .. SET name = ? WHERE id = ? RETURNING ..`, like `Repo::update`.
            pub(crate) fn update_name(c: &mut $conn, id: i64, name: &str) -> QueryResult<Row> {
                diesel::update(users::table.find(id))
                    .set(users::name.eq(name))
                    .returning(Row::as_returning())
                    .get_result(c)
            }

            /// Deletes every row with a key above `last_seed`: what a write benchmark added.
            pub(crate) fn delete_after(c: &mut $conn, last_seed: i64) -> QueryResult<usize> {
                diesel::delete(users::table.filter(users::id.gt(last_seed))).execute(c)
            }
        }
    };
}

hand_written!(sqlite_diesel, "sqlite", diesel::SqliteConnection);
hand_written!(pg_diesel, "postgres", diesel::PgConnection);

/// Runs `$body` with `$c` bound to the native Diesel connection inside `$conn` and `$ops` to
/// the hand-written module of its backend.
macro_rules! with_diesel {
    ($conn:expr, |$c:ident, $ops:ident| $body:expr) => {
        $conn
            .with_connection(|any| match any {
                #[cfg(feature = "sqlite")]
                AnyConnection::Sqlite($c) => {
                    #[allow(unused_imports)]
                    use sqlite_diesel as $ops;
                    $body
                }
                #[cfg(feature = "postgres")]
                AnyConnection::Postgres($c) => {
                    #[allow(unused_imports)]
                    use pg_diesel as $ops;
                    $body
                }
                _ => unreachable!("the benchmarks run on SQLite and PostgreSQL"),
            })
            .expect("the connection is not borrowed elsewhere")
    };
}

/// One database the groups run on.
struct Backend {
    /// `sqlite` or `postgres`, the parameter of every benchmark id.
    name: &'static str,
    conn: Conn,
    /// Keys of the seeded rows, ascending.
    ids: Vec<i64>,
    /// Keeps the SQLite file alive.
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    /// The largest seeded key: write benchmarks delete everything above it.
    fn last_seed(&self) -> i64 {
        *self.ids.last().expect("seeded")
    }

    /// Removes the rows a write benchmark added.
    fn clean_up(&self) {
        with_diesel!(self.conn, |c, ops| ops::delete_after(c, self.last_seed())
            .expect("clean-up"));
    }
}

fn sqlite_ddl() -> &'static str {
    "DROP TABLE IF EXISTS kysera_bench_users;
     CREATE TABLE kysera_bench_users (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         email TEXT NOT NULL,
         name TEXT NOT NULL,
         bio TEXT,
         created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
         CONSTRAINT kysera_bench_users_email_key UNIQUE (email));"
}

#[cfg(feature = "postgres")]
fn postgres_ddl() -> &'static str {
    "DROP TABLE IF EXISTS kysera_bench_users;
     CREATE TABLE kysera_bench_users (
         id BIGSERIAL PRIMARY KEY,
         email TEXT NOT NULL,
         name VARCHAR(100) NOT NULL,
         bio TEXT,
         created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
         CONSTRAINT kysera_bench_users_email_key UNIQUE (email));"
}

/// Input row `i` with email prefix `prefix`; every other row has a bio.
fn new_user(prefix: &str, i: usize) -> NewUser {
    NewUser {
        email: format!("{prefix}{i}@example.com"),
        name: format!("User {i}"),
        bio: (i % 2 == 0).then(|| format!("Bio of user {i}, who likes benchmarks.")),
    }
}

/// The same input for the Diesel side.
fn new_row(prefix: &str, i: usize) -> NewRow {
    let NewUser { email, name, bio } = new_user(prefix, i);
    NewRow { email, name, bio }
}

/// Creates the table on `conn` and seeds it.
fn prepare(name: &'static str, conn: Conn, ddl: &str, dir: Option<tempfile::TempDir>) -> Backend {
    conn.batch_execute(ddl).expect("create the bench table");
    let seed: Vec<NewUser> = (0..SEED_ROWS).map(|i| new_user("seed", i)).collect();
    let ids = conn
        .repo::<User>()
        .create_many(&seed)
        .expect("seed")
        .iter()
        .map(|u| u.id)
        .collect();
    let backend = Backend {
        name,
        conn,
        ids,
        _dir: dir,
    };
    check_same_results(&backend);
    backend
}

fn backends() -> Vec<Backend> {
    let mut all = Vec::new();
    #[cfg(feature = "sqlite")]
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let conn = Conn::establish(&url).expect("open the SQLite database");
        let mode = with_diesel!(conn, |c, _ops| {
            diesel::sql_query("PRAGMA journal_mode")
                .load::<JournalMode>(c)
                .expect("journal mode")
        });
        assert_eq!(
            mode[0].journal_mode, "wal",
            "kysera opens SQLite files in WAL mode"
        );
        all.push(prepare("sqlite", conn, sqlite_ddl(), Some(dir)));
    }
    #[cfg(feature = "postgres")]
    {
        let url = std::env::var("KYSERA_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let conn = Conn::establish(&url).unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        all.push(prepare("postgres", conn, postgres_ddl(), None));
    }
    all
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

fn same(user: &User, row: &Row) -> bool {
    (user.id, &user.email, &user.name, &user.bio, user.created_at)
        == (row.id, &row.email, &row.name, &row.bio, row.created_at)
}

fn same_all(users: &[User], rows: &[Row]) -> bool {
    users.len() == rows.len() && users.iter().zip(rows).all(|(u, r)| same(u, r))
}

/// Both sides must read the same rows in the same order, or the comparison means nothing.
fn check_same_results(b: &Backend) {
    let repo = b.conn.repo::<User>();
    let id = b.ids[SEED_ROWS / 2];
    let (one, all, (page, total)) = with_diesel!(b.conn, |c, ops| (
        ops::find_by_id(c, id).unwrap().unwrap(),
        ops::find_all(c).unwrap(),
        ops::paginate(c, PAGE as i64, PER_PAGE as i64).unwrap(),
    ));
    assert!(same(&repo.get(id).unwrap(), &one));
    assert_eq!(all.len(), SEED_ROWS);
    assert!(same_all(&repo.find_all().unwrap(), &all));
    let kpage = repo.paginate(PageRequest::new(PAGE, PER_PAGE)).unwrap();
    assert!(same_all(&kpage.items, &page));
    assert_eq!(kpage.items[0].id, b.ids[((PAGE - 1) * PER_PAGE) as usize]);
    assert_eq!((kpage.total, total), (SEED_ROWS as u64, SEED_ROWS as i64));
}

/// Runs `iters` iterations in chunks of at most `chunk`; `run(n)` performs `n` iterations and
/// returns the time they took (and cleans up untimed).
fn in_chunks(iters: u64, chunk: usize, mut run: impl FnMut(usize) -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(chunk as u64) as usize;
        total += run(n);
        left -= n as u64;
    }
    total
}

fn bench_find_by_id(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("find_by_id");
    for b in backends {
        group.bench_function(BenchmarkId::new("diesel", b.name), |bench| {
            with_diesel!(b.conn, |c, ops| {
                let mut ids = b.ids.iter().copied().cycle();
                bench.iter(|| ops::find_by_id(c, ids.next().unwrap()).unwrap().unwrap())
            })
        });
        group.bench_function(BenchmarkId::new("kysera", b.name), |bench| {
            let repo = b.conn.repo::<User>().with_validation(ValidationMode::Never);
            let mut ids = b.ids.iter().copied().cycle();
            bench.iter(|| repo.find_by_id(ids.next().unwrap()).unwrap().unwrap())
        });
    }
    group.finish();
}

fn bench_find_all(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("find_all");
    for b in backends {
        group.bench_function(BenchmarkId::new("diesel", b.name), |bench| {
            with_diesel!(b.conn, |c, ops| bench.iter(|| ops::find_all(c).unwrap()))
        });
        group.bench_function(BenchmarkId::new("kysera", b.name), |bench| {
            let repo = b.conn.repo::<User>().with_validation(ValidationMode::Never);
            bench.iter(|| repo.find_all().unwrap())
        });
    }
    group.finish();
}

fn bench_paginate(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("paginate");
    for b in backends {
        group.bench_function(BenchmarkId::new("diesel", b.name), |bench| {
            with_diesel!(b.conn, |c, ops| {
                bench.iter(|| {
                    ops::paginate(c, black_box(PAGE as i64), black_box(PER_PAGE as i64)).unwrap()
                })
            })
        });
        group.bench_function(BenchmarkId::new("kysera", b.name), |bench| {
            let repo = b.conn.repo::<User>().with_validation(ValidationMode::Never);
            bench.iter(|| {
                repo.paginate(black_box(PageRequest::new(PAGE, PER_PAGE)))
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// Single-row creates; the rows are deleted (untimed) every `CREATE_BATCH` creates, so the
/// table stays between 1,000 and 2,000 rows on both sides.
fn bench_create(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("create");
    let rows: Vec<NewRow> = (0..CREATE_BATCH).map(|i| new_row("create", i)).collect();
    let users: Vec<NewUser> = (0..CREATE_BATCH).map(|i| new_user("create", i)).collect();
    for b in backends {
        group.bench_function(BenchmarkId::new("diesel", b.name), |bench| {
            with_diesel!(b.conn, |c, ops| {
                bench.iter_custom(|iters| {
                    in_chunks(iters, CREATE_BATCH, |n| {
                        let start = Instant::now();
                        for row in &rows[..n] {
                            black_box(ops::create(c, row).unwrap());
                        }
                        let elapsed = start.elapsed();
                        ops::delete_after(c, b.last_seed()).unwrap();
                        elapsed
                    })
                })
            })
        });
        group.bench_function(BenchmarkId::new("kysera", b.name), |bench| {
            let repo = b.conn.repo::<User>();
            bench.iter_custom(|iters| {
                in_chunks(iters, CREATE_BATCH, |n| {
                    let start = Instant::now();
                    for user in &users[..n] {
                        black_box(repo.create(user).unwrap());
                    }
                    let elapsed = start.elapsed();
                    b.clean_up();
                    elapsed
                })
            })
        });
    }
    group.finish();
}

/// One multi-row INSERT of 1,000 rows per iteration, deleted (untimed) after each.
fn bench_create_many(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("create_many");
    let rows: Vec<NewRow> = (0..MANY_ROWS).map(|i| new_row("many", i)).collect();
    let users: Vec<NewUser> = (0..MANY_ROWS).map(|i| new_user("many", i)).collect();
    for b in backends {
        group.bench_function(BenchmarkId::new("diesel", b.name), |bench| {
            with_diesel!(b.conn, |c, ops| {
                bench.iter_custom(|iters| {
                    in_chunks(iters, 1, |_| {
                        let start = Instant::now();
                        black_box(ops::create_many(c, &rows).unwrap());
                        let elapsed = start.elapsed();
                        ops::delete_after(c, b.last_seed()).unwrap();
                        elapsed
                    })
                })
            })
        });
        group.bench_function(BenchmarkId::new("kysera", b.name), |bench| {
            let repo = b.conn.repo::<User>();
            bench.iter_custom(|iters| {
                in_chunks(iters, 1, |_| {
                    let start = Instant::now();
                    black_box(repo.create_many(&users).unwrap());
                    let elapsed = start.elapsed();
                    b.clean_up();
                    elapsed
                })
            })
        });
    }
    group.finish();
}

/// A one-field patch (`name`) returning the row, cycling over the seeded rows and flipping
/// between two names so every write changes the row.
fn bench_update(c: &mut Criterion, backends: &[Backend]) {
    let mut group = c.benchmark_group("update");
    let names = ["Renamed Ada".to_string(), "Renamed Grace".to_string()];
    let patches = names.clone().map(|name| UserUpdate {
        name: Some(name),
        ..Default::default()
    });
    for b in backends {
        let targets: Vec<(i64, usize)> = [0, 1]
            .into_iter()
            .flat_map(|flip| b.ids.iter().map(move |&id| (id, flip)))
            .collect();
        group.bench_function(BenchmarkId::new("diesel", b.name), |bench| {
            with_diesel!(b.conn, |c, ops| {
                let mut next = targets.iter().cycle();
                bench.iter(|| {
                    let &(id, flip) = next.next().unwrap();
                    ops::update_name(c, id, &names[flip]).unwrap()
                })
            })
        });
        group.bench_function(BenchmarkId::new("kysera", b.name), |bench| {
            let repo = b.conn.repo::<User>();
            let mut next = targets.iter().cycle();
            bench.iter(|| {
                let &(id, flip) = next.next().unwrap();
                repo.update(id, &patches[flip]).unwrap()
            })
        });
    }
    group.finish();
}



fn median(mut v: Vec<f64>) -> f64 { v.sort_by(|a, b| a.partial_cmp(b).unwrap()); v[v.len() / 2] }

/// Interleaved A/B: rounds of `n` calls of each side, alternating which goes first.
fn ab(label: &str, rounds: usize, n: usize, mut d: impl FnMut(), mut k: impl FnMut()) {
    let (mut ds, mut ks) = (Vec::new(), Vec::new());
    for _ in 0..n { d(); k(); }
    for r in 0..rounds {
        let mut time = |f: &mut dyn FnMut()| { let s = Instant::now(); for _ in 0..n { f(); } s.elapsed().as_secs_f64() * 1e6 / n as f64 };
        if r % 2 == 0 { ds.push(time(&mut d)); ks.push(time(&mut k)); } else { ks.push(time(&mut k)); ds.push(time(&mut d)); }
    }
    let (dm, km) = (median(ds), median(ks));
    println!("{label:<28} diesel {dm:>10.2} us  kysera {km:>10.2} us  ratio {:.3}", km / dm);
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let backends = backends();
    if let Some(mode) = which.strip_prefix("only-") {
        use kysera::Validate;
        let b = &backends[0];
        let repo = b.conn.repo::<User>();
        let rows: Vec<NewRow> = (0..MANY_ROWS).map(|i| new_row("m", i)).collect();
        let users: Vec<NewUser> = (0..MANY_ROWS).map(|i| new_user("m", i)).collect();
        let n: usize = std::env::var("N").unwrap().parse().unwrap();
        for _ in 0..n {
            match mode {
                "d" => { with_diesel!(b.conn, |c, ops| black_box(ops::create_many(c, &rows).unwrap())); }
                "v" => { for u in &users { u.validate().unwrap(); } with_diesel!(b.conn, |c, ops| black_box(ops::create_many(c, &rows).unwrap())); }
                "k" => { black_box(repo.create_many(&users).unwrap()); }
                "fd" => { for &id in &b.ids { with_diesel!(b.conn, |c, ops| black_box(ops::find_by_id(c, id).unwrap())); } }
                "fk" => { let r = repo.with_validation(ValidationMode::Never); for &id in &b.ids { black_box(r.find_by_id(id).unwrap()); } }
                "ad" => { with_diesel!(b.conn, |c, ops| black_box(ops::find_all(c).unwrap())); }
                "ak" => { black_box(repo.with_validation(ValidationMode::Never).find_all().unwrap()); }
                "pd" => { for _ in 0..100 { with_diesel!(b.conn, |c, ops| black_box(ops::paginate(c, 5, 20).unwrap())); } }
                "pk" => { let r = repo.with_validation(ValidationMode::Never); for _ in 0..100 { black_box(r.paginate(PageRequest::new(5, 20)).unwrap()); } }
                "ud" => { for &id in &b.ids[..100] { with_diesel!(b.conn, |c, ops| black_box(ops::update_name(c, id, "Renamed").unwrap())); } }
                "uk" => { let p = UserUpdate { name: Some("Renamed".into()), ..Default::default() }; for &id in &b.ids[..100] { black_box(repo.update(id, &p).unwrap()); } }
                "cd" => { let rs: Vec<NewRow> = (0..100).map(|i| new_row("c", i)).collect(); let s = Instant::now(); with_diesel!(b.conn, |c, ops| for r in &rs { black_box(ops::create(c, r).unwrap()); }); black_box(s); }
                "ck" => { let us: Vec<NewUser> = (0..100).map(|i| new_user("c", i)).collect(); for u in &us { black_box(repo.create(u).unwrap()); } }
                _ => {}
            }
            b.clean_up();
        }
        return;
    }
    if which == "many3" {
        use kysera::Validate;
        for b in &backends {
            let repo = b.conn.repo::<User>();
            let rows: Vec<NewRow> = (0..MANY_ROWS).map(|i| new_row("m", i)).collect();
            let users: Vec<NewUser> = (0..MANY_ROWS).map(|i| new_user("m", i)).collect();
            let mut t: [Vec<f64>; 3] = Default::default();
            for r in 0..90 {
                for k in 0..3 {
                    let side = (r + k) % 3;
                    let s = Instant::now();
                    match side {
                        0 => { with_diesel!(b.conn, |c, ops| black_box(ops::create_many(c, &rows).unwrap())); }
                        1 => { for u in &users { u.validate().unwrap(); } with_diesel!(b.conn, |c, ops| black_box(ops::create_many(c, &rows).unwrap())); }
                        _ => { black_box(repo.create_many(&users).unwrap()); }
                    }
                    t[side].push(s.elapsed().as_secs_f64() * 1e6);
                    b.clean_up();
                }
            }
            let [a, v, k] = t.map(median);
            println!("{}: diesel {a:.0} us, validate+diesel {v:.0} us ({:.3}), kysera {k:.0} us ({:.3})", b.name, v / a, k / a);
        }
        return;
    }
    if which == "sql" { return sql(&backends); }
    if which == "validate" {
        let users: Vec<NewUser> = (0..MANY_ROWS).map(|i| new_user("m", i)).collect();
        use kysera::Validate;
        let mut v = Vec::new();
        for _ in 0..50 { let s = Instant::now(); for u in &users { black_box(u.validate()).unwrap(); } v.push(s.elapsed().as_secs_f64()*1e6); }
        println!("validate 1000 NewUser: {:.1} us", median(v));
        let repo = backends[0].conn.repo::<User>();
        let rows = repo.find_all().unwrap();
        let mut v = Vec::new();
        for _ in 0..50 { let r2 = rows.clone(); let s = Instant::now(); let mut out = Vec::with_capacity(r2.len()); out.extend(r2); black_box(&out); v.push(s.elapsed().as_secs_f64()*1e6); }
        println!("extend 1000 User: {:.1} us", median(v));
        return;
    }
    for b in &backends {
        let repo = b.conn.repo::<User>().with_validation(ValidationMode::Never);
        let name = b.name;
        let mut i = 0usize;
        let mut j = 0usize;
        if which.is_empty() || which == "find_by_id" {
        ab(&format!("{name}/find_by_id"), 60, 500,
            || { i = (i + 1) % SEED_ROWS; let id = b.ids[i]; black_box(with_diesel!(b.conn, |c, ops| ops::find_by_id(c, id).unwrap())); },
            || { j = (j + 1) % SEED_ROWS; black_box(repo.find_by_id(b.ids[j]).unwrap()); });
        }
        if which.is_empty() || which == "find_all" {
        ab(&format!("{name}/find_all"), 30, 20,
            || { black_box(with_diesel!(b.conn, |c, ops| ops::find_all(c).unwrap())); },
            || { black_box(repo.find_all().unwrap()); });
        }
        if which.is_empty() || which == "paginate" {
        ab(&format!("{name}/paginate"), 60, 300,
            || { black_box(with_diesel!(b.conn, |c, ops| ops::paginate(c, 5, 20).unwrap())); },
            || { black_box(repo.paginate(PageRequest::new(5, 20)).unwrap()); });
        }
        if which.is_empty() || which == "update" {
        let names = ["A name".to_string(), "B name".to_string()];
        let patches = names.clone().map(|name| UserUpdate { name: Some(name), ..Default::default() });
        ab(&format!("{name}/update"), 40, 200,
            || { i = (i + 1) % (2 * SEED_ROWS); let id = b.ids[i % SEED_ROWS]; black_box(with_diesel!(b.conn, |c, ops| ops::update_name(c, id, &names[i / SEED_ROWS]).unwrap())); },
            || { j = (j + 1) % (2 * SEED_ROWS); black_box(repo.update(b.ids[j % SEED_ROWS], &patches[j / SEED_ROWS]).unwrap()); });
        }
        if which.is_empty() || which == "create" {
        let rows: Vec<NewRow> = (0..200).map(|i| new_row("x", i)).collect();
        let users: Vec<NewUser> = (0..200).map(|i| new_user("x", i)).collect();
        let (mut ds, mut ks) = (Vec::new(), Vec::new());
        for r in 0..40 {
            for side in [r % 2, 1 - r % 2] {
                let s = Instant::now();
                if side == 0 { with_diesel!(b.conn, |c, ops| for row in &rows { black_box(ops::create(c, row).unwrap()); }); }
                else { for u in &users { black_box(repo.create(u).unwrap()); } }
                let t = s.elapsed().as_secs_f64() * 1e6 / 200.0;
                b.clean_up();
                if side == 0 { ds.push(t) } else { ks.push(t) }
            }
        }
        let (dm, km) = (median(ds), median(ks));
        println!("{:<28} diesel {dm:>10.2} us  kysera {km:>10.2} us  ratio {:.3}", format!("{name}/create"), km / dm);
        }
        if which.is_empty() || which == "create_many" {
        let rows: Vec<NewRow> = (0..MANY_ROWS).map(|i| new_row("m", i)).collect();
        let users: Vec<NewUser> = (0..MANY_ROWS).map(|i| new_user("m", i)).collect();
        let (mut ds, mut ks) = (Vec::new(), Vec::new());
        for r in 0..40 {
            for side in [r % 2, 1 - r % 2] {
                let s = Instant::now();
                if side == 0 { with_diesel!(b.conn, |c, ops| black_box(ops::create_many(c, &rows).unwrap())); }
                else { black_box(repo.create_many(&users).unwrap()); }
                let t = s.elapsed().as_secs_f64() * 1e6;
                b.clean_up();
                if side == 0 { ds.push(t) } else { ks.push(t) }
            }
        }
        let (dm, km) = (median(ds), median(ks));
        println!("{:<28} diesel {dm:>10.2} us  kysera {km:>10.2} us  ratio {:.3}", format!("{name}/create_many"), km / dm);
        }
    }
}

fn sql(backends: &[Backend]) {
    use std::sync::{Arc, Mutex};
    use diesel::connection::{Instrumentation, InstrumentationEvent};
    for b in backends {
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let l2 = log.clone();
        with_diesel!(b.conn, |c, _ops| c.set_instrumentation(move |e: InstrumentationEvent<'_>| {
            match e {
                InstrumentationEvent::StartQuery { query, .. } => l2.lock().unwrap().push(format!("  {query}")),
                InstrumentationEvent::BeginTransaction { .. } => l2.lock().unwrap().push("  BEGIN".into()),
                InstrumentationEvent::CommitTransaction { .. } => l2.lock().unwrap().push("  COMMIT".into()),
                _ => {}
            }
        }));
        let repo = b.conn.repo::<User>();
        let id = b.ids[3];
        let rows: Vec<NewRow> = (0..3).map(|i| new_row("q", i)).collect();
        let users: Vec<NewUser> = (0..3).map(|i| new_user("k", i)).collect();
        let mut show = |label: &str| { let mut g = log.lock().unwrap(); println!("{}/{label}:", b.name); for q in g.drain(..) { println!("{}", &q[..q.len().min(400)]); } };
        with_diesel!(b.conn, |c, ops| ops::find_by_id(c, id).unwrap()); show("diesel find_by_id");
        repo.find_by_id(id).unwrap(); show("kysera find_by_id");
        with_diesel!(b.conn, |c, ops| ops::find_all(c).unwrap()); show("diesel find_all");
        repo.find_all().unwrap(); show("kysera find_all");
        with_diesel!(b.conn, |c, ops| ops::paginate(c, 5, 20).unwrap()); show("diesel paginate");
        repo.paginate(PageRequest::new(5, 20)).unwrap(); show("kysera paginate");
        with_diesel!(b.conn, |c, ops| ops::create(c, &rows[0]).unwrap()); show("diesel create");
        repo.create(&users[0]).unwrap(); show("kysera create");
        with_diesel!(b.conn, |c, ops| ops::create_many(c, &rows[1..]).unwrap()); show("diesel create_many");
        repo.create_many(&users[1..]).unwrap(); show("kysera create_many");
        with_diesel!(b.conn, |c, ops| ops::update_name(c, id, "x").unwrap()); show("diesel update");
        repo.update(id, &UserUpdate { name: Some("y".into()), ..Default::default() }).unwrap(); show("kysera update");
        b.clean_up();
        show("cleanup");
    }
}
