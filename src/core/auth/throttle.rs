//! Core layer: per-account throttling of secrets guessed online — passwords and second-factor
//! codes — through the `AttemptThrottleStore` port. Attempts are reserved before they are
//! judged; a success clears them.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::core::attempt_reservation::{ReserveOutcome, reserve_attempt};
use crate::core::model::{SecretDigest, UserId};
use crate::core::policy::{AuthPolicy, LockoutRule};
use crate::core::ports::{AttemptThrottleStore, Clock, SecretDigester};

/// A key is locked; the caller must not judge the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds until the lock ends, at least 1 (the `Retry-After` value).
    pub retry_after_seconds: u64,
}

impl Throttled {
    fn until(until: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let milliseconds = (until - now).num_milliseconds().max(0);
        // Round up: a client retrying after exactly this many seconds finds the lock over.
        let seconds = (milliseconds + 999) / 1000;
        Self {
            retry_after_seconds: seconds.max(1) as u64,
        }
    }
}

/// The per-account attempt throttle shared by every use case that judges a password or a
/// second-factor code, so a secret guessed through one door counts at all of them.
#[derive(Clone)]
pub struct Throttle {
    throttles: Arc<dyn AttemptThrottleStore>,
    digester: Arc<dyn SecretDigester>,
    clock: Arc<dyn Clock>,
    password_lockout: LockoutRule,
    second_factor_lockout: LockoutRule,
}

impl Throttle {
    pub fn new(
        throttles: Arc<dyn AttemptThrottleStore>,
        digester: Arc<dyn SecretDigester>,
        clock: Arc<dyn Clock>,
        policy: &AuthPolicy,
    ) -> Self {
        Self {
            throttles,
            digester,
            clock,
            password_lockout: policy.password_lockout,
            second_factor_lockout: policy.second_factor_lockout,
        }
    }

    /// The throttle key of password logins with this email text. Keyed by the email whether
    /// or not an account has it — so an unknown email locks exactly like a known one — and
    /// digested, so the counters store no address and have a fixed size.
    pub(crate) fn password_key(&self, email_text: &str) -> SecretDigest {
        let email = email_text.trim().to_lowercase();
        self.digester.digest(&format!("throttle|password|{email}"))
    }

    /// The throttle key of an account's second factor, shared by every method and challenge.
    pub(crate) fn second_factor_key(&self, user_id: UserId) -> SecretDigest {
        self.digester
            .digest(&format!("throttle|second-factor|{user_id}"))
    }

    /// Reserves one password attempt for this email text, before it is judged.
    pub(crate) async fn reserve_password_attempt(
        &self,
        key: &SecretDigest,
    ) -> Result<Result<(), Throttled>, anyhow::Error> {
        self.reserve(key, &self.password_lockout).await
    }

    /// Reserves one second-factor attempt (email code, TOTP or recovery code) for the
    /// account before judging it; `Err(Throttled)` means the code must not be judged. Clear
    /// with `clear_second_factor` once a code is right.
    pub(crate) async fn reserve_second_factor_attempt(
        &self,
        user_id: UserId,
    ) -> Result<Result<(), Throttled>, anyhow::Error> {
        let key = self.second_factor_key(user_id);
        self.reserve(&key, &self.second_factor_lockout).await
    }

    async fn reserve(
        &self,
        key: &SecretDigest,
        rule: &LockoutRule,
    ) -> Result<Result<(), Throttled>, anyhow::Error> {
        let now = self.clock.now();
        let outcome = reserve_attempt(&*self.throttles, key, rule, now).await?;
        Ok(match outcome {
            ReserveOutcome::Reserved => Ok(()),
            ReserveOutcome::Locked { until } => Err(Throttled::until(until, now)),
        })
    }

    /// Forgets the failures counted under `key`: the secret was right.
    pub(crate) async fn clear(&self, key: &SecretDigest) -> Result<(), anyhow::Error> {
        Ok(self.throttles.clear_attempts(key).await?)
    }

    /// Forgets the account's second-factor failures: a code was right.
    pub(crate) async fn clear_second_factor(&self, user_id: UserId) -> Result<(), anyhow::Error> {
        self.clear(&self.second_factor_key(user_id)).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::core::testing::{FixedClock, PlainDigester, RecordingThrottles, block_on};

    #[test]
    fn the_wait_is_rounded_up_to_whole_seconds_and_never_zero() {
        let now = Utc.timestamp_millis_opt(1_767_225_600_000).unwrap();

        assert_eq!(
            Throttled::until(now + Duration::milliseconds(1_001), now).retry_after_seconds,
            2
        );
        assert_eq!(
            Throttled::until(now + Duration::seconds(60), now).retry_after_seconds,
            60
        );
        assert_eq!(Throttled::until(now, now).retry_after_seconds, 1);
    }

    fn throttle(store: Arc<RecordingThrottles>, policy: &AuthPolicy) -> Throttle {
        Throttle::new(
            store,
            Arc::new(PlainDigester),
            Arc::new(FixedClock::at_new_year()),
            policy,
        )
    }

    #[test]
    fn password_keys_ignore_case_and_spaces_and_differ_from_second_factor_keys() {
        let throttle = throttle(Arc::default(), &AuthPolicy::default());
        let user_id = UserId::new();

        assert_eq!(
            throttle.password_key(" Amina@Example.COM "),
            throttle.password_key("amina@example.com")
        );
        assert_ne!(
            throttle.password_key(&user_id.to_string()),
            throttle.second_factor_key(user_id)
        );
    }

    #[test]
    fn each_kind_of_secret_is_reserved_under_its_own_rule() {
        let store = Arc::new(RecordingThrottles::default());
        let mut policy = AuthPolicy::default();
        policy.password_lockout.max_attempts = 3;
        policy.second_factor_lockout.max_attempts = 7;
        let throttle = throttle(store.clone(), &policy);
        let user_id = UserId::new();
        let password_key = throttle.password_key("amina@example.com");

        for _ in 0..3 {
            block_on(throttle.reserve_password_attempt(&password_key))
                .unwrap()
                .unwrap();
            block_on(throttle.reserve_second_factor_attempt(user_id))
                .unwrap()
                .unwrap();
        }

        // The third password attempt locked the email; three codes are far from seven.
        let password_record = store.record(&password_key).unwrap();
        assert!(password_record.locked_until.is_some());
        assert!(
            block_on(throttle.reserve_password_attempt(&password_key))
                .unwrap()
                .is_err()
        );
        let second_factor_record = store.record(&throttle.second_factor_key(user_id)).unwrap();
        assert_eq!(second_factor_record.attempts, 3);
        assert_eq!(second_factor_record.locked_until, None);
    }

    #[test]
    fn a_locked_key_is_throttled_until_its_lock_ends() {
        let store = Arc::new(RecordingThrottles::default());
        let clock = FixedClock::at_new_year();
        store.lock_until(clock.now() + Duration::seconds(90));
        let throttle = throttle(store, &AuthPolicy::default());

        let outcome = block_on(throttle.reserve_second_factor_attempt(UserId::new())).unwrap();

        assert_eq!(
            outcome,
            Err(Throttled {
                retry_after_seconds: 90
            })
        );
    }

    #[test]
    fn a_right_second_factor_clears_the_accounts_key() {
        let store = Arc::new(RecordingThrottles::default());
        let throttle = throttle(store.clone(), &AuthPolicy::default());
        let user_id = UserId::new();

        block_on(throttle.clear_second_factor(user_id)).unwrap();

        assert_eq!(store.cleared(), vec![throttle.second_factor_key(user_id)]);
    }
}
