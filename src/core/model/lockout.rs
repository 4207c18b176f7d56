//! Core layer: the lockout back-off, as a pure rule over one key's throttle record.
//! Depends on chrono and the policy's `LockoutRule` only; the stores keep the record, the
//! rule here decides what one more attempt does to it.

use chrono::{DateTime, Duration, Utc};

use crate::core::policy::LockoutRule;

/// What a throttle store keeps for one key (a digest naming an account, or an email that has
/// none): its attempts since the last success, the end of its current or last lock, the
/// length of its next lock, and when it is forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRecord {
    pub attempts: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub next_lock: Duration,
    /// From this instant on the record counts as absent: the key starts afresh.
    pub forgotten_at: DateTime<Utc>,
}

/// What the rule makes of one more attempt on a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// The key is locked until then: do not count the attempt, do not judge it.
    Locked { until: DateTime<Utc> },
    /// Count the attempt by storing this record in place of the one read; then judge it.
    Count(ThrottleRecord),
}

impl LockoutRule {
    /// Applies the rule to one more attempt at `now` on a key whose stored record is
    /// `stored`: the `max_attempts`-th attempt locks the key for `first_lock`; once a lock
    /// has passed, each further attempt locks again for twice as long, up to `max_lock`; a
    /// record forgotten at or before `now` counts as absent.
    ///
    /// Every `Count` record differs from `stored` (it has one attempt more, or it is fresh
    /// where `stored` was forgotten, with a later forget time), which is what lets a store's
    /// compare-and-set on the whole record tell a concurrent count apart.
    pub fn judge_attempt(
        &self,
        stored: Option<&ThrottleRecord>,
        now: DateTime<Utc>,
    ) -> AttemptVerdict {
        let current = stored.filter(|record| now < record.forgotten_at);
        if let Some(until) = current
            .and_then(|record| record.locked_until)
            .filter(|until| now < *until)
        {
            return AttemptVerdict::Locked { until };
        }
        let mut next = match current {
            Some(record) => ThrottleRecord {
                attempts: record.attempts.saturating_add(1),
                forgotten_at: now + self.forget_after,
                ..*record
            },
            None => ThrottleRecord {
                attempts: 1,
                locked_until: None,
                next_lock: self.first_lock,
                forgotten_at: now + self.forget_after,
            },
        };
        if next.attempts >= self.max_attempts {
            next.locked_until = Some(now + next.next_lock);
            next.next_lock = (next.next_lock * 2).min(self.max_lock);
        }
        AttemptVerdict::Count(next)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn rule() -> LockoutRule {
        LockoutRule {
            max_attempts: 3,
            first_lock: Duration::minutes(1),
            max_lock: Duration::minutes(5),
            forget_after: Duration::hours(24),
        }
    }

    fn t0() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_767_225_600_123).unwrap()
    }

    /// Counts attempts at `now` from `record`, as a store would keep them, until one is
    /// locked; the verdicts in order.
    fn attempts(
        record: &mut Option<ThrottleRecord>,
        times: usize,
        now: DateTime<Utc>,
    ) -> Vec<AttemptVerdict> {
        (0..times)
            .map(|_| {
                let verdict = rule().judge_attempt(record.as_ref(), now);
                if let AttemptVerdict::Count(next) = verdict {
                    *record = Some(next);
                }
                verdict
            })
            .collect()
    }

    fn is_counted(verdict: &AttemptVerdict) -> bool {
        matches!(verdict, AttemptVerdict::Count(_))
    }

    #[test]
    fn a_fresh_key_counts_its_first_attempt_and_will_be_forgotten_a_day_later() {
        let verdict = rule().judge_attempt(None, t0());

        assert_eq!(
            verdict,
            AttemptVerdict::Count(ThrottleRecord {
                attempts: 1,
                locked_until: None,
                next_lock: Duration::minutes(1),
                forgotten_at: t0() + Duration::hours(24),
            })
        );
    }

    #[test]
    fn the_last_allowed_attempt_locks_the_key_for_the_first_lock() {
        let mut record = None;

        let verdicts = attempts(&mut record, 4, t0());

        assert!(verdicts[..3].iter().all(is_counted), "{verdicts:?}");
        assert_eq!(
            verdicts[3],
            AttemptVerdict::Locked {
                until: t0() + Duration::minutes(1)
            }
        );
        assert_eq!(record.unwrap().next_lock, Duration::minutes(2));
    }

    #[test]
    fn a_locked_key_counts_nothing_until_its_lock_ends() {
        let mut record = None;
        attempts(&mut record, 3, t0());
        let before = record;

        let during = attempts(&mut record, 5, t0() + Duration::seconds(59));

        assert!(during.iter().all(|verdict| *verdict
            == AttemptVerdict::Locked {
                until: t0() + Duration::minutes(1)
            }));
        assert_eq!(record, before, "a refused attempt changes nothing");
    }

    #[test]
    fn each_attempt_after_a_lock_locks_again_for_twice_as_long_up_to_the_cap() {
        let mut record = None;
        attempts(&mut record, 3, t0());
        let mut now = t0();
        let mut locks = Vec::new();

        for _ in 0..4 {
            let AttemptVerdict::Locked { until } = rule().judge_attempt(record.as_ref(), now)
            else {
                panic!("the key should be locked at {now}");
            };
            locks.push((until - now).num_minutes());
            now = until;
            assert!(is_counted(&attempts(&mut record, 1, now)[0]), "at {now}");
        }

        assert_eq!(locks, vec![1, 2, 4, 5]);
    }

    #[test]
    fn a_forgotten_record_counts_as_absent_from_its_forget_time_on() {
        let mut record = None;
        attempts(&mut record, 2, t0());
        let forgotten_at = t0() + Duration::hours(24);

        let just_before =
            rule().judge_attempt(record.as_ref(), forgotten_at - Duration::milliseconds(1));
        let at_the_time = rule().judge_attempt(record.as_ref(), forgotten_at);

        let AttemptVerdict::Count(remembered) = just_before else {
            panic!("{just_before:?}");
        };
        assert_eq!(remembered.attempts, 3);
        assert!(remembered.locked_until.is_some());
        assert_eq!(at_the_time, rule().judge_attempt(None, forgotten_at));
    }

    #[test]
    fn a_forgotten_lock_is_forgotten_with_its_back_off() {
        let mut record = None;
        attempts(&mut record, 3, t0());
        let much_later = t0() + Duration::days(2);

        let verdict = rule().judge_attempt(record.as_ref(), much_later);

        assert_eq!(verdict, rule().judge_attempt(None, much_later));
    }

    #[test]
    fn every_counted_record_differs_from_the_one_it_replaces() {
        let mut record = None;
        let mut now = t0();
        for _ in 0..20 {
            let before = record;
            if let AttemptVerdict::Locked { until } = rule().judge_attempt(before.as_ref(), now) {
                now = until;
                continue;
            }
            attempts(&mut record, 1, now);
            assert_ne!(record, before, "at {now}");
        }
    }

    #[test]
    fn one_attempt_allowed_locks_at_the_first() {
        let rule = LockoutRule {
            max_attempts: 1,
            ..rule()
        };

        let verdict = rule.judge_attempt(None, t0());

        assert_eq!(
            verdict,
            AttemptVerdict::Count(ThrottleRecord {
                attempts: 1,
                locked_until: Some(t0() + Duration::minutes(1)),
                next_lock: Duration::minutes(2),
                forgotten_at: t0() + Duration::hours(24),
            })
        );
    }
}
