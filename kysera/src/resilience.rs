//! Retry with exponential backoff and jitter, and a circuit breaker, around any kysera call.
//!
//! Retries only follow errors [`Error::is_transient`] marks, and a write is retried only when
//! the failure guarantees it did not commit: a serialization failure, deadlock or lock timeout
//! rolls the transaction back, but a connection lost mid-write may have committed, so writes
//! are not retried after one.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Whether repeating an operation is safe after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, or writes that are safe to repeat: every transient error is retried.
    Idempotent,
    /// Writes: retried only when the error guarantees nothing committed.
    Write,
}

/// Exponential backoff with full jitter.
///
/// ```
/// use kysera::resilience::{Idempotency, RetryPolicy};
/// use std::time::Duration;
/// let policy = RetryPolicy::new(3).base_delay(Duration::from_millis(1));
/// let mut calls = 0;
/// let value = policy.run(Idempotency::Write, || {
///     calls += 1;
///     if calls < 3 { Err(kysera::Error::Deadlock { message: "try again".into() }) } else { Ok(42) }
/// }).unwrap();
/// assert_eq!((value, calls), (42, 3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl RetryPolicy {
    /// Up to `max_attempts` attempts in all (at least 1), 50 ms base delay, 5 s cap.
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }

    /// The delay before the second attempt; it doubles after each failure.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest delay between attempts.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// True when `err` may be retried for an operation of this kind.
    pub fn retries(err: &Error, idempotency: Idempotency) -> bool {
        match idempotency {
            Idempotency::Idempotent => err.is_transient(),
            Idempotency::Write => matches!(
                err,
                Error::SerializationFailure { .. }
                    | Error::Deadlock { .. }
                    | Error::Busy { .. }
                    | Error::PoolTimeout { .. }
            ),
        }
    }

    /// The delay before attempt `attempt` (2 = the first retry): uniformly random up to
    /// `min(max_delay, base_delay * 2^(attempt - 2))`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(2).min(20);
        let cap = self.base_delay.saturating_mul(1 << exp).min(self.max_delay);
        cap.mul_f64(jitter())
    }

    /// Runs `f` until it succeeds, fails with an error that may not be retried, or the
    /// attempts run out (the last error is returned).
    pub fn run<T>(&self, idempotency: Idempotency, mut f: impl FnMut() -> Result<T>) -> Result<T> {
        let mut attempt = 1;
        loop {
            match f() {
                Ok(value) => return Ok(value),
                Err(err) if attempt < self.max_attempts && Self::retries(&err, idempotency) => {
                    attempt += 1;
                    std::thread::sleep(self.delay(attempt));
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// A fraction in [0.5, 1.0): "equal jitter", from a per-thread xorshift generator.
fn jitter() -> f64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = Cell::new(seed()));
    fn seed() -> u64 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        nanos | 1
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        0.5 + (x >> 11) as f64 / (1u64 << 53) as f64 / 2.0
    })
}

/// The state of a [`CircuitBreaker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls pass; failures are counted.
    Closed,
    /// Calls fail fast until the reset timeout passes.
    Open,
    /// One trial call passes; its outcome closes or reopens the circuit.
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    state: CircuitState,
    failures: u32,
    opened_at: Option<Instant>,
}

/// Stops calling a failing database for a while, so callers fail fast instead of queueing.
///
/// Only infrastructure failures count (connection, pool timeout and transient errors); a
/// validation error or a unique violation says nothing about the database's health.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    reset_timeout: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// Opens after `threshold` consecutive failures; tries again after `reset_timeout`.
    pub fn new(threshold: u32, reset_timeout: Duration) -> Self {
        CircuitBreaker {
            threshold: threshold.max(1),
            reset_timeout,
            inner: Mutex::new(Inner {
                state: CircuitState::Closed,
                failures: 0,
                opened_at: None,
            }),
        }
    }

    /// The current state (an open circuit past its timeout reports half-open).
    pub fn state(&self) -> CircuitState {
        let inner = self.lock();
        match inner.state {
            CircuitState::Open
                if inner
                    .opened_at
                    .is_some_and(|t| t.elapsed() >= self.reset_timeout) =>
            {
                CircuitState::HalfOpen
            }
            state => state,
        }
    }

    /// Consecutive failures counted so far.
    pub fn failures(&self) -> u32 {
        self.lock().failures
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` unless the circuit is open ([`Error::CircuitOpen`]).
    pub fn call<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        {
            let mut inner = self.lock();
            if inner.state == CircuitState::Open {
                let waited = inner.opened_at.map(|t| t.elapsed()).unwrap_or_default();
                if waited < self.reset_timeout {
                    return Err(Error::CircuitOpen {
                        retry_after: self.reset_timeout - waited,
                    });
                }
                inner.state = CircuitState::HalfOpen;
            }
        }
        let result = f();
        let mut inner = self.lock();
        match &result {
            Err(err) if counts_as_failure(err) => {
                inner.failures += 1;
                if inner.state == CircuitState::HalfOpen || inner.failures >= self.threshold {
                    inner.state = CircuitState::Open;
                    inner.opened_at = Some(Instant::now());
                }
            }
            _ => {
                inner.failures = 0;
                inner.state = CircuitState::Closed;
                inner.opened_at = None;
            }
        }
        result
    }
}

fn counts_as_failure(err: &Error) -> bool {
    matches!(err, Error::Connection { .. } | Error::PoolTimeout { .. }) || err.is_transient()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost() -> Error {
        Error::Connection {
            backend: crate::BackendKind::Postgres,
            message: "gone".into(),
            lost: true,
        }
    }

    #[test]
    fn writes_are_not_retried_after_a_lost_connection() {
        let policy = RetryPolicy::new(5).base_delay(Duration::ZERO);
        let mut calls = 0;
        let result: Result<()> = policy.run(Idempotency::Write, || {
            calls += 1;
            Err(lost())
        });
        assert!(result.is_err());
        assert_eq!(calls, 1);
        let mut calls = 0;
        let _: Result<()> = policy.run(Idempotency::Idempotent, || {
            calls += 1;
            Err(lost())
        });
        assert_eq!(calls, 5, "reads retry until the attempts run out");
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        let policy = RetryPolicy::new(5).base_delay(Duration::ZERO);
        let mut calls = 0;
        let _: Result<()> = policy.run(Idempotency::Idempotent, || {
            calls += 1;
            Err(Error::InvalidArgument("bad".into()))
        });
        assert_eq!(calls, 1);
    }

    #[test]
    fn delays_grow_and_stay_capped() {
        let policy = RetryPolicy::new(10)
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(400));
        for _ in 0..100 {
            let d2 = policy.delay(2);
            assert!(
                d2 >= Duration::from_millis(50) && d2 < Duration::from_millis(100),
                "{d2:?}"
            );
            assert!(policy.delay(9) < Duration::from_millis(400));
            assert!(policy.delay(9) >= Duration::from_millis(200));
        }
    }

    #[test]
    fn breaker_opens_fails_fast_and_recovers() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(30));
        let _: Result<()> =
            breaker.call(|| Err(Error::InvalidArgument("not infrastructure".into())));
        assert_eq!(breaker.failures(), 0);
        for _ in 0..2 {
            let _: Result<()> = breaker.call(|| Err(lost()));
        }
        assert_eq!(breaker.state(), CircuitState::Open);
        let mut ran = false;
        let fast: Result<()> = breaker.call(|| {
            ran = true;
            Ok(())
        });
        assert!(matches!(fast, Err(Error::CircuitOpen { .. })) && !ran);
        while breaker.state() != CircuitState::HalfOpen {
            std::hint::spin_loop();
        }
        let _: Result<()> = breaker.call(|| Err(lost()));
        assert_eq!(
            breaker.state(),
            CircuitState::Open,
            "a failed trial reopens"
        );
        while breaker.state() != CircuitState::HalfOpen {
            std::hint::spin_loop();
        }
        breaker.call(|| Ok(())).unwrap();
        assert_eq!(breaker.state(), CircuitState::Closed);
    }
}
