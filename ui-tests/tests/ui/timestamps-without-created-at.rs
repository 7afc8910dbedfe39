use chrono::NaiveDateTime;
use kysera::Repository;

#[derive(Repository)]
#[timestamps]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
    pub updated_at: NaiveDateTime,
}

fn main() {}
