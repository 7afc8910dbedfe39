use kysera::Repository;

#[derive(Repository)]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    #[kysera(validate(length(max = 10)))]
    pub visits: i64,
}

fn main() {}
