//! Core layer: changing one's password while signed in. The current password is checked
//! under the same per-account throttle as a login, so a stolen access token is no oracle for
//! guessing it; a change ends every other session of the account.

use thiserror::Error;

use super::{AuthService, PasswordCheck, Principal};
use crate::core::model::{AuditKind, ClientInfo, Password, ValidationErrors};

#[derive(Debug, Clone, Default)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
    pub client: ClientInfo,
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
        match self
            .check_password(&user, &request.current_password, &request.client)
            .await?
        {
            PasswordCheck::Right => {}
            PasswordCheck::Wrong => return Err(ChangePasswordError::WrongPassword),
            PasswordCheck::Throttled(throttled) => {
                return Err(ChangePasswordError::Throttled {
                    retry_after_seconds: throttled.retry_after_seconds,
                });
            }
        }
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
        let changed = AuditKind::PasswordChanged.about(user.id);
        self.audit.record(changed, &request.client).await;
        self.notify_password_changed(&user).await;
        Ok(())
    }
}
