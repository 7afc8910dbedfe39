//! Diesel's own `diesel_bench` "associations" workload: 100 users × 10 posts × 10 comments
//! (10,000 comments), load every user with their posts and each post's comments, as
//! `Vec<(User, Vec<(Post, Vec<Comment>)>)>`, on one SQLite connection.
//!
//! * `diesel`: `users.load`, `Post::belonging_to(&users)`, `Comment::belonging_to(&posts)`,
//!   then `grouped_by` twice, as diesel_bench writes it.
//! * `kysera`: `find_all`, then the generated `load_posts` and `load_comments` (one
//!   statement per level each), zipped into the same tree.
//!
//! ```text
//! cargo bench -p kysera-benches --bench associations
//! ```

use std::hint::black_box;

use criterion::Criterion;
use diesel::prelude::*;
use kysera::{Conn, ValidationMode};

#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(table = "users", has_many(Post))]
struct User {
    #[kysera(primary_key, generated)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(table = "posts", belongs_to(User), has_many(Comment))]
struct Post {
    #[kysera(primary_key, generated)]
    id: i64,
    user_id: i64,
    title: String,
    body: Option<String>,
}

#[derive(kysera::Repository, Debug, Clone, PartialEq)]
#[kysera(table = "comments", belongs_to(Post))]
struct Comment {
    #[kysera(primary_key, generated)]
    id: i64,
    post_id: i64,
    text: String,
}

/// The same rows as Diesel's own structs, over the same table modules.
mod hand_written {
    use super::{comments, posts, users};
    use diesel::prelude::*;

    #[derive(Queryable, Selectable, Identifiable, Debug)]
    #[diesel(table_name = users)]
    pub struct User {
        pub id: i64,
        pub name: String,
        pub hair_color: Option<String>,
    }

    #[derive(Queryable, Selectable, Identifiable, Associations, Debug)]
    #[diesel(table_name = posts, belongs_to(User))]
    pub struct Post {
        pub id: i64,
        pub user_id: i64,
        pub title: String,
        pub body: Option<String>,
    }

    #[derive(Queryable, Selectable, Identifiable, Associations, Debug)]
    #[diesel(table_name = comments, belongs_to(Post))]
    pub struct Comment {
        pub id: i64,
        pub post_id: i64,
        pub text: String,
    }
}

type Tree<U, P, C> = Vec<(U, Vec<(P, Vec<C>)>)>;

fn seed(conn: &Conn) {
    conn.batch_execute(
        "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, hair_color TEXT);
         CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id BIGINT NOT NULL, title TEXT NOT NULL, body TEXT);
         CREATE TABLE comments (id INTEGER PRIMARY KEY AUTOINCREMENT, post_id BIGINT NOT NULL, text TEXT NOT NULL);
         CREATE INDEX posts_user_id ON posts (user_id);
         CREATE INDEX comments_post_id ON comments (post_id);",
    )
    .expect("schema");
    let users = conn
        .repo::<User>()
        .create_many(
            &(0..100)
                .map(|i| NewUser {
                    name: format!("User {i}"),
                    hair_color: (i % 2 == 0).then(|| "black".to_string()),
                })
                .collect::<Vec<_>>(),
        )
        .expect("users");
    let new_posts: Vec<NewPost> = users
        .iter()
        .flat_map(|u| {
            (0..10).map(move |j| NewPost {
                user_id: u.id,
                title: format!("Post {j} by {}", u.name),
                body: (j % 2 == 0).then(|| "A body".to_string()),
            })
        })
        .collect();
    let posts = conn.repo::<Post>().create_many(&new_posts).expect("posts");
    let new_comments: Vec<NewComment> = posts
        .iter()
        .flat_map(|p| {
            (0..10).map(move |k| NewComment {
                post_id: p.id,
                text: format!("Comment {k} on post {}", p.id),
            })
        })
        .collect();
    conn.repo::<Comment>()
        .create_many(&new_comments)
        .expect("comments");
}

fn diesel_tree(
    c: &mut diesel::SqliteConnection,
) -> Tree<hand_written::User, hand_written::Post, hand_written::Comment> {
    use hand_written::{Comment, Post, User};
    let users: Vec<User> = users::table
        .select(User::as_select())
        .load(c)
        .expect("users");
    let posts: Vec<Post> = Post::belonging_to(&users)
        .select(Post::as_select())
        .load(c)
        .expect("posts");
    let comments: Vec<Comment> = Comment::belonging_to(&posts)
        .select(Comment::as_select())
        .load(c)
        .expect("comments");
    let comments = comments.grouped_by(&posts);
    let posts_and_comments = posts.into_iter().zip(comments).grouped_by(&users);
    users.into_iter().zip(posts_and_comments).collect()
}

fn kysera_tree(conn: &Conn) -> kysera::Result<Tree<User, Post, Comment>> {
    // Rows are not re-validated on read, as Diesel does not validate them.
    let users = UserRepository::from(conn.repo::<User>().with_validation(ValidationMode::Never));
    let all = users.find_all()?;
    let posts = users.load_posts(&all)?;
    let comments =
        PostRepository::from(users.related::<Post>()).load_comments(posts.iter().flatten())?;
    let mut comments = comments.into_iter();
    Ok(all
        .into_iter()
        .zip(posts)
        .map(|(user, posts)| {
            let posts = posts
                .into_iter()
                .map(|post| (post, comments.next().unwrap_or_default()))
                .collect();
            (user, posts)
        })
        .collect())
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = kysera::Database::connect(&url).expect("database");
    let conn: Conn = db.conn().expect("connection");
    seed(&conn);

    // Both sides build the same tree.
    let theirs = conn
        .with_connection(|c| {
            let kysera::AnyConnection::Sqlite(c) = c else {
                unreachable!("a SQLite URL")
            };
            diesel_tree(c)
        })
        .expect("diesel tree");
    let ours = kysera_tree(&conn).expect("kysera tree");
    assert_eq!(theirs.len(), ours.len());
    for ((du, dp), (ku, kp)) in theirs.iter().zip(&ours) {
        assert_eq!((du.id, dp.len()), (ku.id, kp.len()));
        for ((p, cs), (q, ds)) in dp.iter().zip(kp) {
            assert_eq!((p.id, cs.len()), (q.id, ds.len()));
            assert!(cs
                .iter()
                .zip(ds)
                .all(|(a, b)| a.id == b.id && a.text == b.text));
        }
    }
    assert_eq!(ours.iter().map(|(_, p)| p.len()).sum::<usize>(), 1_000);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("associations_100x10x10");
    group.sample_size(30);
    group.bench_function("diesel/sqlite", |b| {
        b.iter(|| {
            conn.with_connection(|c| {
                let kysera::AnyConnection::Sqlite(c) = c else {
                    unreachable!("a SQLite URL")
                };
                black_box(diesel_tree(c))
            })
            .unwrap()
        })
    });
    group.bench_function("kysera/sqlite", |b| {
        b.iter(|| black_box(kysera_tree(&conn).unwrap()))
    });
    group.finish();
    c.final_summary();
}
