use kysera::Repository;

#[derive(Repository)]
pub struct User {
    #[kysera(primary_key, generated)]
    pub id: Option<i64>,
    pub name: String,
}

fn main() {}
