use kysera::Repository;

#[derive(Repository)]
pub struct User {
    pub id: i64,
    pub name: String,
}

fn main() {}
