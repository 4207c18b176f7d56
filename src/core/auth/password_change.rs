//! Core layer: changing one's password while signed in. The current password is checked
//! under the same per-account throttle as a login, so a stolen access token is no oracle for
//! guessing it; a change ends every other session of the account.

use std::sync::Arc;

use thiserror::Error;

use super::credential_change::CredentialChange;
use super::password_check::{PasswordCheck, PasswordChecker};
use super::password_reset::{password_changed, validate_new_password};
use crate::core::audit::AuditTrail;
use crate::core::model::{AuditKind, ClientInfo, Principal, ValidationErrors};
use crate::core::notifier::Notifier;
use crate::core::ports::{Clock, PasswordHashing, UserStore};
use crate::core::unexpected::port_failures_are_unexpected;

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

port_failures_are_unexpected!(ChangePasswordError);

/// A signed-in user replacing their password.
#[derive(Clone)]
pub struct PasswordChange {
    users: Arc<dyn UserStore>,
    credentials: CredentialChange,
    passwords: Arc<dyn PasswordHashing>,
    clock: Arc<dyn Clock>,
    checker: PasswordChecker,
    notifier: Notifier,
    audit: AuditTrail,
}

impl PasswordChange {
    pub fn new(
        users: Arc<dyn UserStore>,
        credentials: CredentialChange,
        passwords: Arc<dyn PasswordHashing>,
        clock: Arc<dyn Clock>,
        checker: PasswordChecker,
        notifier: Notifier,
        audit: AuditTrail,
    ) -> Self {
        Self {
            users,
            credentials,
            passwords,
            clock,
            checker,
            notifier,
            audit,
        }
    }

    /// Replaces the caller's password and ends their other sessions, keeping this one; their
    /// remembered devices, reset links and open sign-ins go too (`CredentialChange`).
    pub async fn change_password(
        &self,
        principal: Principal,
        request: ChangePasswordRequest,
    ) -> Result<(), ChangePasswordError> {
        let user = self
            .users
            .user_by_id(principal.user_id)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!("the signed-in account {} vanished", principal.user_id)
            })?;
        // Validated first: a typo in the new password costs no throttled attempt.
        let new_password = validate_new_password(&user, &request.new_password)
            .map_err(ChangePasswordError::Invalid)?;
        match self
            .checker
            .check(&user, &request.current_password, &request.client)
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
        let hash = self.passwords.hash(&new_password).await?;
        let now = self.clock.now();
        self.users.set_password_hash(user.id, &hash, now).await?;
        self.credentials
            .after_change(user.id, principal.session_id)
            .await?;
        let changed = AuditKind::PasswordChanged.about(user.id);
        self.audit.record(changed, &request.client).await;
        self.notifier.send(password_changed(&user)).await;
        Ok(())
    }
}
