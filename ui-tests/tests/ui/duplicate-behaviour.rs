use chrono::NaiveDateTime;
use kysera::Repository;

#[derive(Repository)]
#[soft_delete]
#[kysera(soft_delete)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Repository)]
#[soft_delete(column = "removed_at")]
#[soft_delete(column = "removed_at")]
pub struct Post {
    #[kysera(primary_key)]
    pub id: i64,
    pub removed_at: Option<NaiveDateTime>,
}

fn main() {}
