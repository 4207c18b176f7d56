//! Core layer: a signed-in user typing their password again to confirm a sensitive change
//! (a new password, turning the authenticator app off, new recovery codes, deleting the
//! account). Judged under the same per-account throttle as logins, so a stolen access token is
//! no oracle for guessing the password.

use std::sync::Arc;

use super::throttle::{Throttle, Throttled};
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
        let key = self.throttle.password_key(user.email.as_str());
        if let Err(throttled) = self.throttle.reserve_password_attempt(&key).await? {
            let refused = AuditKind::Throttled.about(user.id).detail("password");
            self.audit.record(refused, client).await;
            return Ok(PasswordCheck::Throttled(throttled));
        }
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
        self.throttle.clear(&key).await?;
        Ok(PasswordCheck::Right)
    }
}
