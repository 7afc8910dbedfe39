//! Row counts of a statement, read from what the call that ran it returned.
//!
//! Diesel's instrumentation does not report rows, but kysera sees the result of each call:
//! the rows a load returned, the count an execute affected. [`ResultRows`] turns such a
//! result into a row count; the observer attaches it to the statement the call ran (only
//! when the call ran exactly one statement, so the count always belongs to its query).

use crate::model::Model;

/// The number of rows a statement returned or affected, judged from a call's result.
pub(crate) trait ResultRows {
    /// `None` when the result does not tell.
    fn rows(&self) -> Option<u64>;
}

/// A load: every row returned.
impl<T> ResultRows for Vec<T> {
    fn rows(&self) -> Option<u64> {
        Some(self.len() as u64)
    }
}

/// A lookup by key: the row or none.
impl<T> ResultRows for Option<T> {
    fn rows(&self) -> Option<u64> {
        Some(u64::from(self.is_some()))
    }
}

/// An execute: the rows affected.
impl ResultRows for usize {
    fn rows(&self) -> Option<u64> {
        Some(*self as u64)
    }
}

/// A `COUNT(*)`: one row, whatever the count.
impl ResultRows for i64 {
    fn rows(&self) -> Option<u64> {
        Some(1)
    }
}

/// An `EXISTS`: one row.
impl ResultRows for bool {
    fn rows(&self) -> Option<u64> {
        Some(1)
    }
}

/// One row written and returned (`INSERT ... RETURNING`).
impl<M: Model> ResultRows for M {
    fn rows(&self) -> Option<u64> {
        Some(1)
    }
}
