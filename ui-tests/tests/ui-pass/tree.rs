//! A self-referencing model: a category tree loads its children and parents by relation.
use kysera::Repository;

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "categories", belongs_to(Category, foreign_key = "parent_id"), has_many(Category, name = "children"))]
pub struct Category {
    #[kysera(primary_key, generated)]
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
}

fn main() -> kysera::Result<()> {
    let conn = kysera::Conn::establish("sqlite::memory:")?;
    conn.batch_execute(
        "CREATE TABLE categories (id INTEGER PRIMARY KEY, parent_id BIGINT, name TEXT NOT NULL);
         INSERT INTO categories (id, parent_id, name) VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 1, 'b')",
    )?;
    let categories = conn.repo::<Category>();
    let roots = categories.find(kysera::Find::new().filter(kysera::Filter::is_null("parent_id")))?;
    let children = categories.load_children(&roots)?;
    assert_eq!(children[0].len(), 2);
    let parents = categories.load_parent(&children[0])?;
    assert!(parents.iter().all(|p| p.as_ref().is_some_and(|p| p.id == 1)));
    Ok(())
}
