//! Client-supplied text keys through every operation: reads by key and keys, updates, bulk
//! updates, soft delete and restore, audit (entity id, restore from the log), keyset pages
//! (the key as tie-breaker), streaming, upserts and relations keyed by text, on every backend
//! (MySQL reads its writes back by these keys).
#![allow(missing_docs)]

use chrono::NaiveDateTime;
use kysera::{BackendKind, CursorRequest, Error, Find, Keyset, Repository, Upsert};
use kysera_integration_tests::{all_backends, TestDb};

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "countries", has_many(City))]
#[soft_delete]
#[audited]
pub struct Country {
    #[kysera(primary_key)]
    pub code: String,
    pub name: String,
    pub population: i64,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Repository, Debug, Clone, PartialEq)]
#[kysera(table = "cities", belongs_to(Country, foreign_key = "country_code"))]
pub struct City {
    #[kysera(primary_key)]
    pub slug: String,
    pub country_code: String,
    pub name: String,
}

fn schema(backend: BackendKind) -> String {
    let (key, ts) = match backend {
        BackendKind::Mysql => ("VARCHAR(64)", "DATETIME(6)"),
        _ => ("TEXT", "TIMESTAMP"),
    };
    format!(
        "CREATE TABLE countries (code {key} PRIMARY KEY, name {key} NOT NULL, population BIGINT NOT NULL,
            deleted_at {ts} NULL);
         CREATE TABLE cities (slug {key} PRIMARY KEY, country_code {key} NOT NULL, name {key} NOT NULL);
         {}",
        kysera::audit::migration_sql(backend)
    )
}

fn country(code: &str, name: &str, population: i64) -> NewCountry {
    NewCountry {
        code: code.into(),
        name: name.into(),
        population,
    }
}

fn codes(rows: &[Country]) -> Vec<&str> {
    rows.iter().map(|c| c.code.as_str()).collect()
}

fn seed(db: &TestDb) -> kysera::Conn {
    let conn = db.conn();
    // Keys with a quote, a space and non-ASCII text: bound, never spliced into SQL.
    let rows = [
        country("fr", "France", 68),
        country("de", "Germany", 84),
        country("it's", "Quoted", 1),
        country("n z", "Spaced", 5),
        country("ísl", "Iceland", 0),
    ];
    conn.repo::<Country>().create_many(&rows).unwrap();
    conn
}

all_backends! {
    fn reads_and_writes_by_text_keys(db: &TestDb) {
        let conn = seed(db);
        let countries = conn.repo::<Country>();
        assert_eq!(countries.get("it's".into()).unwrap().name, "Quoted");
        let found = countries.find_by_ids(&["n z".into(), "fr".into(), "missing".into()]).unwrap();
        assert_eq!(codes(&found), ["fr", "n z"], "by key order, missing keys skipped");
        match countries.get("missing".into()) {
            Err(Error::NotFound { table, key }) => assert_eq!((table.as_str(), key.as_str()), ("countries", "missing")),
            other => panic!("expected NotFound, got {other:?}"),
        }

        let grown = countries.update("fr".into(), &CountryUpdate { population: Some(69), ..Default::default() }).unwrap();
        assert_eq!(grown.population, 69);
        let both = countries.update_many(&["de".into(), "it's".into()], &CountryUpdate { name: Some("Renamed".into()), ..Default::default() }).unwrap();
        assert_eq!(codes(&both), ["de", "it's"]);
        let bulk = countries.bulk_update(&[
            ("ísl".into(), CountryUpdate { population: Some(1), ..Default::default() }),
            ("n z".into(), CountryUpdate { population: Some(6), ..Default::default() }),
        ]).unwrap();
        assert_eq!(bulk.iter().map(|c| (c.code.as_str(), c.population)).collect::<Vec<_>>(), [("ísl", 1), ("n z", 6)]);

        // Soft delete, restore, and the audit log keyed by the text.
        countries.delete("it's".into()).unwrap();
        assert!(countries.find_by_id("it's".into()).unwrap().is_none());
        countries.soft_delete_many(&["n z".into()]).unwrap();
        assert_eq!(countries.count().unwrap(), 3);
        assert_eq!(countries.restore("it's".into()).unwrap().code, "it's");
        let history = countries.audit_history("it's".into()).unwrap();
        assert!(history.iter().all(|e| e.entity_id == "it's"), "{history:?}");
        let update = history.iter().find(|e| e.operation == "update").expect("the rename");
        let restored = countries.restore_from_audit(update.id).unwrap();
        assert_eq!(restored.row.name, "Quoted", "back to the name before the rename");

        // Deleting for good by key.
        countries.hard_delete("ísl".into()).unwrap();
        assert!(countries.with_deleted().find_by_id("ísl".into()).unwrap().is_none());
    }

    fn keyset_streams_upserts_and_relations_with_text_keys(db: &TestDb) {
        let conn = seed(db);
        let countries = conn.repo::<Country>();
        // Equal populations: the text key breaks the tie, pages neither skip nor repeat.
        countries.bulk_update(&[
            ("de".into(), CountryUpdate { population: Some(5), ..Default::default() }),
            ("fr".into(), CountryUpdate { population: Some(5), ..Default::default() }),
        ]).unwrap();
        let keyset = Keyset::new().asc("population");
        let mut seen = Vec::new();
        let mut request = CursorRequest::first(2);
        loop {
            let page = countries.keyset_page(&keyset, &request).unwrap();
            seen.extend(page.items.iter().map(|c| c.code.clone()));
            match page.next_cursor {
                Some(cursor) => request = CursorRequest::after(cursor, 2),
                None => break,
            }
        }
        let mut by_order = countries.find_all().unwrap();
        by_order.sort_by(|a, b| (a.population, &a.code).cmp(&(b.population, &b.code)));
        assert_eq!(seen, by_order.iter().map(|c| c.code.clone()).collect::<Vec<_>>());

        let streamed: Vec<String> = countries.stream_chunks(Find::new(), 2).unwrap()
            .flat_map(|chunk| chunk.unwrap().into_iter().map(|c| c.code))
            .collect();
        assert_eq!(streamed.len(), 5);
        assert_eq!(streamed, countries.find_all().unwrap().into_iter().map(|c| c.code).collect::<Vec<_>>(), "the database's key order");

        let upserted = countries.upsert_many(&[country("fr", "France", 70), country("es", "Spain", 48)], &Upsert::on(["code"])).unwrap();
        assert_eq!(upserted.iter().map(|u| (u.row.code.as_str(), u.inserted)).collect::<Vec<_>>(), [("fr", false), ("es", true)]);

        let cities = conn.repo::<City>();
        for (slug, code) in [("paris", "fr"), ("lyon", "fr"), ("berlin", "de"), ("quoted-town", "it's")] {
            cities.create(&NewCity { slug: slug.into(), country_code: code.into(), name: slug.into() }).unwrap();
        }
        let parents = countries.find_by_ids(&["fr".into(), "it's".into(), "es".into()]).unwrap();
        let loaded = countries.load_cities(&parents).unwrap();
        let slugs: Vec<Vec<&str>> = loaded.iter().map(|cs| cs.iter().map(|c| c.slug.as_str()).collect()).collect();
        assert_eq!(slugs, [vec![], vec!["lyon", "paris"], vec!["quoted-town"]], "es, fr, it's in key order");
        let back = cities.load_country(&cities.find_all().unwrap()).unwrap();
        assert!(back.iter().all(Option::is_some));
    }
}
