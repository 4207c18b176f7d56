//! Core layer: turning on and off the authenticator app (TOTP) and managing recovery codes.
//! Judging these factors at login lives in `login.rs`; both use `SecondFactorCodes`.

use std::sync::Arc;

use thiserror::Error;

use super::password_check::{PasswordCheck, PasswordChecker};
use super::second_factor_codes::SecondFactorCodes;
use super::throttle::Throttle;
use crate::core::audit::AuditTrail;
use crate::core::model::{
    AuditKind, ClientInfo, Mail, MailMessage, OneTimeToken, TokenPurpose, TotpProvisioning, User,
    UserId,
};
use crate::core::notifier::Notifier;
use crate::core::policy::AuthPolicy;
use crate::core::ports::{
    Clock, OneTimeTokenStore, SecondFactorStore, SecretDigester, SecretGenerator, TotpEngine,
    UserStore,
};
use crate::core::unexpected::port_failures_are_unexpected;

#[derive(Debug, Error)]
pub enum SetUpTotpError {
    /// TOTP is already on; turn it off first to enrol another app.
    #[error("TOTP already enabled")]
    AlreadyEnabled,
    /// Wrong password.
    #[error("wrong password")]
    WrongPassword,
    /// Too many wrong passwords for this account lately; nothing was judged.
    #[error("password checks throttled")]
    PasswordThrottled { retry_after_seconds: u64 },
    /// The account no longer exists (deleted while the token was still live).
    #[error("account not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Error)]
pub enum ConfirmTotpError {
    /// No setup is waiting for confirmation (never set up, or already on).
    #[error("no pending TOTP setup")]
    NoPendingSetup,
    /// The code is not right for the pending secret at this time.
    #[error("invalid code")]
    InvalidCode,
    /// Too many wrong confirmation codes for this account lately (counted apart from the
    /// sign-in's second factor, which they never lock).
    #[error("second factor throttled")]
    Throttled { retry_after_seconds: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Error)]
pub enum DisableTotpError {
    /// TOTP is not on.
    #[error("TOTP not enabled")]
    NotEnabled,
    /// Wrong password.
    #[error("wrong password")]
    WrongPassword,
    /// Too many wrong passwords for this account lately; nothing was judged.
    #[error("password checks throttled")]
    PasswordThrottled { retry_after_seconds: u64 },
    /// The code is wrong, or its time step was already used.
    #[error("invalid code")]
    InvalidCode,
    /// Too many wrong second-factor codes for this account lately.
    #[error("second factor throttled")]
    Throttled { retry_after_seconds: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Error)]
pub enum RegenerateRecoveryCodesError {
    /// Recovery codes back up TOTP; without it there is nothing to recover.
    #[error("TOTP not enabled")]
    TotpNotEnabled,
    #[error("wrong password")]
    WrongPassword,
    /// Too many wrong passwords for this account lately; nothing was judged.
    #[error("password checks throttled")]
    PasswordThrottled { retry_after_seconds: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(
    SetUpTotpError,
    ConfirmTotpError,
    DisableTotpError,
    RegenerateRecoveryCodesError,
);

/// The ports the second-factor settings use.
#[derive(Clone)]
pub struct SecondFactorSettingsPorts {
    pub users: Arc<dyn UserStore>,
    pub second_factors: Arc<dyn SecondFactorStore>,
    pub tokens: Arc<dyn OneTimeTokenStore>,
    pub totp: Arc<dyn TotpEngine>,
    pub secrets: Arc<dyn SecretGenerator>,
    pub digester: Arc<dyn SecretDigester>,
    pub clock: Arc<dyn Clock>,
}

/// A signed-in user's second-factor settings: the authenticator app and recovery codes.
#[derive(Clone)]
pub struct SecondFactorSettings {
    ports: SecondFactorSettingsPorts,
    codes: SecondFactorCodes,
    throttle: Throttle,
    checker: PasswordChecker,
    notifier: Notifier,
    audit: AuditTrail,
    policy: AuthPolicy,
}

impl SecondFactorSettings {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ports: SecondFactorSettingsPorts,
        codes: SecondFactorCodes,
        throttle: Throttle,
        checker: PasswordChecker,
        notifier: Notifier,
        audit: AuditTrail,
        policy: AuthPolicy,
    ) -> Self {
        Self {
            ports,
            codes,
            throttle,
            checker,
            notifier,
            audit,
            policy,
        }
    }

    /// Draws a new secret and stores it as pending, replacing a pending one. The secret is
    /// shown in this answer only; afterwards it exists only sealed in the store. Needs the
    /// password: a stolen access token alone must not enrol an app its owner cannot remove.
    pub async fn set_up_totp(
        &self,
        user_id: UserId,
        password: &str,
        client: &ClientInfo,
    ) -> Result<TotpProvisioning, SetUpTotpError> {
        let user = self
            .existing_user(user_id)
            .await?
            .ok_or(SetUpTotpError::NotFound)?;
        match self.checker.check(&user, password, client).await? {
            PasswordCheck::Right => {}
            PasswordCheck::Wrong => return Err(SetUpTotpError::WrongPassword),
            PasswordCheck::Throttled(throttled) => {
                return Err(SetUpTotpError::PasswordThrottled {
                    retry_after_seconds: throttled.retry_after_seconds,
                });
            }
        }
        let secret = self.ports.totp.new_secret()?;
        let stored = self
            .ports
            .second_factors
            .put_pending_totp(user_id, &secret, self.ports.clock.now())
            .await?;
        if !stored {
            return Err(SetUpTotpError::AlreadyEnabled);
        }
        Ok(self.ports.totp.provisioning(&secret, user.email.as_str())?)
    }

    /// Turns TOTP on with a first code from the app, proving it holds the secret; returns the
    /// recovery codes, shown this once. The step of that code counts as used.
    pub async fn confirm_totp(
        &self,
        user_id: UserId,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, ConfirmTotpError> {
        let now = self.ports.clock.now();
        let enrolment = self
            .ports
            .second_factors
            .totp_enrolment(user_id)
            .await?
            .filter(|enrolment| !enrolment.is_enabled())
            .ok_or(ConfirmTotpError::NoPendingSetup)?;
        // Codes judged here are limited per account, or a stolen session could guess codes
        // without bound — under their own key, so that wrong confirmation codes never lock
        // the owner's sign-in.
        if let Err(throttled) = self.throttle.reserve_totp_confirmation(user_id).await? {
            let refused = AuditKind::Throttled
                .about(user_id)
                .detail("totp_confirmation");
            self.audit.record(refused, client).await;
            return Err(ConfirmTotpError::Throttled {
                retry_after_seconds: throttled.retry_after_seconds,
            });
        }
        let step = self
            .ports
            .totp
            .verify(&enrolment.secret, code.trim(), now)?
            .ok_or(ConfirmTotpError::InvalidCode)?;
        // Enabling only the secret just checked: a setup run meanwhile replaced it, and a
        // code for the old secret must not turn on the new one.
        let enabled = self
            .ports
            .second_factors
            .enable_totp(user_id, &enrolment.secret, step, now)
            .await?;
        if !enabled {
            return Err(ConfirmTotpError::NoPendingSetup);
        }
        self.throttle.clear_totp_confirmation(user_id).await?;
        let codes = self.codes.issue_recovery_codes(user_id).await?;
        self.audit
            .record(AuditKind::TotpEnabled.about(user_id), client)
            .await;
        self.mail_totp_enabled(user_id).await?;
        Ok(codes)
    }

    /// Turns TOTP off; needs the password and a current code, so neither a stolen session nor
    /// a stolen password alone can remove the second factor. Recovery codes go with it.
    pub async fn disable_totp(
        &self,
        user_id: UserId,
        password: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), DisableTotpError> {
        let user = self
            .existing_user(user_id)
            .await?
            .ok_or(DisableTotpError::WrongPassword)?;
        match self.checker.check(&user, password, client).await? {
            PasswordCheck::Right => {}
            PasswordCheck::Wrong => return Err(DisableTotpError::WrongPassword),
            PasswordCheck::Throttled(throttled) => {
                return Err(DisableTotpError::PasswordThrottled {
                    retry_after_seconds: throttled.retry_after_seconds,
                });
            }
        }
        let enrolment = self
            .ports
            .second_factors
            .totp_enrolment(user_id)
            .await?
            .filter(|enrolment| enrolment.is_enabled())
            .ok_or(DisableTotpError::NotEnabled)?;
        if let Err(throttled) = self.throttle.reserve_second_factor_attempt(user_id).await? {
            let refused = AuditKind::Throttled.about(user_id).detail("second_factor");
            self.audit.record(refused, client).await;
            return Err(DisableTotpError::Throttled {
                retry_after_seconds: throttled.retry_after_seconds,
            });
        }
        if !self
            .codes
            .accept_totp_code(user_id, &enrolment.secret, code)
            .await?
        {
            let failed = AuditKind::SecondFactorFailed
                .about(user_id)
                .detail("method=totp");
            self.audit.record(failed, client).await;
            return Err(DisableTotpError::InvalidCode);
        }
        self.throttle.clear_second_factor(user_id).await?;
        self.ports.second_factors.remove_totp(user_id).await?;
        // The "this wasn't me" link of the app just removed has nothing left to undo.
        self.ports
            .tokens
            .spend_user_tokens(user_id, TokenPurpose::DisownTotp, self.ports.clock.now())
            .await?;
        self.audit
            .record(AuditKind::TotpDisabled.about(user_id), client)
            .await;
        self.notify(&user, MailMessage::TotpDisabled).await;
        Ok(())
    }

    /// New recovery codes for the password's owner; the old ones stop working.
    pub async fn regenerate_recovery_codes(
        &self,
        user_id: UserId,
        password: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, RegenerateRecoveryCodesError> {
        let user = self
            .existing_user(user_id)
            .await?
            .ok_or(RegenerateRecoveryCodesError::WrongPassword)?;
        match self.checker.check(&user, password, client).await? {
            PasswordCheck::Right => {}
            PasswordCheck::Wrong => return Err(RegenerateRecoveryCodesError::WrongPassword),
            PasswordCheck::Throttled(throttled) => {
                return Err(RegenerateRecoveryCodesError::PasswordThrottled {
                    retry_after_seconds: throttled.retry_after_seconds,
                });
            }
        }
        if !self.codes.totp_enabled(user_id).await? {
            return Err(RegenerateRecoveryCodesError::TotpNotEnabled);
        }
        let codes = self.codes.issue_recovery_codes(user_id).await?;
        self.audit
            .record(AuditKind::RecoveryCodesRegenerated.about(user_id), client)
            .await;
        self.notify(&user, MailMessage::RecoveryCodesRegenerated)
            .await;
        Ok(codes)
    }

    /// Whether the user has turned TOTP on (shown on their profile; the secret never is).
    pub async fn totp_enabled(&self, user_id: UserId) -> Result<bool, anyhow::Error> {
        self.codes.totp_enabled(user_id).await
    }

    /// Tells the owner an authenticator app was turned on, with a single-use "this wasn't
    /// me" token (stored as its digest, valid `totp_disown_ttl`) that, with a new password,
    /// turns it off again (`PasswordRecovery::disown_totp`). Tokens of an earlier app are
    /// spent first: only the app now on can be disowned.
    async fn mail_totp_enabled(&self, user_id: UserId) -> Result<(), anyhow::Error> {
        let Some(user) = self.existing_user(user_id).await? else {
            return Ok(());
        };
        let now = self.ports.clock.now();
        self.ports
            .tokens
            .spend_user_tokens(user_id, TokenPurpose::DisownTotp, now)
            .await?;
        let secret = self.ports.secrets.url_token();
        let token = OneTimeToken {
            digest: self.ports.digester.digest(&disown_text(&secret)),
            purpose: TokenPurpose::DisownTotp,
            user_id,
            created_at: now,
            expires_at: now + self.policy.totp_disown_ttl,
        };
        self.ports.tokens.insert_token(&token).await?;
        let message = MailMessage::TotpEnabled {
            disown_token: secret,
            valid_hours: self.policy.totp_disown_ttl.num_hours(),
        };
        self.notify(&user, message).await;
        Ok(())
    }

    async fn notify(&self, user: &User, message: MailMessage) {
        self.notifier.send(Mail::to_user(user, message)).await;
    }

    async fn existing_user(&self, user_id: UserId) -> Result<Option<User>, anyhow::Error> {
        Ok(self.ports.users.user_by_id(user_id).await?)
    }
}

/// Domain-separates "this wasn't me" tokens from every other digested secret.
pub(super) fn disown_text(secret: &str) -> String {
    format!("disown-totp|{secret}")
}
