//! A blog on kysera: users, posts and comments with foreign keys.
//!
//! ```text
//! cargo run --example blog                                     # embedded SQLite (blog.db)
//! cargo run --example blog --features postgres -- postgres://postgres@127.0.0.1/test
//! cargo run --example blog --features mysql -- mysql://root@127.0.0.1/test
//! ```
//!
//! It creates its schema, writes through repositories inside one transaction, reads back,
//! filters and paginates, upserts, loads relations in one statement per level, and shows the
//! typed error of a unique violation.

use kysera::prelude::*;
use kysera::{mask_password, Filter, Find, PageRequest, Upsert};
use kysera_examples::blog::{self, Comment, NewComment, NewPost, NewUser, Post, PostUpdate, User};

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

fn run() -> kysera::Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://blog.db".to_string());
    let db = Database::connect(&url)?;
    println!("connected to {} ({})", mask_password(&url), db.backend());
    db.conn()?.batch_execute(blog::schema(db.backend()))?;

    // One transaction, three repositories held at once: all of it commits or none of it does.
    let (ada, first_post) = db.transaction(|tx| {
        let (users, posts, comments) = tx.repos::<(User, Post, Comment)>();
        let ada = users.create(&NewUser {
            email: "ada@example.com".into(),
            name: "Ada Lovelace".into(),
            bio: Some("First programmer".into()),
        })?;
        let grace = users.create(&NewUser {
            email: "grace@example.com".into(),
            name: "Grace Hopper".into(),
            bio: None,
        })?;
        let drafts: Vec<NewPost> = (1..=25)
            .map(|n| NewPost {
                author_id: ada.id,
                title: format!("Note {n} on the Analytical Engine"),
                body: "...".into(),
                published: n % 5 != 0,
                views: 0,
            })
            .collect();
        let created = posts.create_many(&drafts)?;
        comments.create(&NewComment {
            post_id: created[0].id,
            author_id: grace.id,
            body: "Brilliant.".into(),
        })?;
        Ok::<_, kysera::Error>((ada, created[0].clone()))
    })?;
    println!("created {} (id {}) with {} posts", ada.name, ada.id, 25);

    let conn = db.conn()?;
    let posts = conn.repo::<Post>();
    let read = posts.update(
        first_post.id,
        &PostUpdate {
            views: Some(42),
            ..Default::default()
        },
    )?;
    println!("post {:?} now has {} views", read.title, read.views);

    let page = posts.paginate(PageRequest::new(2, 10))?;
    println!(
        "page {}/{} of posts: {} items, total {}, has_next {}, has_prev {}",
        page.page,
        page.total_pages,
        page.items.len(),
        page.total,
        page.has_next,
        page.has_prev
    );
    let published = posts.published_by(ada.id)?;
    println!(
        "{} published posts by {}; newest: {:?}",
        published.len(),
        ada.name,
        published[0].title
    );

    // Filters: typed Diesel expressions, and run-time ones named by string (from a query string).
    use diesel::prelude::*;
    let (top, total) = posts.find_and_count(
        Find::new()
            .filter(blog::posts::published.eq(true))
            .filter(Filter::contains("title", "Engine"))
            .order_by(blog::posts::id.desc())
            .limit(3),
    )?;
    println!(
        "{} of {total} matching posts, newest first: {:?}",
        top.len(),
        top[0].title
    );

    // Upsert on the unique email: inserts Grace's colleague, updates Ada's name.
    let users = conn.repo::<User>();
    let upserted = users.upsert_many(
        &[
            NewUser {
                email: "ada@example.com".into(),
                name: "Ada, Countess of Lovelace".into(),
                bio: None,
            },
            NewUser {
                email: "kay@example.com".into(),
                name: "Kay McNulty".into(),
                bio: None,
            },
        ],
        &Upsert::on(["email"]).update(["name"]),
    )?;
    for u in &upserted {
        println!(
            "upsert {}: {}",
            if u.inserted { "inserted" } else { "updated" },
            u.row.name
        );
    }

    // Relations: every user with their posts and each post's comments, in three statements
    // whatever the number of users (no N+1).
    let everyone = users.find_all()?;
    let their_posts = users.load_posts(&everyone)?;
    let comments = posts.load_comments(their_posts.iter().flatten())?;
    let commenters = conn
        .repo::<Comment>()
        .load_author(comments.iter().flatten())?;
    for (user, posts) in everyone.iter().zip(&their_posts) {
        println!("{} wrote {} posts", user.name, posts.len());
    }
    let names: Vec<&str> = commenters
        .iter()
        .flatten()
        .map(|u| u.name.as_str())
        .collect();
    println!(
        "{} comments, by {names:?}",
        comments.iter().flatten().count()
    );

    // A second account with the same email: the database refuses, kysera says which field.
    match users.create(&NewUser {
        email: "ada@example.com".into(),
        name: "Impostor".into(),
        bio: None,
    }) {
        Err(Error::UniqueViolation(v)) => println!(
            "unique violation as expected: field {:?}, constraint {:?}",
            v.field.as_deref().unwrap_or("?"),
            v.constraint
                .as_deref()
                .unwrap_or("(not reported by this backend)")
        ),
        other => println!("unexpected: {other:?}"),
    }
    // Invalid input never reaches the database; every failing field is listed.
    if let Err(Error::Validation(errors)) = users.create(&NewUser {
        email: "nope".into(),
        name: String::new(),
        bio: None,
    }) {
        println!("validation failed on {} fields: {errors}", errors.len());
    }
    println!(
        "users: {}, comments: {}",
        users.count()?,
        conn.repo::<Comment>().count()?
    );
    Ok(())
}
