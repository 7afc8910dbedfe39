use kysera::Repository;

#[derive(Repository)]
pub struct User;

fn main() {}
