use kysera::Repository;

#[derive(Repository)]
#[kysera(table = "tags")]
pub struct Tag {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Repository)]
#[kysera(table = "posts", many_to_many(Tag), has_many(Tag, foriegn_key = "x"))]
pub struct Post {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Repository)]
#[kysera(table = "notes", has_one(Tag, name = "tags"), has_many(Tag))]
pub struct Note {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
}



#[derive(Repository)]
#[kysera(table = "messages", belongs_to(Tag, foreign_key = "from_id"), belongs_to(Tag, foreign_key = "to_id"))]
pub struct Message {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub from_id: i64,
    pub to_id: i64,
}
fn main() {}
