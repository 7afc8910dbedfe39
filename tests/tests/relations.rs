//! Relations: batched loading of belongs-to, has-many, has-one and many-to-many, grouped back
//! to the parents in their order, with the related models' scopes, on every backend; and the
//! Diesel join glue the derive generates.
#![allow(missing_docs)]

use chrono::NaiveDateTime;
use diesel::prelude::*;
use kysera::{BackendKind, Error, Find, Repository};
use kysera_integration_tests::{all_backends, StatementLog};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "users", has_many(Post, name = "posts"), has_one(Profile))]
pub struct User {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "profiles", belongs_to(User))]
pub struct Profile {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub user_id: i64,
    pub bio: String,
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(
    table = "posts",
    belongs_to(User, foreign_key = "author_id"),
    has_many(Comment),
    many_to_many(Tag, through = PostTag)
)]
#[soft_delete]
pub struct Post {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    pub published: bool,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(
    table = "comments",
    belongs_to(Post),
    belongs_to(User, foreign_key = "commenter_id")
)]
pub struct Comment {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub post_id: i64,
    /// NULL for an anonymous comment.
    pub commenter_id: Option<i64>,
    pub body: String,
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "tags")]
#[soft_delete]
pub struct Tag {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "post_tags", belongs_to(Post), belongs_to(Tag))]
pub struct PostTag {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub post_id: i64,
    pub tag_id: i64,
}

fn schema(backend: BackendKind) -> String {
    let (id, ts) = match backend {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP"),
        BackendKind::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMP"),
        BackendKind::Mysql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)"),
    };
    format!(
        "CREATE TABLE users (id {id}, name VARCHAR(100) NOT NULL);
         CREATE TABLE profiles (id {id}, user_id BIGINT NOT NULL, bio TEXT NOT NULL);
         CREATE TABLE posts (id {id}, author_id BIGINT NOT NULL, title VARCHAR(100) NOT NULL,
             published BOOLEAN NOT NULL, deleted_at {ts} NULL);
         CREATE TABLE comments (id {id}, post_id BIGINT NOT NULL, commenter_id BIGINT NULL,
             body TEXT NOT NULL);
         CREATE TABLE tags (id {id}, name VARCHAR(100) NOT NULL, deleted_at {ts} NULL);
         CREATE TABLE post_tags (id {id}, post_id BIGINT NOT NULL, tag_id BIGINT NOT NULL);"
    )
}

fn user(conn: &kysera::Conn, name: &str) -> User {
    conn.repo::<User>()
        .create(&NewUser { name: name.into() })
        .unwrap()
}

fn post(conn: &kysera::Conn, author: &User, title: &str, published: bool) -> Post {
    let new = NewPost {
        author_id: author.id,
        title: title.into(),
        published,
    };
    conn.repo::<Post>().create(&new).unwrap()
}

fn comment(conn: &kysera::Conn, post: &Post, by: Option<&User>, body: &str) -> Comment {
    let new = NewComment {
        post_id: post.id,
        commenter_id: by.map(|u| u.id),
        body: body.into(),
    };
    conn.repo::<Comment>().create(&new).unwrap()
}

fn titles(groups: &[Vec<Post>]) -> Vec<Vec<&str>> {
    groups
        .iter()
        .map(|g| g.iter().map(|p| p.title.as_str()).collect())
        .collect()
}

all_backends! {
    fn has_many_groups_children_in_parent_order_without_soft_deleted_ones(db: &TestDb) {
        let conn = db.conn();
        let (ada, bo, cy) = (user(&conn, "Ada"), user(&conn, "Bo"), user(&conn, "Cy"));
        post(&conn, &ada, "a1", true);
        let b1 = post(&conn, &bo, "b1", true);
        post(&conn, &ada, "a2", false);
        let gone = post(&conn, &ada, "a3-deleted", true);
        conn.repo::<Post>().delete(gone.id).unwrap();

        let log = StatementLog::attach(&conn);
        // Parents in any order, one of them twice, one without children.
        let parents = [cy.clone(), ada.clone(), bo.clone(), ada.clone()];
        let posts = conn.repo::<Post>().children_of(&parents).unwrap();
        assert_eq!(log.take_data_statements().len(), 1, "one statement for every parent");
        assert_eq!(titles(&posts), [vec![], vec!["a1", "a2"], vec!["b1"], vec!["a1", "a2"]]);

        // The generated loader is the same call; an empty list reads nothing.
        let users = conn.repo::<User>();
        assert_eq!(users.load_posts(&parents).unwrap(), posts);
        assert!(users.load_posts(&[]).unwrap().is_empty());
        assert!(log.take_data_statements().len() == 1, "no statement for no parents");

        // Filters and orderings of the children apply per parent; a limit is refused.
        let published_desc = Find::new().filter(posts::published.eq(true)).order_by(posts::title.desc());
        let posts = conn.repo::<Post>().children_of_where(&[ada.clone(), bo.clone()], published_desc).unwrap();
        assert_eq!(titles(&posts), [vec!["a1"], vec!["b1"]]);
        let limited = conn.repo::<Post>().children_of_where([&ada], Find::new().limit(1));
        assert!(matches!(&limited, Err(Error::InvalidArgument(m)) if m.contains("limit")), "{limited:?}");

        // Nested: comments of the posts of both users, in the flattened posts' order.
        let c1 = comment(&conn, &b1, Some(&ada), "nice");
        let posts = users.load_posts(&[ada.clone(), bo.clone()]).unwrap();
        let flat: Vec<&Post> = posts.iter().flatten().collect();
        let comments = conn.repo::<Post>().load_comments(flat.iter().copied()).unwrap();
        assert_eq!(comments, [vec![], vec![], vec![c1]]);
    }

    fn belongs_to_and_has_one_with_nulls_and_scopes(db: &TestDb) {
        let conn = db.conn();
        let (ada, bo) = (user(&conn, "Ada"), user(&conn, "Bo"));
        let a1 = post(&conn, &ada, "a1", true);
        let b1 = post(&conn, &bo, "b1", true);
        let anonymous = comment(&conn, &a1, None, "anonymous");
        let by_bo = comment(&conn, &a1, Some(&bo), "by bo");
        let on_b1 = comment(&conn, &b1, Some(&ada), "by ada");

        let comments = [anonymous.clone(), by_bo.clone(), on_b1.clone()];
        let log = StatementLog::attach(&conn);
        let commenters = conn.repo::<Comment>().load_commenter(&comments).unwrap();
        assert_eq!(commenters, [None, Some(bo.clone()), Some(ada.clone())]);
        let on_posts = conn.repo::<Comment>().load_post(&comments).unwrap();
        assert_eq!(on_posts, [Some(a1.clone()), Some(a1.clone()), Some(b1.clone())]);
        assert_eq!(log.take_data_statements().len(), 2, "one statement per relation");

        // A soft-deleted parent is out of the post repository's scope.
        conn.repo::<Post>().delete(b1.id).unwrap();
        let on_posts = conn.repo::<Post>().parents_of(&comments).unwrap();
        assert_eq!(on_posts, [Some(a1.clone()), Some(a1), None]);
        let authors = conn.repo::<Post>().load_author(&conn.repo::<Post>().with_deleted().find_all().unwrap()).unwrap();
        assert_eq!(authors, [Some(ada.clone()), Some(bo.clone())]);

        // Has one: the first profile by key, or None.
        let profiles = conn.repo::<Profile>();
        let first = profiles.create(&NewProfile { user_id: ada.id, bio: "first".into() }).unwrap();
        profiles.create(&NewProfile { user_id: ada.id, bio: "second".into() }).unwrap();
        let loaded = conn.repo::<User>().load_profile(&[bo, ada]).unwrap();
        assert_eq!(loaded, [None, Some(first)]);
    }

    fn many_to_many_through_a_join_model(db: &TestDb) {
        let conn = db.conn();
        let ada = user(&conn, "Ada");
        let (p1, p2, p3) = (post(&conn, &ada, "p1", true), post(&conn, &ada, "p2", true), post(&conn, &ada, "p3", true));
        let tags = conn.repo::<Tag>();
        let [rust, sql, old]: [Tag; 3] = ["rust", "sql", "old"].map(|name| tags.create(&NewTag { name: name.into() }).unwrap());
        let link = |p: &Post, t: &Tag| {
            conn.repo::<PostTag>().create(&NewPostTag { post_id: p.id, tag_id: t.id }).unwrap();
        };
        link(&p1, &sql);
        link(&p1, &rust);
        link(&p1, &old);
        link(&p2, &sql);
        tags.delete(old.id).unwrap();

        let log = StatementLog::attach(&conn);
        let loaded = conn.repo::<Post>().load_tags(&[p1.clone(), p2.clone(), p3.clone()]).unwrap();
        assert_eq!(log.take_data_statements().len(), 2, "join rows, then the tags");
        // By tag key; the soft-deleted tag is left out.
        assert_eq!(loaded, [vec![rust.clone(), sql.clone()], vec![sql.clone()], vec![]]);

        // Only the tags `find` selects, in its order.
        let by_name_desc = Find::new().order_by(tags::name.desc());
        let loaded = conn.repo::<Tag>().through_where::<PostTag, Post>(&[p1, p2], by_name_desc).unwrap();
        assert_eq!(loaded, [vec![sql.clone(), rust], vec![sql]]);
    }

    fn three_levels_for_a_hundred_parents_are_three_statements(db: &TestDb) {
        let conn = db.conn();
        // 100 users with 2 posts each, 2 comments per post, each comment by another user.
        let users: Vec<User> = conn.repo::<User>()
            .create_many(&(0..100).map(|i| NewUser { name: format!("u{i}") }).collect::<Vec<_>>())
            .unwrap();
        let new_posts: Vec<NewPost> = users.iter().flat_map(|u| (0..2).map(move |j| NewPost {
            author_id: u.id,
            title: format!("{}-{j}", u.name),
            published: j == 0,
        })).collect();
        let posts = conn.repo::<Post>().create_many(&new_posts).unwrap();
        let new_comments: Vec<NewComment> = posts.iter().enumerate().flat_map(|(i, p)| {
            let by = users[(i + 1) % users.len()].id;
            (0..2).map(move |k| NewComment { post_id: p.id, commenter_id: Some(by), body: format!("{}#{k}", p.title) })
        }).collect();
        conn.repo::<Comment>().create_many(&new_comments).unwrap();

        let log = StatementLog::attach(&conn);
        let posts = conn.repo::<User>().load_posts(&users).unwrap();
        let flat_posts: Vec<&Post> = posts.iter().flatten().collect();
        let comments = conn.repo::<Post>().load_comments(flat_posts.iter().copied()).unwrap();
        let flat_comments: Vec<&Comment> = comments.iter().flatten().collect();
        let commenters = conn.repo::<Comment>().load_commenter(flat_comments.iter().copied()).unwrap();
        let statements = log.take_data_statements();
        assert_eq!(statements.len(), 3, "{statements:#?}");

        // And the tree is right: every user's posts, every post's comments, every commenter.
        assert!(posts.iter().zip(&users).all(|(ps, u)| ps.len() == 2 && ps.iter().all(|p| p.author_id == u.id)));
        assert_eq!(comments.len(), 200);
        assert!(comments.iter().zip(&flat_posts).all(|(cs, p)| cs.len() == 2 && cs.iter().all(|c| c.post_id == p.id && c.body.starts_with(&p.title))));
        assert_eq!(commenters.len(), 400);
        assert!(commenters.iter().zip(&flat_comments).all(|(u, c)| u.as_ref().map(|u| u.id) == c.commenter_id));
    }

    fn filters_through_a_relation_keep_the_related_scope(db: &TestDb) {
        let conn = db.conn();
        let (ada, bo, cy) = (user(&conn, "Ada"), user(&conn, "Bo"), user(&conn, "Cy"));
        post(&conn, &ada, "a-draft", false);
        let gone = post(&conn, &bo, "b-published-then-deleted", true);
        post(&conn, &bo, "b-draft", false);
        post(&conn, &cy, "c-published", true);
        conn.repo::<Post>().delete(gone.id).unwrap();

        // Users with a published post: Bo's only one is soft-deleted, so only Cy.
        let users = conn.repo::<User>();
        let publishing = users.where_children::<Post>(posts::published.eq(true)).unwrap();
        let found = users.find(Find::new().filter(publishing)).unwrap();
        assert_eq!(found, [cy]);

        // Posts whose author matches, combined with the post's own filters and scope.
        let posts = conn.repo::<Post>();
        let by = posts.where_parent::<User>(users::name.eq_any(["Bo", "Cy"])).unwrap();
        let found = posts.find(Find::new().filter(by).order_by(posts::title.asc())).unwrap();
        assert_eq!(found.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["b-draft", "c-published"]);

        // A soft-deleted parent never makes a child match: tags through post_tags.
        let p = post(&conn, &ada, "tagged", true);
        let tags = conn.repo::<Tag>();
        let old = tags.create(&NewTag { name: "old".into() }).unwrap();
        conn.repo::<PostTag>().create(&NewPostTag { post_id: p.id, tag_id: old.id }).unwrap();
        let links = conn.repo::<PostTag>();
        let tagged_old = || links.where_parent::<Tag>(tags::name.eq("old")).unwrap();
        assert_eq!(links.count_where(tagged_old()).unwrap(), 1);
        tags.delete(old.id).unwrap();
        assert_eq!(links.count_where(tagged_old()).unwrap(), 0);
        // Run-time filters work through relations too, checked against the related model.
        let unknown = posts.where_parent::<User>(kysera::Filter::eq("colour", "red"));
        assert!(matches!(unknown, Err(Error::UnknownColumn { .. })), "{unknown:?}");
    }

    fn generated_join_glue_lets_diesel_join_both_ways(db: &TestDb) {
        let conn = db.conn();
        let (ada, bo) = (user(&conn, "Ada"), user(&conn, "Bo"));
        post(&conn, &ada, "a1", true);
        post(&conn, &bo, "b1", true);
        post(&conn, &ada, "a2", true);
        let by_ada: Vec<String> = conn.load(
            posts::table.inner_join(users::table).filter(users::name.eq("Ada")).select(posts::title).order(posts::id),
        ).unwrap();
        assert_eq!(by_ada, ["a1", "a2"]);
        let counted: Vec<(String, String)> = conn.load(
            users::table.inner_join(posts::table).select((users::name, posts::title)).order(posts::id),
        ).unwrap();
        assert_eq!(counted, [("Ada".to_string(), "a1".to_string()), ("Bo".into(), "b1".into()), ("Ada".into(), "a2".into())]);
    }
}
