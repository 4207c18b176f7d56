//! Adapters layer (HTTP): per-client-address token buckets, in this process's memory.
//!
//! This is a coarse shield against floods from one address, per instance: with N instances a
//! client gets N times the rate. The throttles that stop password and code guessing are per
//! account and live in the store, shared by all instances.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::core::ports::Clock;

/// Addresses tracked at most. Past this, new addresses are let through untracked: failing
/// closed would let anyone with many addresses lock everyone else out.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// How often a full table may be swept, so that a full table cannot cost a sweep per request.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// What one bucket is keyed on. IPv6 clients usually hold a whole /64, so they are counted
/// per /64; everything without an address shares one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateKey {
    V4([u8; 4]),
    V6Prefix([u8; 8]),
    Unknown,
}

impl From<Option<IpAddr>> for RateKey {
    fn from(address: Option<IpAddr>) -> Self {
        match address {
            Some(IpAddr::V4(v4)) => RateKey::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => RateKey::V4(v4.octets()),
                None => {
                    let mut prefix = [0; 8];
                    prefix.copy_from_slice(&v6.octets()[..8]);
                    RateKey::V6Prefix(prefix)
                }
            },
            None => RateKey::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: DateTime<Utc>,
}

struct Buckets {
    by_key: HashMap<RateKey, Bucket>,
    last_sweep: Option<DateTime<Utc>>,
}

/// Admits `per_minute` requests per key per minute on average, in bursts of up to
/// `per_minute`. Memory is bounded: a bucket idle for a minute is full again, so it is
/// forgotten. Time is the clock port's, so that tests move a fake clock instead of waiting.
pub struct RateLimiter {
    clock: Arc<dyn Clock>,
    capacity: f64,
    refill_per_second: f64,
    buckets: Mutex<Buckets>,
}

impl RateLimiter {
    pub fn per_minute(per_minute: u32, clock: Arc<dyn Clock>) -> Self {
        let capacity = f64::from(per_minute.max(1));
        RateLimiter {
            clock,
            capacity,
            refill_per_second: capacity / 60.0,
            buckets: Mutex::new(Buckets {
                by_key: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    /// Takes one token for `key` now, or says how long until one is available.
    pub fn admit(&self, key: RateKey) -> Result<(), Duration> {
        let now = self.clock.now();
        // A panic elsewhere while holding the lock leaves the counts usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if !buckets.by_key.contains_key(&key) && buckets.by_key.len() >= MAX_TRACKED_ADDRESSES {
            self.sweep(&mut buckets, now);
            if buckets.by_key.len() >= MAX_TRACKED_ADDRESSES {
                tracing::warn!("rate limiter full; admitting an untracked address");
                return Ok(());
            }
        }
        let bucket = buckets.by_key.entry(key).or_insert(Bucket {
            tokens: self.capacity,
            updated: now,
        });
        let elapsed = elapsed(bucket.updated, now).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.refill_per_second).min(self.capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / self.refill_per_second;
        Err(Duration::from_secs_f64(wait))
    }

    /// Forgets buckets that have refilled completely: they behave as if absent.
    fn sweep(&self, buckets: &mut Buckets, now: DateTime<Utc>) {
        if buckets
            .last_sweep
            .is_some_and(|last| elapsed(last, now) < SWEEP_INTERVAL)
        {
            return;
        }
        let refill_time = self.capacity / self.refill_per_second;
        buckets
            .by_key
            .retain(|_, bucket| elapsed(bucket.updated, now).as_secs_f64() < refill_time);
        buckets.last_sweep = Some(now);
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_key
            .len()
    }
}

/// Time from `earlier` to `now`; none if the clock was set back meanwhile, so that a clock
/// step never refills a bucket or panics.
fn elapsed(earlier: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - earlier).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;
    use crate::adapters::crypto::ManualClock;

    fn key(ip: &str) -> RateKey {
        RateKey::from(Some(ip.parse::<IpAddr>().unwrap()))
    }

    fn limiter(per_minute: u32) -> (RateLimiter, ManualClock) {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 3, 9, 30, 0).unwrap());
        let limiter = RateLimiter::per_minute(per_minute, Arc::new(clock.clone()));
        (limiter, clock)
    }

    #[test]
    fn admits_a_burst_of_the_per_minute_allowance_then_refuses() {
        let (limiter, _clock) = limiter(3);

        let answers: Vec<bool> = (0..4)
            .map(|_| limiter.admit(key("192.0.2.1")).is_ok())
            .collect();

        assert_eq!(answers, [true, true, true, false]);
    }

    #[test]
    fn says_how_long_until_the_next_request_is_admitted() {
        let (limiter, clock) = limiter(60);
        for _ in 0..60 {
            limiter.admit(key("192.0.2.1")).unwrap();
        }

        let wait = limiter.admit(key("192.0.2.1")).unwrap_err();

        assert_eq!(wait, Duration::from_secs(1));
        clock.advance(TimeDelta::milliseconds(999));
        assert!(limiter.admit(key("192.0.2.1")).is_err());
        clock.advance(TimeDelta::milliseconds(1));
        assert!(limiter.admit(key("192.0.2.1")).is_ok());
    }

    #[test]
    fn counts_each_address_separately() {
        let (limiter, _clock) = limiter(1);
        limiter.admit(key("192.0.2.1")).unwrap();

        assert!(limiter.admit(key("192.0.2.2")).is_ok());
        assert!(limiter.admit(key("192.0.2.1")).is_err());
    }

    #[test]
    fn counts_ipv6_clients_per_64_prefix() {
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
    }

    #[test]
    fn a_clock_set_back_refills_nothing() {
        let (limiter, clock) = limiter(1);
        limiter.admit(key("192.0.2.1")).unwrap();

        clock.advance(TimeDelta::seconds(-3600));

        assert!(limiter.admit(key("192.0.2.1")).is_err());
    }

    #[test]
    fn forgets_addresses_idle_long_enough_to_have_refilled() {
        let (limiter, clock) = limiter(60);
        for n in 0..MAX_TRACKED_ADDRESSES as u32 {
            limiter.admit(RateKey::V4(n.to_be_bytes())).unwrap();
        }

        clock.advance(TimeDelta::seconds(61));
        limiter.admit(key("2001:db8::1")).unwrap();

        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn a_full_table_admits_new_addresses_untracked_until_a_sweep_frees_room() {
        let (limiter, clock) = limiter(60);
        for n in 0..MAX_TRACKED_ADDRESSES as u32 {
            limiter.admit(RateKey::V4(n.to_be_bytes())).unwrap();
        }

        clock.advance(TimeDelta::seconds(30));
        limiter.admit(key("2001:db8::1")).unwrap();

        assert_eq!(limiter.tracked(), MAX_TRACKED_ADDRESSES);
    }
}
