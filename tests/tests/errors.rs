//! Constraint violations reach the caller as typed errors naming what the backend reported.

use diesel::prelude::*;
use kysera::{BackendKind, Error};
use kysera_examples::blog::{self, posts, NewPost, NewUser, Post, User};
use kysera_integration_tests::all_backends;

fn schema(backend: BackendKind) -> &'static str {
    blog::schema(backend)
}

fn post_by(author_id: i64) -> NewPost {
    NewPost {
        author_id,
        title: "t".into(),
        body: "b".into(),
        published: false,
        views: 0,
    }
}

all_backends! {
    fn unique_violation_names_the_field(db: &TestDb) {
        let conn = db.conn();
        let users = conn.repo::<User>();
        let new = NewUser { email: "dup@example.com".into(), name: "A".into(), bio: None };
        users.create(&new).unwrap();
        match users.create(&new) {
            Err(Error::UniqueViolation(v)) => {
                assert_eq!(v.field.as_deref(), Some("email"), "{v:?}");
                assert_eq!(v.columns, vec!["email".to_string()], "{v:?}");
                assert_eq!(v.table.as_deref(), Some("users"), "{v:?}");
                if db.backend() != BackendKind::Sqlite {
                    // SQLite does not report constraint names.
                    assert_eq!(v.constraint.as_deref(), Some("users_email_key"), "{v:?}");
                }
            }
            other => panic!("expected a unique violation, got {other:?}"),
        }
        // The same through update.
        let other = users.create(&NewUser { email: "other@example.com".into(), ..new.clone() }).unwrap();
        let patch = blog::UserUpdate { email: Some("dup@example.com".into()), ..Default::default() };
        assert!(matches!(users.update(other.id, &patch), Err(Error::UniqueViolation(v)) if v.field.as_deref() == Some("email")));
    }

    fn foreign_key_violation(db: &TestDb) {
        let conn = db.conn();
        match conn.repo::<Post>().create(&post_by(424_242)) {
            Err(Error::ForeignKeyViolation(v)) => {
                if db.backend() != BackendKind::Sqlite {
                    assert_eq!(v.table.as_deref(), Some("posts"), "{v:?}");
                    assert_eq!(v.referenced_table.as_deref(), Some("users"), "{v:?}");
                }
            }
            other => panic!("expected a foreign-key violation, got {other:?}"),
        }
    }

    fn check_violation(db: &TestDb) {
        let conn = db.conn();
        let author = conn.repo::<User>().create(&NewUser { email: "c@example.com".into(), name: "C".into(), bio: None }).unwrap();
        let post = conn.repo::<Post>().create(&post_by(author.id)).unwrap();
        // Validation catches negative views before the database does; go around it.
        let err = conn.execute(diesel::update(posts::table.find(post.id)).set(posts::views.eq(-1))).unwrap_err();
        match err {
            Error::CheckViolation { constraint, .. } => {
                if db.backend() != BackendKind::Sqlite {
                    assert_eq!(constraint.as_deref(), Some("posts_views_check"));
                }
            }
            other => panic!("expected a check violation, got {other:?}"),
        }
    }

    fn not_null_violation(db: &TestDb) {
        let conn = db.conn();
        let err = conn.batch_execute("INSERT INTO users (email, name) VALUES ('n@example.com', NULL)").unwrap_err();
        match err {
            Error::NotNullViolation { column, .. } => assert_eq!(column.as_deref(), Some("name")),
            other => panic!("expected a not-null violation, got {other:?}"),
        }
    }

    fn errors_are_not_transient_but_classified(db: &TestDb) {
        let conn = db.conn();
        let users = conn.repo::<User>();
        let new = NewUser { email: "t@example.com".into(), name: "T".into(), bio: None };
        users.create(&new).unwrap();
        let err = users.create(&new).unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(err.code(), "unique_violation");
    }
}
