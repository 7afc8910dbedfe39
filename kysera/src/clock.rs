//! The time writes are stamped with: UTC, read once per operation so every row of a batch
//! (and its audit rows) carries the same instant.

use std::cell::Cell;

use chrono::NaiveDateTime;

thread_local! {
    static FROZEN: Cell<Option<NaiveDateTime>> = const { Cell::new(None) };
    static AUTO: Cell<bool> = const { Cell::new(true) };
}

/// The current operation's timestamp (UTC, microsecond precision), or the current time.
pub fn now() -> NaiveDateTime {
    FROZEN.with(|f| f.get()).unwrap_or_else(current)
}

/// True unless the current operation asked to leave timestamps alone.
pub fn auto_timestamps() -> bool {
    AUTO.with(|a| a.get())
}

fn current() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    // Every backend stores microseconds at most; truncating here keeps the value read back
    // equal to the value written.
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

use chrono::Timelike;

/// Runs `f` with one frozen timestamp (and automatic timestamps on or off), restoring the
/// previous state afterwards, also on panic.
pub(crate) fn frozen<R>(auto: bool, f: impl FnOnce(NaiveDateTime) -> R) -> R {
    struct Restore(Option<NaiveDateTime>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            FROZEN.with(|c| c.set(self.0));
            AUTO.with(|c| c.set(self.1));
        }
    }
    let previous = FROZEN.with(|c| c.get());
    let previous_auto = AUTO.with(|c| c.get());
    let _restore = Restore(previous, previous_auto);
    let at = previous.unwrap_or_else(current);
    FROZEN.with(|c| c.set(Some(at)));
    AUTO.with(|c| c.set(auto));
    f(at)
}
