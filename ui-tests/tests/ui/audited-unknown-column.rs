use kysera::Repository;

#[derive(Repository)]
#[audited(exclude(pasword))]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
    pub password: String,
}

fn main() {}
