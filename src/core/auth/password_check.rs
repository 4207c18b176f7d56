//! Core layer: a signed-in user typing their password again to confirm a sensitive change
//! (a new password, turning the authenticator app off, new recovery codes, deleting the
//! account). Judged under the same per-account throttle as logins, so a stolen access token is
//! no oracle for guessing the password.

use std::sync::Arc;

use super::throttle::{PasswordSource, Throttle, Throttled};
use crate::core::audit::AuditTrail;
use crate::core::model::{AuditKind, ClientInfo, User};
use crate::core::ports::PasswordHashing;

/// Passwords longer than this are judged wrong before hashing: no real password is, and
/// hashing megabytes would be a cheap way to burn our CPU.
pub(super) const MAX_CANDIDATE_PASSWORD_BYTES: usize = 1024;

/// What became of a password given again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Right,
    Wrong,
    /// Too many wrong passwords for this account lately: nothing was judged.
    Throttled(Throttled),
}

/// Judges a password given again by a signed-in user.
#[derive(Clone)]
pub struct PasswordChecker {
    passwords: Arc<dyn PasswordHashing>,
    throttle: Throttle,
    audit: AuditTrail,
}

impl PasswordChecker {
    pub fn new(passwords: Arc<dyn PasswordHashing>, throttle: Throttle, audit: AuditTrail) -> Self {
        Self {
            passwords,
            throttle,
            audit,
        }
    }

    /// Judges `candidate` as `user`'s password. The attempt is reserved in the per-email
    /// throttle before hashing, so a locked account is refused without judging anything and
    /// parallel guesses cannot outrun the limit; a right password clears the count. Wrong
    /// passwords and throttled attempts are recorded as security events.
    pub async fn check(
        &self,
        user: &User,
        candidate: &str,
        client: &ClientInfo,
    ) -> Result<PasswordCheck, anyhow::Error> {
        let source = PasswordSource::Client(client);
        let attempt = match self
            .throttle
            .reserve_password_attempt(user.email.as_str(), source)
            .await?
        {
            Ok(attempt) => attempt,
            Err(throttled) => {
                let refused = AuditKind::Throttled.about(user.id).detail("password");
                self.audit.record(refused, client).await;
                return Ok(PasswordCheck::Throttled(throttled));
            }
        };
        let candidate = if candidate.len() > MAX_CANDIDATE_PASSWORD_BYTES {
            ""
        } else {
            candidate
        };
        // Hashed even when empty, so the answer takes the same time whatever was typed.
        let matches = self
            .passwords
            .verify(candidate, &user.password_hash)
            .await?;
        if !matches || candidate.is_empty() {
            let wrong = AuditKind::PasswordCheckFailed.about(user.id);
            self.audit.record(wrong, client).await;
            return Ok(PasswordCheck::Wrong);
        }
        self.throttle.clear_password_attempt(&attempt).await?;
        Ok(PasswordCheck::Right)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::core::policy::AuthPolicy;
    use crate::core::ports::Clock;
    use crate::core::testing::{
        FixedClock, PlainDigester, PlainHashing, RecordingAuditLog, RecordingThrottles, block_on,
        client_with_password,
    };

    const PASSWORD: &str = "tulipe-marteau-orage";

    struct Fixture {
        checker: PasswordChecker,
        hashing: Arc<PlainHashing>,
        throttles: Arc<RecordingThrottles>,
        log: Arc<RecordingAuditLog>,
        throttle: Throttle,
    }

    fn fixture() -> Fixture {
        let hashing = Arc::new(PlainHashing::default());
        let throttles = Arc::new(RecordingThrottles::default());
        let log = Arc::new(RecordingAuditLog::default());
        let clock = Arc::new(FixedClock::at_new_year());
        let throttle = Throttle::new(
            throttles.clone(),
            Arc::new(PlainDigester),
            clock.clone(),
            &AuthPolicy::default(),
        );
        let audit = AuditTrail::new(log.clone(), clock);
        Fixture {
            checker: PasswordChecker::new(hashing.clone(), throttle.clone(), audit),
            hashing,
            throttles,
            log,
            throttle,
        }
    }

    #[test]
    fn the_right_password_clears_the_accounts_password_throttle() {
        let f = fixture();
        let user = client_with_password("amina@example.com", PASSWORD);

        let check = block_on(f.checker.check(&user, PASSWORD, &ClientInfo::default())).unwrap();

        assert_eq!(check, PasswordCheck::Right);
        let key = f
            .throttle
            .password_network_key("amina@example.com", &ClientInfo::default());
        assert_eq!(f.throttles.cleared(), vec![key]);
        assert!(f.log.kinds().is_empty());
    }

    #[test]
    fn a_wrong_password_is_counted_and_recorded_and_clears_nothing() {
        let f = fixture();
        let user = client_with_password("amina@example.com", PASSWORD);

        let check = block_on(f.checker.check(&user, "guess", &ClientInfo::default())).unwrap();

        assert_eq!(check, PasswordCheck::Wrong);
        let key = f
            .throttle
            .password_network_key("amina@example.com", &ClientInfo::default());
        assert_eq!(
            f.throttles.record(&key).map(|record| record.attempts),
            Some(1)
        );
        assert!(f.throttles.cleared().is_empty());
        assert_eq!(f.log.kinds(), vec![AuditKind::PasswordCheckFailed]);
    }

    #[test]
    fn an_absurdly_long_password_is_hashed_as_an_empty_one_and_is_wrong() {
        let f = fixture();
        let long = "x".repeat(MAX_CANDIDATE_PASSWORD_BYTES + 1);
        let user = client_with_password("amina@example.com", &long);

        let check = block_on(f.checker.check(&user, &long, &ClientInfo::default())).unwrap();

        assert_eq!(check, PasswordCheck::Wrong);
        assert_eq!(f.hashing.verified(), vec![String::new()]);
    }

    #[test]
    fn a_throttled_account_is_refused_without_hashing_anything() {
        let f = fixture();
        let user = client_with_password("amina@example.com", PASSWORD);
        f.throttles
            .lock_until(FixedClock::at_new_year().now() + Duration::seconds(30));

        let check = block_on(f.checker.check(&user, PASSWORD, &ClientInfo::default())).unwrap();

        assert_eq!(
            check,
            PasswordCheck::Throttled(Throttled {
                retry_after_seconds: 30
            })
        );
        assert!(f.hashing.verified().is_empty());
        assert_eq!(f.log.kinds(), vec![AuditKind::Throttled]);
    }
}
