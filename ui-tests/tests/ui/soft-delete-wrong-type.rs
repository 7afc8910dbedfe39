use chrono::NaiveDateTime;
use kysera::Repository;

#[derive(Repository)]
#[soft_delete]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
    pub deleted_at: NaiveDateTime,
}

fn main() {}
