use kysera::Repository;

#[derive(Repository)]
#[kysera(tabel(x))]
pub struct User {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {}
