//! Core layer: a signed-in user typing their password again to confirm a sensitive change
//! (a new password, turning the authenticator app off, new recovery codes, deleting the
//! account). Judged under the same per-account throttle as logins, so a stolen access token is
//! no oracle for guessing the password.

use super::AuthService;
use super::login::MAX_CANDIDATE_PASSWORD_BYTES;
use super::throttle::Throttled;
use crate::core::model::{AuditKind, ClientInfo, User};

/// What became of a password given again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    Right,
    Wrong,
    /// Too many wrong passwords for this account lately: nothing was judged.
    Throttled(Throttled),
}

impl AuthService {
    /// Judges `candidate` as `user`'s password. The attempt is reserved in the per-email
    /// throttle before hashing, so a locked account is refused without judging anything and
    /// parallel guesses cannot outrun the limit; a right password clears the count. Wrong
    /// passwords and throttled attempts are recorded as security events.
    pub(crate) async fn check_password(
        &self,
        user: &User,
        candidate: &str,
        client: &ClientInfo,
    ) -> Result<PasswordCheck, anyhow::Error> {
        let key = self.password_throttle_key(user.email.as_str());
        if let Err(throttled) = self.reserve_password_attempt(&key).await? {
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
            .ports
            .passwords
            .verify(candidate, &user.password_hash)
            .await?;
        if !matches || candidate.is_empty() {
            let wrong = AuditKind::PasswordCheckFailed.about(user.id);
            self.audit.record(wrong, client).await;
            return Ok(PasswordCheck::Wrong);
        }
        self.clear_throttle(&key).await?;
        Ok(PasswordCheck::Right)
    }
}
