// `#[kysera(schema = ...)]` uses a hand-written Diesel table module instead of generating one.
// Diesel's `table!` expands to `use diesel;`-style paths, so the crate depends on `diesel`.

mod schema {
    diesel::table! {
        things (thing_id) {
            thing_id -> Integer,
            label -> Text,
            weight -> Nullable<Double>,
        }
    }
}

use kysera::prelude::*;

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(schema = crate::schema::things)]
pub struct Thing {
    #[kysera(primary_key, column = "thing_id")]
    pub id: i32,
    #[kysera(validate(non_empty))]
    pub label: String,
    pub weight: Option<f64>,
}

fn main() -> kysera::Result<()> {
    let db = Database::connect("sqlite::memory:")?;
    let conn = db.conn()?;
    conn.batch_execute("CREATE TABLE things (thing_id INTEGER PRIMARY KEY, label TEXT NOT NULL, weight DOUBLE)")?;
    let things = conn.repo::<Thing>();
    let bolt = things.create(&NewThing { id: 7, label: "bolt".into(), weight: Some(0.5) })?;
    assert_eq!(bolt, Thing { id: 7, label: "bolt".into(), weight: Some(0.5) });
    assert_eq!(<Thing as Model>::TABLE_NAME, "things");
    assert_eq!(things.find_by_label("bolt")?.len(), 1);
    assert!(things.create(&NewThing { id: 8, label: "  ".into(), weight: None }).is_err());
    Ok(())
}
