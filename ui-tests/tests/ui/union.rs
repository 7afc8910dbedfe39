use kysera::Repository;

#[derive(Repository)]
pub union Bits {
    pub int: i64,
    pub float: f64,
}

fn main() {}
