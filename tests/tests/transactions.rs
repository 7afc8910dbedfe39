//! Transactions, savepoints and holding several repositories at once.

use kysera::{BackendKind, Error};
use kysera_examples::blog::{self, Comment, NewComment, NewPost, NewUser, Post, User};
use kysera_integration_tests::all_backends;

fn schema(backend: BackendKind) -> &'static str {
    blog::schema(backend)
}

fn ada() -> NewUser {
    NewUser {
        email: "ada@example.com".into(),
        name: "Ada".into(),
        bio: None,
    }
}

#[derive(Debug)]
struct Abort;
impl From<Error> for Abort {
    fn from(err: Error) -> Self {
        panic!("unexpected database error: {err}")
    }
}

all_backends! {
    fn commit_keeps_every_write(db: &TestDb) {
        let post = db
            .db
            .transaction(|tx| {
                let (users, posts) = tx.repos::<(User, Post)>();
                let author = users.create(&ada())?;
                posts.create(&NewPost { author_id: author.id, title: "Hello".into(), body: "...".into(), published: true, views: 0 })
            })
            .unwrap();
        let conn = db.conn();
        assert_eq!(conn.repo::<Post>().get(post.id).unwrap(), post);
        assert_eq!(conn.repo::<User>().count().unwrap(), 1);
    }

    fn an_error_rolls_everything_back(db: &TestDb) {
        let result: Result<(), Abort> = db.db.transaction(|tx| {
            let users = tx.repo::<User>();
            let posts = tx.repo::<Post>();
            let author = users.create(&ada())?;
            posts.create(&NewPost { author_id: author.id, title: "t".into(), body: "b".into(), published: false, views: 0 })?;
            Err(Abort)
        });
        assert!(result.is_err());
        let conn = db.conn();
        assert_eq!(conn.repo::<User>().count().unwrap(), 0);
        assert_eq!(conn.repo::<Post>().count().unwrap(), 0);
    }

    fn a_database_error_inside_rolls_back(db: &TestDb) {
        let result = db.db.transaction(|tx| {
            let users = tx.repo::<User>();
            users.create(&ada())?;
            users.create(&ada()) // unique violation
        });
        assert!(matches!(result, Err(Error::UniqueViolation(_))), "{result:?}");
        assert_eq!(db.conn().repo::<User>().count().unwrap(), 0);
    }

    fn nested_transactions_are_savepoints(db: &TestDb) {
        let conn = db.conn();
        // Repositories made outside the transaction work inside it.
        let users = conn.repo::<User>();
        conn.transaction(|tx| {
            assert!(tx.in_transaction());
            users.create(&ada())?;
            let inner: Result<(), Error> = tx.transaction(|_| {
                users.create(&NewUser { email: "bob@example.com".into(), name: "Bob".into(), bio: None })?;
                Err(Error::InvalidArgument("undo the savepoint".into()))
            });
            assert!(inner.is_err());
            assert_eq!(users.count()?, 1, "the savepoint's write is gone, the outer one stays");
            tx.transaction(|_| users.create(&NewUser { email: "cy@example.com".into(), name: "Cy".into(), bio: None }))?;
            Ok::<_, Error>(())
        })
        .unwrap();
        assert!(!conn.in_transaction());
        let emails: Vec<String> = users.find_all().unwrap().into_iter().map(|u| u.email).collect();
        assert_eq!(emails, vec!["ada@example.com", "cy@example.com"]);
    }

    fn repositories_of_a_transaction_share_it(db: &TestDb) {
        let conn = db.conn();
        let (users, posts, comments) = conn.repos::<(User, Post, Comment)>();
        let result: Result<(), Abort> = conn.transaction(|_| {
            let author = users.create(&ada())?;
            let post = posts.create(&NewPost { author_id: author.id, title: "t".into(), body: "b".into(), published: true, views: 0 })?;
            comments.create(&NewComment { post_id: post.id, author_id: author.id, body: "nice".into() })?;
            assert_eq!(comments.count()?, 1);
            Err(Abort)
        });
        assert!(result.is_err());
        assert_eq!((users.count().unwrap(), posts.count().unwrap(), comments.count().unwrap()), (0, 0, 0));
    }

    fn lending_the_connection_twice_is_an_error(db: &TestDb) {
        let conn = db.conn();
        let users = conn.repo::<User>();
        let nested = conn.with_connection(|_| users.count()).unwrap();
        assert!(matches!(nested, Err(Error::ConnectionBusy)));
        assert_eq!(users.count().unwrap(), 0, "the connection is usable afterwards");
    }
}
