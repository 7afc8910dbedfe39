//! The profiler: per normalised statement, how often it ran and how long it took (count,
//! mean, p50, p95, p99, total, max), in memory that depends on the number of distinct
//! statements (capped) and not on the number of queries.

use std::collections::HashMap;
use std::time::Duration;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::event::QueryRecord;
use super::histogram::Histogram;
use super::normalize::normalize_into;

/// The statement under which queries are counted once the profiler tracks as many distinct
/// statements as its cap allows.
pub const OTHER_STATEMENTS: &str = "<other statements>";

/// Running figures of one normalised statement.
#[derive(Debug, Default)]
struct Stats {
    count: u64,
    total: Duration,
    errors: u64,
    rows: u64,
    histogram: Histogram,
}

/// Raw statements remembered with their slot, so a statement seen recently is not
/// normalised again (a comparison instead of a tokenisation: most of an application's
/// queries repeat a handful of statements).
const RECENT_RAW: usize = 16;
/// Longest raw statement remembered, in bytes.
const MAX_RAW_LEN: usize = 4096;

/// Per-statement figures, bounded to `max_statements` distinct statements plus
/// [`OTHER_STATEMENTS`].
#[derive(Debug)]
pub(crate) struct Profiler {
    /// Figures, one slot per statement.
    slots: Vec<Stats>,
    /// Normalised statement → slot.
    index: HashMap<String, usize>,
    /// Recently seen raw statements and their slots, replaced round-robin.
    recent: Vec<(String, usize)>,
    next_recent: usize,
    max_statements: usize,
    queries: u64,
    scratch: String,
}

impl Profiler {
    pub(crate) fn new(max_statements: usize) -> Self {
        Profiler {
            slots: Vec::new(),
            index: HashMap::new(),
            recent: Vec::with_capacity(RECENT_RAW),
            next_recent: 0,
            max_statements,
            queries: 0,
            scratch: String::new(),
        }
    }

    /// Counts one query under its normalised statement.
    pub(crate) fn record(&mut self, record: &QueryRecord) {
        let sql = record.sql.as_str();
        let slot = match self.recent.iter().find(|(raw, _)| raw == sql) {
            Some(&(_, slot)) => slot,
            None => {
                let slot = self.slot_of(sql);
                self.remember(sql, slot);
                slot
            }
        };
        self.queries += 1;
        let stats = &mut self.slots[slot];
        stats.count += 1;
        stats.total += record.duration;
        stats.errors += u64::from(!record.outcome.is_ok());
        stats.rows += record.rows.unwrap_or(0);
        stats.histogram.record(record.duration);
    }

    /// The slot of `sql`'s normalised statement, made if there is room, else the
    /// [`OTHER_STATEMENTS`] slot.
    fn slot_of(&mut self, sql: &str) -> usize {
        normalize_into(sql, &mut self.scratch);
        if let Some(&slot) = self.index.get(self.scratch.as_str()) {
            return slot;
        }
        let key = if self.index.len() < self.max_statements {
            self.scratch.clone()
        } else if let Some(&slot) = self.index.get(OTHER_STATEMENTS) {
            return slot;
        } else {
            OTHER_STATEMENTS.to_string()
        };
        self.slots.push(Stats::default());
        self.index.insert(key, self.slots.len() - 1);
        self.slots.len() - 1
    }

    fn remember(&mut self, sql: &str, slot: usize) {
        if sql.len() > MAX_RAW_LEN {
            return;
        }
        if self.recent.len() < RECENT_RAW {
            self.recent.push((sql.to_string(), slot));
            return;
        }
        let entry = &mut self.recent[self.next_recent];
        entry.0.clear();
        entry.0.push_str(sql);
        entry.1 = slot;
        self.next_recent = (self.next_recent + 1) % RECENT_RAW;
    }

    /// The figures of every statement tracked so far.
    pub(crate) fn report(&self) -> ProfileReport {
        let statements = self
            .index
            .iter()
            .map(|(sql, &slot)| {
                let s = &self.slots[slot];
                StatementProfile {
                    statement: sql.clone(),
                    count: s.count,
                    errors: s.errors,
                    rows: s.rows,
                    total: s.total,
                    mean: mean(s.total, s.count),
                    min: s.histogram.min(),
                    p50: s.histogram.percentile(0.50),
                    p95: s.histogram.percentile(0.95),
                    p99: s.histogram.percentile(0.99),
                    max: s.histogram.max(),
                }
            })
            .collect();
        ProfileReport {
            queries: self.queries,
            statements,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.recent.clear();
        self.next_recent = 0;
        self.queries = 0;
    }

    /// Distinct statements tracked (at most the cap, plus [`OTHER_STATEMENTS`]).
    pub(crate) fn statement_count(&self) -> usize {
        self.index.len()
    }

    /// Bytes held: the tables, the statements' texts, their fixed-size figures and the
    /// remembered raw statements.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.index.capacity() * std::mem::size_of::<(String, usize)>()
            + self.index.keys().map(String::capacity).sum::<usize>()
            + self.slots.capacity() * std::mem::size_of::<Stats>()
            + self.slots.len() * super::histogram::BUCKETS * 8
            + self
                .recent
                .iter()
                .map(|(raw, _)| raw.capacity())
                .sum::<usize>()
            + self.scratch.capacity()
    }
}

fn mean(total: Duration, count: u64) -> Duration {
    if count == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(u64::try_from(total.as_nanos() / u128::from(count)).unwrap_or(u64::MAX))
}

/// The figures of one normalised statement.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StatementProfile {
    /// The statement with its values replaced by `?` and value lists by `(?...)`, or
    /// [`OTHER_STATEMENTS`].
    pub statement: String,
    /// How many times it ran.
    pub count: u64,
    /// How many of those failed.
    pub errors: u64,
    /// Rows returned or affected, summed over the runs where they are known.
    pub rows: u64,
    /// Time spent in it, summed.
    pub total: Duration,
    /// `total / count`.
    pub mean: Duration,
    /// The fastest run.
    pub min: Duration,
    /// Median (within 6.25 %).
    pub p50: Duration,
    /// 95th percentile (within 6.25 %).
    pub p95: Duration,
    /// 99th percentile (within 6.25 %).
    pub p99: Duration,
    /// The slowest run.
    pub max: Duration,
}

/// A snapshot of the profiler: every normalised statement with its figures.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ProfileReport {
    /// Queries profiled.
    pub queries: u64,
    /// One entry per normalised statement, in no particular order.
    pub statements: Vec<StatementProfile>,
}

impl ProfileReport {
    /// The `n` statements with the highest mean duration, slowest first.
    pub fn slowest(&self, n: usize) -> Vec<&StatementProfile> {
        self.top(n, |s| (s.mean.as_nanos(), u128::from(s.count)))
    }

    /// The `n` statements that ran most often, most frequent first.
    pub fn most_frequent(&self, n: usize) -> Vec<&StatementProfile> {
        self.top(n, |s| (u128::from(s.count), s.total.as_nanos()))
    }

    /// The `n` statements that took the most time in total, largest first.
    pub fn by_total_time(&self, n: usize) -> Vec<&StatementProfile> {
        self.top(n, |s| (s.total.as_nanos(), u128::from(s.count)))
    }

    /// The figures of the statement whose normalised text is `statement`.
    pub fn statement(&self, statement: &str) -> Option<&StatementProfile> {
        self.statements.iter().find(|s| s.statement == statement)
    }

    fn top(
        &self,
        n: usize,
        key: impl Fn(&StatementProfile) -> (u128, u128),
    ) -> Vec<&StatementProfile> {
        let mut all: Vec<&StatementProfile> = self.statements.iter().collect();
        // Ties broken by text so the order is stable.
        all.sort_by(|a, b| {
            key(b)
                .cmp(&key(a))
                .then_with(|| a.statement.cmp(&b.statement))
        });
        all.truncate(n);
        all
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Durations in microseconds (`total_us`, `mean_us`, `p50_us`...).
impl Serialize for StatementProfile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("StatementProfile", 11)?;
        s.serialize_field("statement", &self.statement)?;
        s.serialize_field("count", &self.count)?;
        s.serialize_field("errors", &self.errors)?;
        s.serialize_field("rows", &self.rows)?;
        s.serialize_field("total_us", &micros(self.total))?;
        s.serialize_field("mean_us", &micros(self.mean))?;
        s.serialize_field("min_us", &micros(self.min))?;
        s.serialize_field("p50_us", &micros(self.p50))?;
        s.serialize_field("p95_us", &micros(self.p95))?;
        s.serialize_field("p99_us", &micros(self.p99))?;
        s.serialize_field("max_us", &micros(self.max))?;
        s.end()
    }
}

/// `{"queries": n, "statements": [...]}`, statements by total time, largest first.
impl Serialize for ProfileReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ProfileReport", 2)?;
        s.serialize_field("queries", &self.queries)?;
        s.serialize_field("statements", &self.by_total_time(self.statements.len()))?;
        s.end()
    }
}

/// A plain-text table of the ten slowest and the ten most frequent statements.
impl std::fmt::Display for ProfileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} queries, {} statements",
            self.queries,
            self.statements.len()
        )?;
        for (title, rows) in [
            ("slowest (by mean)", self.slowest(10)),
            ("most frequent", self.most_frequent(10)),
        ] {
            writeln!(f, "\n{title}:")?;
            writeln!(
                f,
                "{:>8} {:>10} {:>10} {:>10} {:>10} {:>12}  statement",
                "count", "mean µs", "p50 µs", "p95 µs", "p99 µs", "total ms"
            )?;
            for s in rows {
                writeln!(
                    f,
                    "{:>8} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>12.3}  {}",
                    s.count,
                    micros(s.mean),
                    micros(s.p50),
                    micros(s.p95),
                    micros(s.p99),
                    s.total.as_secs_f64() * 1e3,
                    s.statement
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BackendKind;

    fn run(p: &mut Profiler, sql: &str, us: u64) {
        p.record(
            &QueryRecord::new(BackendKind::Sqlite, sql, Duration::from_micros(us)).with_rows(1),
        );
    }

    #[test]
    fn groups_by_normalised_statement() {
        let mut p = Profiler::new(10);
        for i in 1..=100 {
            run(&mut p, &format!("SELECT * FROM t WHERE id = {i}"), i);
        }
        run(&mut p, "SELECT * FROM u WHERE id IN (?, ?)", 5000);
        let report = p.report();
        assert_eq!(report.queries, 101);
        let t = report.statement("SELECT * FROM t WHERE id = ?").unwrap();
        assert_eq!((t.count, t.rows, t.errors), (100, 100, 0));
        assert_eq!(t.total, Duration::from_micros(5050));
        assert_eq!(t.mean, Duration::from_nanos(50_500));
        assert!(t.p50 >= Duration::from_micros(47) && t.p50 <= Duration::from_micros(53));
        assert!(t.p99 >= Duration::from_micros(93) && t.p99 <= Duration::from_micros(100));
        assert_eq!(t.max, Duration::from_micros(100));
        assert_eq!(
            report.slowest(1)[0].statement,
            "SELECT * FROM u WHERE id IN (?...)"
        );
        assert_eq!(report.most_frequent(1)[0].statement, t.statement);
    }

    #[test]
    fn distinct_statements_are_capped() {
        let mut p = Profiler::new(3);
        for table in 0..10 {
            run(&mut p, &format!("SELECT * FROM t{table}"), 1);
        }
        assert_eq!(p.statement_count(), 4);
        let report = p.report();
        assert_eq!(report.statement(OTHER_STATEMENTS).unwrap().count, 7);
        assert!(report.to_string().contains("10 queries, 4 statements"));
    }
}
