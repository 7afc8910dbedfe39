use kysera::Repository;

pub struct Money {
    pub cents: i64,
}

#[derive(Repository)]
pub struct Order {
    #[kysera(primary_key)]
    pub id: i64,
    pub timeout: std::time::Duration,
    pub total: Option<Money>,
}

fn main() {}
