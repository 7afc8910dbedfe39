use kysera::Repository;

#[derive(Repository)]
pub enum Status {
    Active,
    Banned,
}

fn main() {}
