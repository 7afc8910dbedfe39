use kysera::Repository;

#[derive(Repository)]
#[kysera(table = "notes")]
pub struct Note {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub body: String,
    #[kysera(version)]
    pub revision: String,
    #[kysera(version, skip_update)]
    pub counter: i64,
}

fn main() {}
