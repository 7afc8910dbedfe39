//! Memory of `Repo::stream`, measured: the process's peak resident set while streaming N rows
//! and N/4 rows, against `find_all` of the same N, on each backend in turn (one test in its
//! own binary, so nothing else runs meanwhile). Linux: the peak is `VmHWM` of
//! `/proc/self/status`, reset through `/proc/self/clear_refs`.
//!
//! N is `KYSERA_STREAM_ROWS` (default 200,000; the closing figures use 1,000,000).
#![allow(missing_docs)]

mod event_table;

use diesel::prelude::*;
use event_table::{events, generate, schema, Event};
use kysera::{BackendKind, Find};
use kysera_integration_tests::TestDb;

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a number of kB");
    kib * 1024
}

/// How far the peak resident set rose above the current one while `f` ran.
fn peak_growth<R>(f: impl FnOnce() -> R) -> (R, u64) {
    // "5" resets the peak to the current resident set size.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = status_bytes("VmRSS:");
    let result = f();
    (result, status_bytes("VmHWM:").saturating_sub(before))
}

fn measure(backend: BackendKind, n: usize) {
    let db = TestDb::new(backend, schema(backend));
    generate(&db, n);
    let conn = db.conn();
    let events = conn.repo::<Event>();
    let walk = |limit: usize| {
        let mut count = 0usize;
        let filter = events::id.le(limit as i64);
        for event in events.stream(Find::new().filter(filter)).unwrap() {
            count += usize::from(!event.unwrap().payload.is_empty());
        }
        count
    };
    // Warm up (first statements, caches), then measure the small walk before the large one.
    walk(10_000);
    let (quarter, quarter_growth) = peak_growth(|| walk(n / 4));
    let (full, full_growth) = peak_growth(|| walk(n));
    assert_eq!((quarter, full), (n / 4, n));
    let (loaded, loaded_growth) = peak_growth(|| events.find_all().unwrap().len());
    assert_eq!(loaded, n);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "{backend}: stream {n} rows +{:.1} MiB, {} rows +{:.1} MiB; find_all {n} rows +{:.1} MiB",
        mib(full_growth),
        n / 4,
        mib(quarter_growth),
        mib(loaded_growth)
    );
    const SLACK: u64 = 8 * 1024 * 1024;
    assert!(
        full_growth <= quarter_growth + SLACK,
        "{backend}: streaming 4x the rows grew the peak by {:.1} MiB against {:.1} MiB",
        mib(full_growth),
        mib(quarter_growth)
    );
    assert!(
        loaded_growth > 4 * full_growth.max(SLACK / 4),
        "{backend}: the measurement must see rows held at once: find_all +{:.1} MiB, stream +{:.1} MiB",
        mib(loaded_growth),
        mib(full_growth)
    );
}

#[test]
fn streaming_memory_does_not_grow_with_the_row_count() {
    let n = std::env::var("KYSERA_STREAM_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    for backend in [
        BackendKind::Sqlite,
        BackendKind::Postgres,
        BackendKind::Mysql,
    ] {
        measure(backend, n);
    }
}
