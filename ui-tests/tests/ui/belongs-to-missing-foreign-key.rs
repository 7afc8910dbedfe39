use kysera::Repository;

#[derive(Repository)]
#[kysera(table = "users")]
pub struct User {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Repository)]
#[kysera(table = "posts", belongs_to(User))]
pub struct Post {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub author_id: i64,
    pub name: String,
}

#[derive(Repository)]
#[kysera(table = "comments", belongs_to(Post, foreign_key = "article_id"))]
pub struct Comment {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub post_id: i64,
    pub name: String,
}

fn main() {}
