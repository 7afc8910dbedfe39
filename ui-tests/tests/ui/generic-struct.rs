use kysera::Repository;

#[derive(Repository)]
pub struct Wrapper<T> {
    #[kysera(primary_key)]
    pub id: i64,
    pub value: T,
}

#[derive(Repository)]
pub struct Borrowed<'a> {
    #[kysera(primary_key)]
    pub id: i64,
    pub name: &'a str,
}

fn main() {}
