use chrono::NaiveDateTime;
use kysera::Repository;

#[derive(Repository)]
#[timestamps(updated_on_insert = false)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn main() {}
