//! The blog used by the `blog` example and the integration tests: users, posts and comments
//! with foreign keys, and the DDL that creates them on each backend; and a multi-tenant
//! plugin written against kysera's public API.

#[path = "tenant.rs"]
pub mod tenant;

/// The blog models and their schema.
pub mod blog {
    use chrono::NaiveDateTime;
    use kysera::{BackendKind, Repository};

    /// Someone who writes posts and comments.
    #[derive(Repository, Debug, Clone, PartialEq)]
    #[kysera(table = "users", has_many(Post, name = "posts"))]
    pub struct User {
        /// Assigned by the database.
        #[kysera(primary_key, generated)]
        pub id: i64,
        /// Unique across users.
        #[kysera(validate(email))]
        pub email: String,
        /// Display name.
        #[kysera(validate(length(min = 1, max = 100)))]
        pub name: String,
        /// Optional profile text.
        #[kysera(validate(length(max = 2000)))]
        pub bio: Option<String>,
        /// Set by the database on insert.
        #[kysera(generated)]
        pub created_at: NaiveDateTime,
    }

    /// A post by a user.
    #[derive(Repository, Debug, Clone, PartialEq)]
    #[kysera(
        table = "posts",
        belongs_to(User, foreign_key = "author_id"),
        has_many(Comment)
    )]
    pub struct Post {
        /// Assigned by the database.
        #[kysera(primary_key, generated)]
        pub id: i64,
        /// The author (`users.id`).
        #[kysera(skip_update)]
        pub author_id: i64,
        /// Headline.
        #[kysera(validate(non_empty, length(max = 200)))]
        pub title: String,
        /// Body text.
        pub body: String,
        /// Whether readers can see it.
        pub published: bool,
        /// Number of views, never negative.
        #[kysera(validate(range(min = 0)))]
        pub views: i32,
    }

    /// A comment on a post.
    #[derive(Repository, Debug, Clone, PartialEq)]
    #[kysera(
        table = "comments",
        belongs_to(Post),
        belongs_to(User, foreign_key = "author_id")
    )]
    pub struct Comment {
        /// Assigned by the database.
        #[kysera(primary_key, generated)]
        pub id: i64,
        /// The post (`posts.id`).
        #[kysera(skip_update)]
        pub post_id: i64,
        /// The commenter (`users.id`).
        #[kysera(skip_update)]
        pub author_id: i64,
        /// What they said.
        #[kysera(validate(non_empty))]
        pub body: String,
    }

    impl PostRepository<'_> {
        /// Published posts of one author, newest first: a custom finder written as plain
        /// Diesel on the repository's base query.
        pub fn published_by(&self, author: i64) -> kysera::Result<Vec<Post>> {
            use diesel::prelude::*;
            let query = self
                .query()
                .filter(posts::author_id.eq(author))
                .filter(posts::published.eq(true))
                .order(posts::id.desc());
            self.load(query)
        }
    }

    /// Drops and creates the blog tables on `backend`.
    pub fn schema(backend: BackendKind) -> &'static str {
        match backend {
            BackendKind::Sqlite => {
                "DROP TABLE IF EXISTS comments; DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS users;
                 CREATE TABLE users (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     email TEXT NOT NULL,
                     name TEXT NOT NULL,
                     bio TEXT,
                     created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                     CONSTRAINT users_email_key UNIQUE (email));
                 CREATE TABLE posts (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     author_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                     title TEXT NOT NULL,
                     body TEXT NOT NULL,
                     published BOOLEAN NOT NULL DEFAULT FALSE,
                     views INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0));
                 CREATE TABLE comments (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
                     author_id BIGINT NOT NULL REFERENCES users (id),
                     body TEXT NOT NULL);"
            }
            BackendKind::Postgres => {
                "DROP TABLE IF EXISTS comments; DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS users;
                 CREATE TABLE users (
                     id BIGSERIAL PRIMARY KEY,
                     email TEXT NOT NULL,
                     name VARCHAR(100) NOT NULL,
                     bio TEXT,
                     created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                     CONSTRAINT users_email_key UNIQUE (email));
                 CREATE TABLE posts (
                     id BIGSERIAL PRIMARY KEY,
                     author_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                     title TEXT NOT NULL,
                     body TEXT NOT NULL,
                     published BOOLEAN NOT NULL DEFAULT FALSE,
                     views INTEGER NOT NULL DEFAULT 0 CONSTRAINT posts_views_check CHECK (views >= 0));
                 CREATE TABLE comments (
                     id BIGSERIAL PRIMARY KEY,
                     post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
                     author_id BIGINT NOT NULL REFERENCES users (id),
                     body TEXT NOT NULL);"
            }
            BackendKind::Mysql => {
                "DROP TABLE IF EXISTS comments; DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS users;
                 CREATE TABLE users (
                     id BIGINT AUTO_INCREMENT PRIMARY KEY,
                     email VARCHAR(255) NOT NULL,
                     name VARCHAR(100) NOT NULL,
                     bio TEXT,
                     created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
                     CONSTRAINT users_email_key UNIQUE (email)) ENGINE = InnoDB;
                 CREATE TABLE posts (
                     id BIGINT AUTO_INCREMENT PRIMARY KEY,
                     author_id BIGINT NOT NULL,
                     title TEXT NOT NULL,
                     body TEXT NOT NULL,
                     published BOOLEAN NOT NULL DEFAULT FALSE,
                     views INTEGER NOT NULL DEFAULT 0,
                     CONSTRAINT posts_views_check CHECK (views >= 0),
                     CONSTRAINT posts_author_fk FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE) ENGINE = InnoDB;
                 CREATE TABLE comments (
                     id BIGINT AUTO_INCREMENT PRIMARY KEY,
                     post_id BIGINT NOT NULL,
                     author_id BIGINT NOT NULL,
                     body TEXT NOT NULL,
                     CONSTRAINT comments_post_fk FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
                     CONSTRAINT comments_author_fk FOREIGN KEY (author_id) REFERENCES users (id)) ENGINE = InnoDB;"
            }
        }
    }
}
