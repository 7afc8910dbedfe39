//! A fixed-size log-linear histogram of durations: percentiles in constant memory, whatever
//! the number of samples.
//!
//! Each power of two of nanoseconds is split into 8 equal buckets, so a reported percentile
//! is within 6.25 % of the true sample (half a bucket), clamped to the smallest and largest
//! samples seen. Durations up to 2^43 ns (about 2.4 hours) are bucketed; longer ones count in
//! the last bucket.

use std::time::Duration;

const SUB_BITS: u32 = 3;
const SUBS: usize = 1 << SUB_BITS;
/// The largest power of two with buckets of its own.
const MAX_MAJOR: u32 = 42;
/// Number of buckets: exact values below `SUBS`, then `SUBS` per power of two.
pub(crate) const BUCKETS: usize = SUBS + (MAX_MAJOR - SUB_BITS + 1) as usize * SUBS;

/// Counts of durations per bucket, with the exact minimum and maximum.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

impl Histogram {
    /// Counts one duration.
    pub(crate) fn record(&mut self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.counts[index(nanos)] += 1;
        self.total += 1;
        self.min = self.min.min(nanos);
        self.max = self.max.max(nanos);
    }

    /// The duration below which a fraction `q` (0.0..=1.0) of the samples fall; zero when
    /// empty.
    pub(crate) fn percentile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_nanos(middle(i).clamp(self.min, self.max));
            }
        }
        Duration::from_nanos(self.max)
    }

    /// The smallest sample; zero when empty.
    pub(crate) fn min(&self) -> Duration {
        Duration::from_nanos(if self.total == 0 { 0 } else { self.min })
    }

    /// The largest sample.
    pub(crate) fn max(&self) -> Duration {
        Duration::from_nanos(self.max)
    }
}

/// The bucket of a duration of `nanos`.
fn index(nanos: u64) -> usize {
    if nanos < SUBS as u64 {
        return nanos as usize;
    }
    let major = (63 - nanos.leading_zeros()).min(MAX_MAJOR);
    if major == MAX_MAJOR && nanos >> MAX_MAJOR > 1 {
        return BUCKETS - 1;
    }
    let sub = ((nanos >> (major - SUB_BITS)) as usize) & (SUBS - 1);
    SUBS + (major - SUB_BITS) as usize * SUBS + sub
}

/// The middle of bucket `i`, in nanoseconds.
fn middle(i: usize) -> u64 {
    if i < SUBS {
        return i as u64;
    }
    let major = ((i - SUBS) / SUBS) as u32 + SUB_BITS;
    let sub = ((i - SUBS) % SUBS) as u64;
    let width = 1u64 << (major - SUB_BITS);
    (SUBS as u64 + sub) * width + width / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_ordered() {
        let mut last = 0;
        for nanos in (0..100_000u64).chain([1 << 40, (1 << 43) - 1, 1 << 43, u64::MAX]) {
            let i = index(nanos);
            assert!(i >= last && i < BUCKETS, "{nanos} -> {i}");
            last = i;
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_are_within_a_bucket() {
        let mut h = Histogram::default();
        // 1..=1000 µs, uniform.
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us));
        }
        for (q, expected_us) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = h.percentile(q).as_secs_f64() * 1e6;
            assert!(
                (got - expected_us).abs() / expected_us < 0.0625,
                "p{q}: {got} µs, expected about {expected_us}"
            );
        }
        assert_eq!(h.min(), Duration::from_micros(1));
        assert_eq!(h.max(), Duration::from_micros(1000));
        assert_eq!(h.percentile(1.0), Duration::from_micros(1000));
    }

    #[test]
    fn empty_and_single() {
        let mut h = Histogram::default();
        assert_eq!(h.percentile(0.5), Duration::ZERO);
        h.record(Duration::from_nanos(12_345));
        assert_eq!(h.percentile(0.01), Duration::from_nanos(12_345));
        assert_eq!(h.percentile(0.99), Duration::from_nanos(12_345));
    }
}
