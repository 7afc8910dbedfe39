use kysera::Repository;

// A near miss gets a suggestion (and no second "no primary key" error).
#[derive(Repository)]
pub struct User {
    #[kysera(primry_key)]
    pub id: i64,
    pub name: String,
}

// Anything else lists the valid keys.
#[derive(Repository)]
pub struct Post {
    #[kysera(primary_key)]
    pub id: i64,
    #[kysera(nullable)]
    pub body: String,
}

fn main() {}
