//! Every repository operation, on SQLite, PostgreSQL and MySQL.

use kysera::validate::ValidationMode;
use kysera::{BackendKind, Error, PageRequest};
use kysera_examples::blog::{self, NewPost, NewUser, Post, User, UserUpdate};
use kysera_integration_tests::{all_backends, StatementLog, TestDb};

fn schema(backend: BackendKind) -> &'static str {
    blog::schema(backend)
}

fn new_user(n: usize) -> NewUser {
    NewUser {
        email: format!("user{n}@example.com"),
        name: format!("User {n}"),
        bio: None,
    }
}

fn seed_users(db: &TestDb, n: usize) -> Vec<User> {
    let rows: Vec<NewUser> = (0..n).map(new_user).collect();
    db.conn()
        .repo::<User>()
        .create_many(&rows)
        .expect("seed users")
}

all_backends! {
    fn create_returns_the_stored_row(db: &TestDb) {
        let conn = db.conn();
        let users = conn.repo::<User>();
        let created = users
            .create(&NewUser { email: "ada@example.com".into(), name: "Ada".into(), bio: Some("math".into()) })
            .unwrap();
        assert!(created.id > 0);
        assert_eq!((created.email.as_str(), created.name.as_str(), created.bio.as_deref()), ("ada@example.com", "Ada", Some("math")));
        // created_at came from the database default.
        let age = chrono::Utc::now().naive_utc() - created.created_at;
        assert!(age.num_hours().abs() < 24, "created_at {} is not the database's now", created.created_at);
        assert_eq!(users.get(created.id).unwrap(), created);
        assert_eq!(users.find_by_id(created.id).unwrap(), Some(created.clone()));
        assert_eq!(users.find_by_id(created.id + 1000).unwrap(), None);
    }

    fn reads_find_count_and_exist(db: &TestDb) {
        let seeded = seed_users(db, 5);
        let conn = db.conn();
        let users = conn.repo::<User>();
        let all = users.find_all().unwrap();
        assert_eq!(all, seeded, "find_all returns every row ordered by key");
        let wanted = [seeded[4].id, seeded[0].id, seeded[2].id, 999_999];
        let found = users.find_by_ids(&wanted).unwrap();
        assert_eq!(found, vec![seeded[0].clone(), seeded[2].clone(), seeded[4].clone()]);
        assert!(users.find_by_ids(&[]).unwrap().is_empty());
        assert_eq!(users.count().unwrap(), 5);
        assert!(users.exists(seeded[1].id).unwrap());
        assert!(!users.exists(999_999).unwrap());
        match users.get(999_999) {
            Err(Error::NotFound { table, key }) => assert_eq!((table.as_str(), key.as_str()), ("users", "999999")),
            other => panic!("expected NotFound, got {other:?}"),
        }
    }

    fn find_by_ids_is_one_statement(db: &TestDb) {
        let seeded = seed_users(db, 20);
        let conn = db.conn();
        let log = StatementLog::attach(&conn);
        let ids: Vec<i64> = seeded.iter().map(|u| u.id).collect();
        assert_eq!(conn.repo::<User>().find_by_ids(&ids).unwrap().len(), 20);
        let statements = log.take();
        assert_eq!(statements.len(), 1, "{statements:#?}");
    }

    fn typed_finders_filter_by_column(db: &TestDb) {
        let conn = db.conn();
        let users = conn.repo::<User>();
        let a = users.create(&NewUser { email: "a@x.io".into(), name: "Sam".into(), bio: Some("hi".into()) }).unwrap();
        let b = users.create(&NewUser { email: "b@x.io".into(), name: "Sam".into(), bio: None }).unwrap();
        assert_eq!(users.find_by_email("b@x.io").unwrap(), vec![b.clone()]);
        assert_eq!(users.find_by_name("Sam").unwrap(), vec![a.clone(), b.clone()]);
        assert_eq!(users.find_one_by_name("Sam").unwrap(), Some(a.clone()));
        assert_eq!(users.find_one_by_name("Nobody").unwrap(), None);
        assert_eq!(users.find_by_bio("hi").unwrap(), vec![a]);
    }

    fn update_applies_only_the_patch(db: &TestDb) {
        let conn = db.conn();
        let users = conn.repo::<User>();
        let user = users.create(&NewUser { email: "u@x.io".into(), name: "Before".into(), bio: None }).unwrap();

        let renamed = users.update(user.id, &UserUpdate { name: Some("After".into()), ..Default::default() }).unwrap();
        assert_eq!(renamed, User { name: "After".into(), ..user.clone() });

        let with_bio = users.update(user.id, &UserUpdate { bio: Some(Some("bio".into())), ..Default::default() }).unwrap();
        assert_eq!(with_bio.bio.as_deref(), Some("bio"));
        let cleared = users.update(user.id, &UserUpdate { bio: Some(None), ..Default::default() }).unwrap();
        assert_eq!(cleared.bio, None, "Some(None) sets NULL");
        assert_eq!(cleared.name, "After");

        let unchanged = users.update(user.id, &UserUpdate::default()).unwrap();
        assert_eq!(unchanged, cleared, "an empty patch changes nothing");

        match users.update(999_999, &UserUpdate { name: Some("x".into()), ..Default::default() }) {
            Err(Error::NotFound { table, .. }) => assert_eq!(table, "users"),
            other => panic!("expected NotFound, got {other:?}"),
        }
    }

    fn invalid_input_lists_every_field_and_writes_nothing(db: &TestDb) {
        let conn = db.conn();
        let users = conn.repo::<User>();
        let err = users.create(&NewUser { email: "not-an-email".into(), name: String::new(), bio: None }).unwrap_err();
        let Error::Validation(errors) = err else { panic!("expected a validation error, got {err:?}") };
        let failing: Vec<(&str, &str)> = errors.errors.iter().map(|e| (e.field, e.rule)).collect();
        assert_eq!(failing, vec![("email", "email"), ("name", "length")]);
        let json = serde_json::to_value(&errors).unwrap();
        assert_eq!(json["errors"][0]["field"], "email");
        assert_eq!(json["errors"][1]["rule"], "length");
        assert_eq!(users.count().unwrap(), 0);

        let user = users.create(&new_user(1)).unwrap();
        let bad_patch = UserUpdate { email: Some("still not".into()), ..Default::default() };
        assert!(matches!(users.update(user.id, &bad_patch), Err(Error::Validation(_))));
        assert_eq!(users.get(user.id).unwrap(), user, "a rejected patch writes nothing");

        let batch = vec![new_user(2), NewUser { email: "bad".into(), ..new_user(3) }];
        assert!(matches!(users.create_many(&batch), Err(Error::Validation(_))));
        assert_eq!(users.count().unwrap(), 1);
    }

    fn create_many_chunks_under_the_bind_limit(db: &TestDb) {
        // 3 binds per row: 14,000 rows need 42,000 binds, over SQLite's 32,766 limit (two
        // statements) and under 65,535 elsewhere (one).
        let rows: Vec<NewUser> = (0..14_000).map(new_user).collect();
        let conn = db.conn();
        let log = StatementLog::attach(&conn);
        let created = conn.repo::<User>().create_many(&rows).unwrap();
        let inserts = log.take().iter().filter(|s| s.trim_start().to_ascii_uppercase().starts_with("INSERT")).count();
        let expected_inserts = if db.backend() == BackendKind::Sqlite { 2 } else { 1 };
        assert_eq!(inserts, expected_inserts);
        assert_eq!(created.len(), 14_000);
        for (row, new) in created.iter().zip(&rows) {
            assert_eq!(row.email, new.email, "rows come back in input order");
        }
        assert!(created.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(conn.repo::<User>().count().unwrap(), 14_000);
    }

    fn create_many_is_all_or_nothing(db: &TestDb) {
        seed_users(db, 1); // user0@example.com
        let conn = db.conn();
        let users = conn.repo::<User>();
        let batch = vec![new_user(10), new_user(11), new_user(0), new_user(12)];
        let err = users.create_many(&batch).unwrap_err();
        assert!(matches!(err, Error::UniqueViolation(_)), "{err:?}");
        assert_eq!(users.count().unwrap(), 1, "no row of the failed batch remains");
    }

    fn update_many_applies_one_patch(db: &TestDb) {
        let seeded = seed_users(db, 4);
        let conn = db.conn();
        let users = conn.repo::<User>();
        let ids = [seeded[3].id, seeded[1].id];
        let log = StatementLog::attach(&conn);
        let updated = users.update_many(&ids, &UserUpdate { bio: Some(Some("same".into())), ..Default::default() }).unwrap();
        let statements = log.take_data_statements();
        let expected = if db.backend() == BackendKind::Mysql { 2 } else { 1 };
        assert_eq!(statements.len(), expected, "{statements:#?}");
        assert_eq!(updated.iter().map(|u| u.id).collect::<Vec<_>>(), vec![seeded[1].id, seeded[3].id]);
        assert!(updated.iter().all(|u| u.bio.as_deref() == Some("same")));
        assert_eq!(users.get(seeded[0].id).unwrap().bio, None, "rows outside the list are untouched");
    }

    fn bulk_update_applies_each_patch_in_one_statement(db: &TestDb) {
        let seeded = seed_users(db, 5);
        let conn = db.conn();
        let users = conn.repo::<User>();
        users.update(seeded[2].id, &UserUpdate { bio: Some(Some("old".into())), ..Default::default() }).unwrap();
        let patches = vec![
            (seeded[0].id, UserUpdate { name: Some("Zero".into()), ..Default::default() }),
            (seeded[1].id, UserUpdate { bio: Some(Some("one".into())), ..Default::default() }),
            (seeded[2].id, UserUpdate { name: Some("Two".into()), bio: Some(None), ..Default::default() }),
            (seeded[4].id, UserUpdate { email: Some("four@example.com".into()), ..Default::default() }),
        ];
        let log = StatementLog::attach(&conn);
        let updated = users.bulk_update(&patches).unwrap();
        let statements = log.take_data_statements();
        let expected = if db.backend() == BackendKind::Mysql { 2 } else { 1 };
        assert_eq!(statements.len(), expected, "{statements:#?}");
        assert_eq!(updated.len(), 4);
        let by_id = |id: i64| users.get(id).unwrap();
        assert_eq!(by_id(seeded[0].id).name, "Zero");
        assert_eq!(by_id(seeded[0].id).bio, None);
        assert_eq!(by_id(seeded[1].id).bio.as_deref(), Some("one"));
        assert_eq!(by_id(seeded[1].id).name, seeded[1].name);
        assert_eq!((by_id(seeded[2].id).name.as_str(), by_id(seeded[2].id).bio.clone()), ("Two", None));
        assert_eq!(by_id(seeded[3].id), seeded[3], "a row without a patch is untouched");
        assert_eq!(by_id(seeded[4].id).email, "four@example.com");
        assert_eq!(updated, users.find_by_ids(&[seeded[0].id, seeded[1].id, seeded[2].id, seeded[4].id]).unwrap());
    }

    fn bulk_update_is_all_or_nothing(db: &TestDb) {
        let seeded = seed_users(db, 3);
        let conn = db.conn();
        let users = conn.repo::<User>();
        // Two rows take the same new email: the unique constraint rejects the statement.
        let patches = vec![
            (seeded[0].id, UserUpdate { email: Some("clash@example.com".into()), ..Default::default() }),
            (seeded[1].id, UserUpdate { email: Some("clash@example.com".into()), ..Default::default() }),
        ];
        assert!(matches!(users.bulk_update(&patches), Err(Error::UniqueViolation(_))));
        assert_eq!(users.find_all().unwrap(), seeded);
    }

    fn delete_and_delete_many(db: &TestDb) {
        let seeded = seed_users(db, 4);
        let conn = db.conn();
        let users = conn.repo::<User>();
        users.delete(seeded[0].id).unwrap();
        assert!(matches!(users.delete(seeded[0].id), Err(Error::NotFound { .. })));
        assert_eq!(users.delete_many(&[seeded[1].id, seeded[2].id, 999_999]).unwrap(), 2);
        assert_eq!(users.find_all().unwrap(), vec![seeded[3].clone()]);
    }

    fn offset_pagination(db: &TestDb) {
        let seeded = seed_users(db, 45);
        let conn = db.conn();
        let users = conn.repo::<User>();
        let first = users.paginate(PageRequest::new(1, 10)).unwrap();
        assert_eq!(first.items, seeded[..10].to_vec());
        assert_eq!((first.total, first.total_pages, first.has_next, first.has_prev), (45, 5, true, false));
        let last = users.paginate(PageRequest::new(5, 10)).unwrap();
        assert_eq!(last.items, seeded[40..].to_vec());
        assert_eq!((last.has_next, last.has_prev), (false, true));
        let past = users.paginate(PageRequest::new(6, 10)).unwrap();
        assert!(past.items.is_empty());
        assert!(!past.has_next);
        assert!(matches!(users.paginate(PageRequest::new(0, 10)), Err(Error::InvalidArgument(_))));
        assert!(matches!(users.paginate(PageRequest::new(1, 0)), Err(Error::InvalidArgument(_))));
    }

    fn escape_hatch_custom_finder(db: &TestDb) {
        let author = seed_users(db, 1).remove(0);
        let conn = db.conn();
        let posts = conn.repo::<Post>();
        let mk = |title: &str, published: bool| NewPost { author_id: author.id, title: title.into(), body: "b".into(), published, views: 0 };
        let first = posts.create(&mk("first", true)).unwrap();
        posts.create(&mk("draft", false)).unwrap();
        let third = posts.create(&mk("third", true)).unwrap();
        assert_eq!(posts.published_by(author.id).unwrap(), vec![third, first]);
    }

    fn reads_are_validated_when_asked(db: &TestDb) {
        let conn = db.conn();
        conn.batch_execute("INSERT INTO users (email, name) VALUES ('not an email', 'Bad')").unwrap();
        let users = conn.repo::<User>();
        let strict = users.with_validation(ValidationMode::Always);
        assert!(matches!(strict.find_all(), Err(Error::Validation(_))));
        let lenient = users.with_validation(ValidationMode::Never);
        assert_eq!(lenient.find_all().unwrap().len(), 1);
    }
}
