// Every attribute at once, used through the public API on in-memory SQLite.

use kysera::prelude::*;

fn no_spaces(value: &String) -> Result<(), String> {
    if value.contains(' ') {
        Err("must not contain spaces".to_string())
    } else {
        Ok(())
    }
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "accounts")]
pub struct Account {
    #[kysera(primary_key, generated)]
    pub id: i64,
    #[kysera(column = "email_address", validate(email, length(min = 3, max = 254)))]
    pub email: String,
    #[kysera(validate(url))]
    pub homepage: Option<String>,
    #[kysera(validate(non_empty, custom = no_spaces, regex = "^[a-z0-9_]+$"))]
    pub handle: String,
    #[kysera(validate(range(min = 0, max = 150)))]
    pub age: i32,
    #[kysera(validate(range(min = 0.0)))]
    pub score: f64,
    #[kysera(validate(length(max = 10)))]
    pub tags: Option<String>,
    #[kysera(sql_type = diesel::sql_types::Text)]
    pub nickname: String,
    #[kysera(skip_update)]
    pub created_by: String,
    #[kysera(generated)]
    pub revision: Option<i32>,
}

fn main() -> kysera::Result<()> {
    let db = Database::connect("sqlite::memory:")?;
    let conn = db.conn()?;
    conn.batch_execute(
        "CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            email_address TEXT NOT NULL,
            homepage TEXT,
            handle TEXT NOT NULL,
            age INTEGER NOT NULL,
            score DOUBLE NOT NULL,
            tags TEXT,
            nickname TEXT NOT NULL,
            created_by TEXT NOT NULL,
            revision INTEGER DEFAULT 1
        )",
    )?;
    let accounts = conn.repo::<Account>();

    let new = NewAccount {
        email: "ada@example.com".into(),
        homepage: Some("https://example.com".into()),
        handle: "ada".into(),
        age: 36,
        score: 9.5,
        tags: None,
        nickname: "Ada".into(),
        created_by: "admin".into(),
    };
    assert!(new.validate().is_ok());
    let ada = accounts.create(&new)?;
    assert_eq!(ada.email, "ada@example.com");
    assert_eq!(ada.revision, Some(1));

    let ada = accounts.update(ada.id, &AccountUpdate { age: Some(37), ..Default::default() })?;
    assert_eq!(ada.age, 37);
    assert_eq!(accounts.find_by_email("ada@example.com")?, vec![ada.clone()]);
    assert_eq!(accounts.find_by_id(ada.id)?, Some(ada.clone()));

    let bad = NewAccount {
        email: "not an email".into(),
        homepage: Some("nope".into()),
        handle: "has space".into(),
        age: 200,
        score: -1.0,
        tags: Some("far too long for ten".into()),
        ..new
    };
    let errors = bad.validate().unwrap_err();
    let rules: Vec<&str> = errors.errors.iter().map(|e| e.rule).collect();
    assert_eq!(rules, ["email", "url", "custom", "regex", "range", "range", "length"]);
    assert!(matches!(accounts.create(&bad), Err(kysera::Error::Validation(_))));
    assert_eq!(accounts.count()?, 1);
    Ok(())
}
