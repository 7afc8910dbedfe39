//! The bounded ring of recent queries: a fixed number of records, each with its SQL and
//! binds cut to a fixed size, so its memory does not grow with the number of queries.

use std::collections::VecDeque;

use super::event::QueryRecord;

/// Most bind parameters kept per buffered record; the rest are summarised in one entry.
pub(crate) const MAX_BUFFERED_BINDS: usize = 64;
/// Longest bind value kept in the buffer, in bytes.
pub(crate) const MAX_BUFFERED_BIND_LEN: usize = 256;

/// The last `capacity` records, oldest first.
#[derive(Debug)]
pub(crate) struct RecentQueries {
    records: VecDeque<QueryRecord>,
    capacity: usize,
    max_sql_len: usize,
}

impl RecentQueries {
    /// A ring of `capacity` records whose SQL is cut at `max_sql_len` bytes.
    pub(crate) fn new(capacity: usize, max_sql_len: usize) -> Self {
        RecentQueries {
            records: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            max_sql_len,
        }
    }

    /// Adds `record`, dropping the oldest when full.
    pub(crate) fn push(&mut self, mut record: QueryRecord) {
        if self.capacity == 0 {
            return;
        }
        trim(&mut record, self.max_sql_len);
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// The records, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<QueryRecord> {
        self.records.iter().cloned().collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn clear(&mut self) {
        self.records.clear();
    }

    /// Bytes held by the buffered records' text beyond the fixed-size slots.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<QueryRecord>()
            + self
                .records
                .iter()
                .map(|r| {
                    r.sql.capacity()
                        + r.binds.capacity() * std::mem::size_of::<String>()
                        + r.binds.iter().map(String::capacity).sum::<usize>()
                        + r.outcome.error().map_or(0, str::len)
                })
                .sum::<usize>()
    }
}

/// Cuts the SQL, the binds and the error message so a buffered record has a bounded size.
fn trim(record: &mut QueryRecord, max_sql_len: usize) {
    cut(&mut record.sql, max_sql_len);
    if record.binds.len() > MAX_BUFFERED_BINDS {
        let more = record.binds.len() - (MAX_BUFFERED_BINDS - 1);
        record.binds.truncate(MAX_BUFFERED_BINDS - 1);
        record.binds.push(format!("... {more} more"));
    }
    for bind in &mut record.binds {
        cut(bind, MAX_BUFFERED_BIND_LEN);
    }
    if let super::event::Outcome::Error(message) = &mut record.outcome {
        cut(message, max_sql_len);
    }
}

/// Cuts `text` to at most `max` bytes (on a character boundary) plus a marker, and gives
/// back the memory it no longer needs.
fn cut(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let dropped = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("... ({dropped} more bytes)"));
    text.shrink_to_fit();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BackendKind;
    use std::time::Duration;

    fn record(sql: &str) -> QueryRecord {
        QueryRecord::new(BackendKind::Sqlite, sql, Duration::from_micros(1))
    }

    #[test]
    fn keeps_the_last_records() {
        let mut ring = RecentQueries::new(3, 100);
        for i in 0..10 {
            ring.push(record(&format!("SELECT {i}")));
        }
        let sql: Vec<_> = ring.snapshot().into_iter().map(|r| r.sql).collect();
        assert_eq!(sql, ["SELECT 7", "SELECT 8", "SELECT 9"]);
        assert_eq!((ring.len(), ring.capacity()), (3, 3));
    }

    #[test]
    fn cuts_long_text() {
        let mut ring = RecentQueries::new(1, 10);
        let binds = (0..100).map(|i| "é".repeat(i * 10)).collect();
        ring.push(record(&"ééééééééééé".repeat(3)).with_binds(binds));
        let kept = &ring.snapshot()[0];
        assert!(kept.sql.starts_with("ééééé..."), "{}", kept.sql);
        assert_eq!(kept.binds.len(), MAX_BUFFERED_BINDS);
        assert_eq!(kept.binds.last().unwrap(), "... 37 more");
        assert!(kept
            .binds
            .iter()
            .all(|b| b.len() < MAX_BUFFERED_BIND_LEN + 30));
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let mut ring = RecentQueries::new(0, 10);
        ring.push(record("SELECT 1"));
        assert_eq!(ring.len(), 0);
    }
}
