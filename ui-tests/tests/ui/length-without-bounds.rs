use kysera::Repository;

#[derive(Repository)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    #[kysera(validate(length))]
    pub name: String,
    #[kysera(validate(length()))]
    pub bio: String,
}

fn main() {}
