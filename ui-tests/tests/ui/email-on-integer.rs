use kysera::Repository;

#[derive(Repository)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    #[kysera(validate(email))]
    pub contact: i32,
}

fn main() {}
