//! Core layer: changing one's password while signed in. The current password is checked
//! under the same per-account throttle as a login, so a stolen access token is no oracle for
//! guessing it; a change ends every other session of the account.

use thiserror::Error;

use super::login::MAX_CANDIDATE_PASSWORD_BYTES;
use super::{AuthService, Principal};
use crate::core::model::{Password, ValidationErrors};

#[derive(Debug, Clone, Default)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Error)]
pub enum ChangePasswordError {
    /// The current password is wrong.
    #[error("wrong current password")]
    WrongPassword,
    /// The new password is refused (field `new_password`); nothing was checked or counted.
    #[error("invalid new password")]
    Invalid(ValidationErrors),
    /// Too many wrong passwords for this account lately; nothing was judged.
    #[error("password checks throttled")]
    Throttled { retry_after_seconds: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AuthService {
    /// Replaces the caller's password and ends their other sessions, keeping this one.
    pub async fn change_password(
        &self,
        principal: Principal,
        request: ChangePasswordRequest,
    ) -> Result<(), ChangePasswordError> {
        let user = self
            .ports
            .users
            .user_by_id(principal.user_id)
            .await
            .map_err(anyhow::Error::from)?
            .ok_or_else(|| {
                anyhow::anyhow!("the signed-in account {} vanished", principal.user_id)
            })?;
        // Validated first: a typo in the new password costs no throttled attempt.
        let mut errors = ValidationErrors::new();
        let context = [user.name.to_string(), user.email.to_string()];
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        let Some(new_password) = errors.check(
            "new_password",
            Password::parse(&request.new_password, &context),
        ) else {
            return Err(ChangePasswordError::Invalid(errors));
        };
        let throttle_key = self.password_throttle_key(user.email.as_str());
        if let Err(throttled) = self.reserve_password_attempt(&throttle_key).await? {
            return Err(ChangePasswordError::Throttled {
                retry_after_seconds: throttled.retry_after_seconds,
            });
        }
        let candidate = if request.current_password.len() > MAX_CANDIDATE_PASSWORD_BYTES {
            ""
        } else {
            request.current_password.as_str()
        };
        let matches = self
            .ports
            .passwords
            .verify(candidate, &user.password_hash)
            .await
            .map_err(anyhow::Error::from)?;
        if !matches || candidate.is_empty() {
            return Err(ChangePasswordError::WrongPassword);
        }
        self.clear_throttle(&throttle_key).await?;
        let hash = self
            .ports
            .passwords
            .hash(&new_password)
            .await
            .map_err(anyhow::Error::from)?;
        let now = self.ports.clock.now();
        self.ports
            .users
            .set_password_hash(user.id, &hash, now)
            .await
            .map_err(anyhow::Error::from)?;
        self.ports
            .sessions
            .revoke_other_user_sessions(user.id, principal.session_id, now)
            .await
            .map_err(anyhow::Error::from)?;
        self.notify_password_changed(&user).await;
        Ok(())
    }
}
