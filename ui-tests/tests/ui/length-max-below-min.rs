use kysera::Repository;

#[derive(Repository)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    #[kysera(validate(length(min = 10, max = 3)))]
    pub name: String,
}

fn main() {}
