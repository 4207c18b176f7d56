//! Core layer: per-account throttling of secrets guessed online — passwords and second-factor
//! codes — through the `AttemptThrottleStore` port. Attempts are reserved before they are
//! judged; a success clears them.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::core::attempt_reservation::{
    CountedAttempt, ReserveOutcome, reserve_attempt, reserve_counted_attempt,
};
use crate::core::model::{ClientInfo, SecretDigest, UserId};
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
    password_account_ceiling: LockoutRule,
    second_factor_lockout: LockoutRule,
}

/// Where a password attempt comes from, as far as the throttle counts it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PasswordSource<'a> {
    /// A client, counted by its network.
    Client(&'a ClientInfo),
    /// A live remembered device of the account, by its token's digest.
    RememberedDevice(&'a SecretDigest),
}

/// A password attempt reserved for judging; clear it if the password is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PasswordAttempt {
    key: SecretDigest,
}

fn normalised(email_text: &str) -> String {
    email_text.trim().to_lowercase()
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
            password_account_ceiling: policy.password_account_ceiling,
            second_factor_lockout: policy.second_factor_lockout,
        }
    }

    /// The account-wide key of password attempts on this email text. Keyed by the email
    /// whether or not an account has it — so an unknown email locks exactly like a known one
    /// — and digested, so the counters store no address and have a fixed size.
    pub(crate) fn password_account_key(&self, email_text: &str) -> SecretDigest {
        let email = normalised(email_text);
        self.digester.digest(&format!("throttle|password|{email}"))
    }

    /// The key of password attempts on this email text from one client network.
    pub(crate) fn password_network_key(
        &self,
        email_text: &str,
        client: &ClientInfo,
    ) -> SecretDigest {
        let email = normalised(email_text);
        let network = client.network();
        self.digester
            .digest(&format!("throttle|password|{email}|network|{network}"))
    }

    /// The key of password attempts on this email text made with a remembered device.
    fn password_device_key(&self, email_text: &str, device: &SecretDigest) -> SecretDigest {
        let email = normalised(email_text);
        let device: String = device
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.digester
            .digest(&format!("throttle|password|{email}|device|{device}"))
    }

    /// The key of the codes that confirm a new authenticator app: apart from the login's
    /// second-factor key, so that wrong confirm codes never lock the owner's sign-in.
    fn totp_confirmation_key(&self, user_id: UserId) -> SecretDigest {
        self.digester
            .digest(&format!("throttle|totp-confirmation|{user_id}"))
    }

    /// The throttle key of an account's second factor, shared by every method and challenge.
    pub(crate) fn second_factor_key(&self, user_id: UserId) -> SecretDigest {
        self.digester
            .digest(&format!("throttle|second-factor|{user_id}"))
    }

    /// Reserves one password attempt on this email text, before it is judged.
    ///
    /// From a remembered device of the account the attempt counts only against that device
    /// (its token is a 256-bit secret handed out after a second factor, so nobody else holds
    /// it). Otherwise it counts against the client's network (`password_lockout`: that
    /// network alone is locked out with back-off) and against the account as a whole
    /// (`password_account_ceiling`). While the account is past its ceiling — in lockdown —
    /// only the first attempt of a network that has no failure on it is judged: the owner
    /// coming from elsewhere still gets in, and each network an attacker holds buys one
    /// guess a day. `Err(Throttled)` means the password must not be judged.
    pub(crate) async fn reserve_password_attempt(
        &self,
        email_text: &str,
        source: PasswordSource<'_>,
    ) -> Result<Result<PasswordAttempt, Throttled>, anyhow::Error> {
        let now = self.clock.now();
        let client = match source {
            PasswordSource::RememberedDevice(device) => {
                let key = self.password_device_key(email_text, device);
                return Ok(self
                    .reserve(&key, &self.password_lockout)
                    .await?
                    .map(|()| PasswordAttempt { key }));
            }
            PasswordSource::Client(client) => client,
        };
        let network_key = self.password_network_key(email_text, client);
        let network_attempts = match reserve_counted_attempt(
            &*self.throttles,
            &network_key,
            &self.password_lockout,
            now,
        )
        .await?
        {
            CountedAttempt::Counted { attempts } => attempts,
            CountedAttempt::Locked { until } => return Ok(Err(Throttled::until(until, now))),
        };
        let account_key = self.password_account_key(email_text);
        let account = reserve_counted_attempt(
            &*self.throttles,
            &account_key,
            &self.password_account_ceiling,
            now,
        )
        .await?;
        Ok(match account {
            CountedAttempt::Counted { .. } => Ok(PasswordAttempt { key: network_key }),
            // The network's first attempt: exactly one of its concurrent attempts sees 1.
            CountedAttempt::Locked { .. } if network_attempts == 1 => {
                Ok(PasswordAttempt { key: network_key })
            }
            CountedAttempt::Locked { until } => Err(Throttled::until(until, now)),
        })
    }

    /// Forgets the failures counted for this attempt's network or device: the password was
    /// right. The account-wide count is left to fade on its own (`forget_after`), so that an
    /// owner signing in does not hand an attacker a fresh ceiling.
    pub(crate) async fn clear_password_attempt(
        &self,
        attempt: &PasswordAttempt,
    ) -> Result<(), anyhow::Error> {
        self.clear(&attempt.key).await
    }

    /// Ends the account's lockdown and the client's own network lock: its owner just proved
    /// control of the mailbox (a password reset).
    pub(crate) async fn clear_password_lockdown(
        &self,
        email_text: &str,
        client: &ClientInfo,
    ) -> Result<(), anyhow::Error> {
        self.clear(&self.password_account_key(email_text)).await?;
        self.clear(&self.password_network_key(email_text, client))
            .await
    }

    /// Reserves one attempt at confirming a new authenticator app (see
    /// `totp_confirmation_key`); clear with `clear_totp_confirmation` once a code is right.
    pub(crate) async fn reserve_totp_confirmation(
        &self,
        user_id: UserId,
    ) -> Result<Result<(), Throttled>, anyhow::Error> {
        let key = self.totp_confirmation_key(user_id);
        self.reserve(&key, &self.second_factor_lockout).await
    }

    pub(crate) async fn clear_totp_confirmation(
        &self,
        user_id: UserId,
    ) -> Result<(), anyhow::Error> {
        self.clear(&self.totp_confirmation_key(user_id)).await
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
    async fn clear(&self, key: &SecretDigest) -> Result<(), anyhow::Error> {
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

    fn from(ip: &str) -> ClientInfo {
        ClientInfo {
            ip: Some(ip.into()),
            user_agent: None,
        }
    }

    #[test]
    fn password_keys_ignore_case_and_spaces_and_differ_from_second_factor_keys() {
        let throttle = throttle(Arc::default(), &AuthPolicy::default());
        let user_id = UserId::new();
        let home = from("203.0.113.7");

        assert_eq!(
            throttle.password_network_key(" Amina@Example.COM ", &home),
            throttle.password_network_key("amina@example.com", &home)
        );
        assert_ne!(
            throttle.password_account_key(&user_id.to_string()),
            throttle.second_factor_key(user_id)
        );
        assert_ne!(
            throttle.totp_confirmation_key(user_id),
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
        let home = from("203.0.113.7");
        let source = PasswordSource::Client(&home);

        for _ in 0..3 {
            block_on(throttle.reserve_password_attempt("amina@example.com", source))
                .unwrap()
                .unwrap();
            block_on(throttle.reserve_second_factor_attempt(user_id))
                .unwrap()
                .unwrap();
        }

        // The third password attempt locked the network; three codes are far from seven.
        let network_key = throttle.password_network_key("amina@example.com", &home);
        assert!(store.record(&network_key).unwrap().locked_until.is_some());
        assert!(
            block_on(throttle.reserve_password_attempt("amina@example.com", source))
                .unwrap()
                .is_err()
        );
        let account_record = store
            .record(&throttle.password_account_key("amina@example.com"))
            .unwrap();
        assert_eq!(account_record.attempts, 3);
        assert_eq!(account_record.locked_until, None);
        let second_factor_record = store.record(&throttle.second_factor_key(user_id)).unwrap();
        assert_eq!(second_factor_record.attempts, 3);
        assert_eq!(second_factor_record.locked_until, None);
    }

    #[test]
    fn a_network_locked_out_of_an_account_leaves_other_networks_and_devices_judged() {
        let store = Arc::new(RecordingThrottles::default());
        let mut policy = AuthPolicy::default();
        policy.password_lockout.max_attempts = 3;
        let throttle = throttle(store, &policy);
        let attacker = from("198.51.100.20");
        let owner = from("203.0.113.7");
        let device = SecretDigest::from_bytes([4; 32]);
        for _ in 0..3 {
            block_on(
                throttle.reserve_password_attempt(
                    "amina@example.com",
                    PasswordSource::Client(&attacker),
                ),
            )
            .unwrap()
            .unwrap();
        }

        let attacker_again = block_on(
            throttle
                .reserve_password_attempt("amina@example.com", PasswordSource::Client(&attacker)),
        )
        .unwrap();
        let owner_elsewhere = block_on(
            throttle.reserve_password_attempt("amina@example.com", PasswordSource::Client(&owner)),
        )
        .unwrap();
        let owner_device = block_on(throttle.reserve_password_attempt(
            "amina@example.com",
            PasswordSource::RememberedDevice(&device),
        ))
        .unwrap();

        assert!(attacker_again.is_err());
        assert!(owner_elsewhere.is_ok());
        assert!(owner_device.is_ok());
    }

    #[test]
    fn in_lockdown_only_the_first_attempt_of_a_network_without_failures_is_judged() {
        let store = Arc::new(RecordingThrottles::default());
        let mut policy = AuthPolicy::default();
        policy.password_account_ceiling.max_attempts = 2;
        let throttle = throttle(store, &policy);
        let attacker = from("198.51.100.20");
        let fresh = from("192.0.2.50");
        let reserve = |client: &ClientInfo| {
            block_on(
                throttle
                    .reserve_password_attempt("amina@example.com", PasswordSource::Client(client)),
            )
            .unwrap()
        };
        assert!(reserve(&attacker).is_ok());
        assert!(reserve(&attacker).is_ok());

        // The ceiling is reached: the failed network is refused, a fresh one judged once.
        assert!(reserve(&attacker).is_err());
        assert!(reserve(&fresh).is_ok());
        assert!(reserve(&fresh).is_err());
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
