//! Core layer: the per-address request limit as a pure rule — who a request is counted for
//! (`RateKey`), the fixed window it falls in, and whether a count is within the limit.
//! The counting itself is the store's (`ports::RateWindowStore`), shared by every instance.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Duration, TimeDelta, Utc};

use super::SecretDigest;

/// Who requests are counted for. IPv6 clients usually hold a whole /64, so they are counted
/// per /64; an IPv4-mapped IPv6 address is its IPv4 address; requests without any address (a
/// Unix socket) share one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(String);

impl RateKey {
    /// The key of a client address, `None` when there is none.
    pub fn of(address: Option<IpAddr>) -> Self {
        let key = match address.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let mut prefix = v6.octets();
                prefix[8..].fill(0);
                format!("{}/64", std::net::Ipv6Addr::from(prefix))
            }
            None => "unknown".to_owned(),
        };
        RateKey(key)
    }

    /// The key of one mail recipient, for the hourly cap on mails: the digest of the address
    /// (`mail:<hex>`), so the store holds no address in clear.
    pub fn of_mail_recipient(digest: &SecretDigest) -> Self {
        let hex: String = digest
            .as_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        RateKey(format!("mail:{hex}"))
    }

    /// The key as stores keep it: `192.0.2.1`, `2001:db8:1:2::/64` or `unknown`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One counting window: requests at `start` or later and before `end` count together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What the limit says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    Admitted,
    /// Over the limit until the window ends, `retry_after` from now.
    Refused {
        retry_after: Duration,
    },
}

/// At most `limit` requests per key in each fixed window of `length`, windows aligned on the
/// Unix epoch so that every instance computes the same ones. A fixed window lets a client send
/// up to twice the limit across a window boundary; in exchange one atomic increment per
/// request is the whole protocol, and `Retry-After` is exact: the end of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindowLimit {
    pub limit: u32,
    pub length: Duration,
}

impl FixedWindowLimit {
    /// `limit` requests a minute (at least one).
    pub fn per_minute(limit: u32) -> Self {
        FixedWindowLimit {
            limit: limit.max(1),
            length: Duration::minutes(1),
        }
    }

    /// `limit` requests a clock hour (at least one).
    pub fn per_hour(limit: u32) -> Self {
        FixedWindowLimit {
            limit: limit.max(1),
            length: Duration::hours(1),
        }
    }

    /// The window `now` falls in.
    pub fn window_at(&self, now: DateTime<Utc>) -> RateWindow {
        let length_ms = self.length.num_milliseconds().max(1);
        let start_ms = now.timestamp_millis().div_euclid(length_ms) * length_ms;
        let start = DateTime::<Utc>::from_timestamp_millis(start_ms).unwrap_or(now);
        RateWindow {
            start,
            end: start + TimeDelta::milliseconds(length_ms),
        }
    }

    /// The verdict on the request that brought `window`'s count to `counted` (itself
    /// included), judged at `now`.
    pub fn judge(&self, counted: u64, window: &RateWindow, now: DateTime<Utc>) -> RateVerdict {
        if counted <= u64::from(self.limit) {
            return RateVerdict::Admitted;
        }
        RateVerdict::Refused {
            retry_after: (window.end - now).max(Duration::zero()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn key(ip: &str) -> RateKey {
        RateKey::of(Some(ip.parse().unwrap()))
    }

    fn at(h: u32, m: u32, s: u32, ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 3, h, m, s).unwrap() + Duration::milliseconds(ms)
    }

    #[test]
    fn a_mail_recipient_is_keyed_by_its_digest_and_never_meets_a_client_address() {
        let digest = SecretDigest::from_bytes([0xab; 32]);
        let key = RateKey::of_mail_recipient(&digest);
        assert_eq!(key.as_str(), format!("mail:{}", "ab".repeat(32)));
        assert_ne!(
            key,
            RateKey::of_mail_recipient(&SecretDigest::from_bytes([0xac; 32]))
        );
        assert!(key.as_str().parse::<std::net::IpAddr>().is_err());
    }

    #[test]
    fn an_hourly_window_is_the_clock_hour() {
        let window = FixedWindowLimit::per_hour(20).window_at(at(9, 41, 7, 250));
        assert_eq!(window.start, at(9, 0, 0, 0));
        assert_eq!(window.end, at(10, 0, 0, 0));
    }

    #[test]
    fn ipv4_clients_are_counted_per_address_and_ipv6_clients_per_64() {
        assert_eq!(key("192.0.2.1").as_str(), "192.0.2.1");
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_eq!(key("2001:db8:1:2::1").as_str(), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
        assert_eq!(RateKey::of(None).as_str(), "unknown");
    }

    #[test]
    fn windows_are_aligned_on_the_minute_so_every_instance_agrees() {
        let limit = FixedWindowLimit::per_minute(60);

        let window = limit.window_at(at(9, 30, 42, 123));

        assert_eq!(window.start, at(9, 30, 0, 0));
        assert_eq!(window.end, at(9, 31, 0, 0));
        assert_eq!(limit.window_at(at(9, 30, 59, 999)), window);
        assert_ne!(limit.window_at(at(9, 31, 0, 0)), window);
    }

    #[test]
    fn the_limit_admits_exactly_its_count_then_refuses_until_the_window_ends() {
        let limit = FixedWindowLimit::per_minute(3);
        let now = at(9, 30, 42, 500);
        let window = limit.window_at(now);

        let verdicts: Vec<_> = (1..=4).map(|n| limit.judge(n, &window, now)).collect();

        assert_eq!(verdicts[..3], [RateVerdict::Admitted; 3]);
        assert_eq!(
            verdicts[3],
            RateVerdict::Refused {
                retry_after: Duration::milliseconds(17_500)
            }
        );
    }

    #[test]
    fn a_limit_of_zero_is_read_as_one() {
        assert_eq!(FixedWindowLimit::per_minute(0).limit, 1);
    }
}
