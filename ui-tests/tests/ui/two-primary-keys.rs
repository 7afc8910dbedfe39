use kysera::Repository;

#[derive(Repository)]
pub struct Membership {
    #[kysera(primary_key)]
    pub user_id: i64,
    #[kysera(primary_key)]
    pub group_id: i64,
    pub role: String,
}

fn main() {}
