use chrono::NaiveDateTime;
use kysera::Repository;

#[derive(Repository)]
#[soft_delete(colum = "x")]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
    pub deleted_at: Option<NaiveDateTime>,
}

fn main() {}
