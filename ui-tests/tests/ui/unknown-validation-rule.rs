use kysera::Repository;

#[derive(Repository)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    #[kysera(validate(emial))]
    pub email: String,
}

fn main() {}
