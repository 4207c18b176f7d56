//! Core layer: resetting a forgotten password with a mailed single-use token. The reset ends
//! every session of the account but never stands in for its second factor: the next sign-in
//! still asks for it.

use std::sync::Arc;

use thiserror::Error;

use super::credential_change::CredentialChange;
use super::second_factor::disown_text;
use super::throttle::Throttle;
use crate::core::audit::AuditTrail;
use crate::core::model::{
    AuditKind, ClientInfo, Email, Mail, MailMessage, OneTimeToken, Password, TokenPurpose, User,
    ValidationErrors,
};
use crate::core::notifier::Notifier;
use crate::core::policy::AuthPolicy;
use crate::core::ports::{
    Clock, OneTimeTokenStore, PasswordHashing, SecondFactorStore, SecretDigester, SecretGenerator,
    UserStore,
};
use crate::core::unexpected::port_failures_are_unexpected;

/// Tokens longer than this were never issued by `url_token`: refused before any digesting.
const MAX_TOKEN_BYTES: usize = 256;

#[derive(Debug, Clone, Default)]
pub struct ResetPasswordRequest {
    pub token: String,
    pub new_password: String,
    pub client: ClientInfo,
}

#[derive(Debug, Error)]
pub enum ResetPasswordError {
    /// Unknown, already used or expired — deliberately not told apart.
    #[error("invalid or expired token")]
    InvalidToken,
    /// The new password is refused (field `new_password`); the token was not used.
    #[error("invalid new password")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(ResetPasswordError);

/// The ports password recovery uses.
#[derive(Clone)]
pub struct PasswordRecoveryPorts {
    pub users: Arc<dyn UserStore>,
    pub tokens: Arc<dyn OneTimeTokenStore>,
    pub second_factors: Arc<dyn SecondFactorStore>,
    pub passwords: Arc<dyn PasswordHashing>,
    pub secrets: Arc<dyn SecretGenerator>,
    pub digester: Arc<dyn SecretDigester>,
    pub clock: Arc<dyn Clock>,
}

/// A forgotten password: a mailed token, then a new password with it.
#[derive(Clone)]
pub struct PasswordRecovery {
    ports: PasswordRecoveryPorts,
    credentials: CredentialChange,
    throttle: Throttle,
    notifier: Notifier,
    audit: AuditTrail,
    policy: AuthPolicy,
}

impl PasswordRecovery {
    pub fn new(
        ports: PasswordRecoveryPorts,
        credentials: CredentialChange,
        throttle: Throttle,
        notifier: Notifier,
        audit: AuditTrail,
        policy: AuthPolicy,
    ) -> Self {
        Self {
            ports,
            credentials,
            throttle,
            notifier,
            audit,
            policy,
        }
    }

    /// Mails a password-reset token if the address has an account. Says nothing about whether
    /// it does, and does the same work either way (a fresh secret and its digest) so that the
    /// answer's timing tells little; only the store write and the mail itself differ, as for
    /// registration's warning to an address's owner.
    pub async fn forgot_password(
        &self,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), anyhow::Error> {
        let secret = self.ports.secrets.url_token();
        let digest = self.ports.digester.digest(&reset_text(&secret));
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let Some(user) = self.ports.users.user_by_email(&email).await? else {
            return Ok(());
        };
        let now = self.ports.clock.now();
        let token = OneTimeToken {
            digest,
            purpose: TokenPurpose::ResetPassword,
            user_id: user.id,
            created_at: now,
            expires_at: now + self.policy.password_reset_ttl,
        };
        self.ports.tokens.insert_token(&token).await?;
        self.audit
            .record(AuditKind::PasswordResetRequested.about(user.id), client)
            .await;
        self.notifier
            .send(Mail::to_user(
                &user,
                MailMessage::PasswordReset {
                    token: secret,
                    valid_minutes: self.policy.password_reset_ttl.num_minutes(),
                },
            ))
            .await;
        Ok(())
    }

    /// Sets a new password with a reset token: single use, valid one hour. The password is
    /// judged (against the token's user's name and email) BEFORE the token is used, so a weak
    /// one leaves the token usable; then the token is consumed atomically, so of concurrent
    /// resets with one token exactly one wins. Success ends every session of the account,
    /// forgets its remembered devices, spends every other reset link and closes every open
    /// login challenge, ends its password lockdown (its owner just proved control of the
    /// mailbox) and mails its owner a notice.
    pub async fn reset_password(
        &self,
        request: ResetPasswordRequest,
    ) -> Result<(), ResetPasswordError> {
        let user = self
            .set_password_with_token(&request, TokenPurpose::ResetPassword, reset_text)
            .await?;
        self.audit
            .record(AuditKind::PasswordReset.about(user.id), &request.client)
            .await;
        self.notifier.send(password_changed(&user)).await;
        Ok(())
    }

    /// "This wasn't me": with the token mailed when an authenticator app was turned on, sets
    /// a new password exactly as a reset does (same rules, same aftermath: every session
    /// ended, devices forgotten, reset links spent) and turns the app off with its recovery
    /// codes. The owner's mailbox plus a new password is what ends a second factor they did
    /// not set up; the next sign-in asks for the emailed code again.
    pub async fn disown_totp(
        &self,
        request: ResetPasswordRequest,
    ) -> Result<(), ResetPasswordError> {
        let user = self
            .set_password_with_token(&request, TokenPurpose::DisownTotp, disown_text)
            .await?;
        self.ports.second_factors.remove_totp(user.id).await?;
        let reset = AuditKind::PasswordReset
            .about(user.id)
            .detail("disown_totp");
        self.audit.record(reset, &request.client).await;
        let disowned = AuditKind::TotpDisabled.about(user.id).detail("disowned");
        self.audit.record(disowned, &request.client).await;
        self.notifier.send(password_changed(&user)).await;
        self.notifier
            .send(Mail::to_user(&user, MailMessage::TotpDisabled))
            .await;
        Ok(())
    }

    /// Sets a new password with a mailed token of `purpose`. The password is judged (against
    /// the token's user's name and email) BEFORE the token is used, so a weak one leaves the
    /// token usable; then the token is consumed atomically, so of concurrent calls with one
    /// token exactly one wins. Then every session ends, remembered devices are forgotten,
    /// every reset link is spent, every open sign-in closed, and the password lockdown ends
    /// (the owner just proved control of the mailbox).
    async fn set_password_with_token(
        &self,
        request: &ResetPasswordRequest,
        purpose: TokenPurpose,
        token_text: fn(&str) -> String,
    ) -> Result<User, ResetPasswordError> {
        let token = request.token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(ResetPasswordError::InvalidToken);
        }
        let digest = self.ports.digester.digest(&token_text(token));
        let now = self.ports.clock.now();
        let user_id = self
            .ports
            .tokens
            .peek_token(&digest, purpose, now)
            .await?
            .ok_or(ResetPasswordError::InvalidToken)?;
        let user = self
            .ports
            .users
            .user_by_id(user_id)
            .await?
            .ok_or(ResetPasswordError::InvalidToken)?;
        let new_password = validate_new_password(&user, &request.new_password)
            .map_err(ResetPasswordError::Invalid)?;
        // Hashed before the token is spent: a hashing fault leaves the token usable.
        let hash = self.ports.passwords.hash(&new_password).await?;
        let now = self.ports.clock.now();
        let consumed = self
            .ports
            .tokens
            .consume_token(&digest, purpose, now)
            .await?;
        if consumed != Some(user.id) {
            // Used by a concurrent call (or expired) between the peek and now.
            return Err(ResetPasswordError::InvalidToken);
        }
        let replaced = self
            .ports
            .users
            .set_password_hash(user.id, &hash, now)
            .await?;
        if !replaced {
            // The account was deleted meanwhile: nothing left to reset.
            return Err(ResetPasswordError::InvalidToken);
        }
        self.credentials.after_reset(user.id).await?;
        self.throttle
            .clear_password_lockdown(user.email.as_str(), &request.client)
            .await?;
        Ok(user)
    }
}

/// The notice telling an owner their password changed, so a change they did not make is
/// noticed.
pub(super) fn password_changed(user: &User) -> Mail {
    Mail::to_user(user, MailMessage::PasswordChanged)
}

/// A new password judged against its owner's name and email (field `new_password`).
pub(super) fn validate_new_password(user: &User, raw: &str) -> Result<Password, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let context = [user.name.to_string(), user.email.to_string()];
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    match errors.check("new_password", Password::parse(raw, &context)) {
        Some(password) => Ok(password),
        None => Err(errors),
    }
}

/// Domain-separates reset tokens from every other digested secret.
fn reset_text(secret: &str) -> String {
    format!("reset-password|{secret}")
}
