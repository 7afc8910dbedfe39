use kysera::Repository;

#[derive(Repository)]
pub struct User(i64, String);

fn main() {}
