//! Streaming: `Repo::stream` walks a filtered table in key order a chunk at a time, on every
//! backend. Its memory is measured in `stream_memory.rs`.
#![allow(missing_docs)]

use diesel::prelude::*;
use kysera::{Error, Find};
use kysera_integration_tests::all_backends;

mod event_table;

use event_table::{events, generate, schema, Event};

all_backends! {
    fn streams_filtered_rows_in_key_order_within_the_scope(db: &TestDb) {
        generate(db, 2_500);
        let conn = db.conn();
        let events = conn.repo::<Event>();
        events.delete_where(events::id.le(10)).unwrap(); // soft-deleted: out of the stream
        let clicks = || Find::new().filter(events::kind.eq("click"));

        let chunks: Vec<Vec<Event>> = events.stream_chunks(clicks(), 500).unwrap().collect::<Result<_, _>>().unwrap();
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [500, 500, 245], "1,245 clicks after the 5 deleted ones");
        let streamed: Vec<Event> = chunks.into_iter().flatten().collect();
        assert!(streamed.windows(2).all(|w| w[0].id < w[1].id), "key order");
        assert!(streamed.iter().all(|e| e.kind == "click" && e.id > 10));
        assert_eq!(streamed, events.find(clicks()).unwrap());

        // The row iterator, with the default chunk; take() reads only what it needs.
        let all: Vec<Event> = events.stream(Find::new()).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 2_490);
        let first: Vec<i64> = events.stream(Find::new()).unwrap().take(3).map(|e| e.unwrap().id).collect();
        assert_eq!(first, [11, 12, 13]);
        // An exact multiple of the chunk ends with no empty chunk.
        assert_eq!(events.stream_chunks(Find::new().filter(events::id.le(20)), 5).unwrap().count(), 2);

        // What a stream cannot honour is refused.
        for refused in [
            events.stream(Find::new().order_by(events::kind.asc())).err(),
            events.stream(Find::new().limit(5)).err(),
            events.stream_chunks(Find::new(), 0).err(),
        ] {
            assert!(matches!(refused, Some(Error::InvalidArgument(_))), "{refused:?}");
        }

        // An error ends the stream: the table disappears between two chunks.
        let mut walk = events.stream_chunks(Find::new(), 1_000).unwrap();
        assert_eq!(walk.next().unwrap().unwrap().len(), 1_000);
        conn.batch_execute("DROP TABLE events").unwrap();
        assert!(walk.next().unwrap().is_err());
        assert!(walk.next().is_none());
    }
}
