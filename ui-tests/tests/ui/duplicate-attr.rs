use kysera::Repository;

#[derive(Repository)]
pub struct User {
    #[kysera(primary_key, primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {}
