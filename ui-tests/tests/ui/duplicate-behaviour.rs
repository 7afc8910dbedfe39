use chrono::NaiveDateTime;
use kysera::Repository;

// Bare and namespaced spellings are one attribute.
#[derive(Repository)]
#[soft_delete]
#[kysera(soft_delete)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
    pub deleted_at: Option<NaiveDateTime>,
}

// Options are not merged across two attributes.
#[derive(Repository)]
#[soft_delete(column = "removed_at")]
#[soft_delete(column = "removed_at")]
pub struct Post {
    #[kysera(primary_key)]
    pub id: i64,
    pub title: String,
    pub removed_at: Option<NaiveDateTime>,
}

// Empty parentheses still turn the behaviour on.
#[derive(Repository)]
#[audited()]
#[kysera(audited(values = false))]
pub struct Comment {
    #[kysera(primary_key)]
    pub id: i64,
    pub body: String,
}

fn main() {}
