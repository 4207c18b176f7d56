//! Core layer: per-account throttling of secrets guessed online — passwords and second-factor
//! codes — through the `AttemptThrottleStore` port. Attempts are reserved before they are
//! judged; a success clears them.

use chrono::{DateTime, Utc};

use super::AuthService;
use crate::core::attempt_reservation::{ReserveOutcome, reserve_attempt};
use crate::core::model::{SecretDigest, UserId};
use crate::core::policy::LockoutRule;

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

impl AuthService {
    /// The throttle key of password logins with this email text. Keyed by the email whether
    /// or not an account has it — so an unknown email locks exactly like a known one — and
    /// digested, so the counters store no address and have a fixed size.
    pub(super) fn password_throttle_key(&self, email_text: &str) -> SecretDigest {
        let email = email_text.trim().to_lowercase();
        self.ports
            .digester
            .digest(&format!("throttle|password|{email}"))
    }

    /// The throttle key of an account's second factor, shared by every method and challenge.
    pub(super) fn second_factor_throttle_key(&self, user_id: UserId) -> SecretDigest {
        self.ports
            .digester
            .digest(&format!("throttle|second-factor|{user_id}"))
    }

    /// Reserves one password attempt for this email text, before it is judged.
    pub(super) async fn reserve_password_attempt(
        &self,
        key: &SecretDigest,
    ) -> Result<Result<(), Throttled>, anyhow::Error> {
        self.reserve(key, &self.policy.password_lockout).await
    }

    /// Reserves one second-factor attempt (email code, TOTP or recovery code) for the
    /// account before judging it; `Err(Throttled)` means the code must not be judged. Clear
    /// with `clear_throttle` once a code is right.
    pub(crate) async fn reserve_second_factor_attempt(
        &self,
        user_id: UserId,
    ) -> Result<Result<(), Throttled>, anyhow::Error> {
        let key = self.second_factor_throttle_key(user_id);
        self.reserve(&key, &self.policy.second_factor_lockout).await
    }

    async fn reserve(
        &self,
        key: &SecretDigest,
        rule: &LockoutRule,
    ) -> Result<Result<(), Throttled>, anyhow::Error> {
        let now = self.ports.clock.now();
        let outcome = reserve_attempt(&*self.ports.throttles, key, rule, now).await?;
        Ok(match outcome {
            ReserveOutcome::Reserved => Ok(()),
            ReserveOutcome::Locked { until } => Err(Throttled::until(until, now)),
        })
    }

    /// Forgets the failures counted under `key`: the secret was right.
    pub(super) async fn clear_throttle(&self, key: &SecretDigest) -> Result<(), anyhow::Error> {
        Ok(self.ports.throttles.clear_attempts(key).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

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
}
