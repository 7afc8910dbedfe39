use kysera::Repository;

#[derive(Repository)]
#[soft_delete]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {}
