//! Adapters layer: the time, implementing `core::ports::Clock` — the system clock for the
//! running service and a manual clock that tests move instead of sleeping.
//! May depend on the core and chrono.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, SubsecRound, Utc};

use crate::core::ports::Clock;

/// The operating system's clock, truncated to whole milliseconds.
///
/// Every store keeps times at millisecond precision at best (MongoDB's BSON dates hold
/// milliseconds), so a time with nanoseconds would not round-trip: what the core compares
/// after reading a record back must be exactly what it saw when it wrote it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(3)
    }
}

/// A clock that stands still until told to move. Clones share one time, so a test keeps a
/// handle and moves the clock that the service under test reads.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the time forward (or backward, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 3, 9, 30, 0).unwrap()
    }

    #[test]
    fn system_clock_gives_whole_milliseconds_close_to_the_real_time() {
        let before = Utc::now().trunc_subsecs(3);

        let now = SystemClock.now();

        assert_eq!(now.nanosecond() % 1_000_000, 0);
        assert!(now >= before);
        assert!(now <= Utc::now());
    }

    #[test]
    fn manual_clock_stands_still_until_moved() {
        let clock = ManualClock::new(start());

        assert_eq!(clock.now(), start());
        assert_eq!(clock.now(), start());
    }

    #[test]
    fn advancing_a_clone_moves_every_handle() {
        let clock = ManualClock::new(start());
        let handle = clock.clone();

        handle.advance(Duration::minutes(10));

        assert_eq!(clock.now(), start() + Duration::minutes(10));
    }

    #[test]
    fn setting_the_clock_jumps_to_that_time() {
        let clock = ManualClock::new(start());
        let later = start() + Duration::days(30);

        clock.set(later);

        assert_eq!(clock.now(), later);
    }
}
