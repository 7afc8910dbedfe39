use kysera::Repository;

#[derive(Repository)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    #[kysera(validate(range(min = 1, max = 10)))]
    pub name: String,
}

fn main() {}
