//! Core layer: turning on and off the authenticator app (TOTP) and managing recovery codes.
//! Judging these factors at login lives in `login.rs`; this module gives the shared checks.

use thiserror::Error;

use super::{AuthService, PasswordCheck};
use crate::core::model::{
    AuditKind, ClientInfo, SealedTotpSecret, SecretDigest, TotpProvisioning, User, UserId,
};

#[derive(Debug, Error)]
pub enum SetUpTotpError {
    /// TOTP is already on; turn it off first to enrol another app.
    #[error("TOTP already enabled")]
    AlreadyEnabled,
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
    /// Too many wrong second-factor codes for this account lately.
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
    #[error("invalid password")]
    InvalidPassword,
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
    #[error("invalid password")]
    InvalidPassword,
    /// Too many wrong passwords for this account lately; nothing was judged.
    #[error("password checks throttled")]
    PasswordThrottled { retry_after_seconds: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AuthService {
    /// Draws a new secret and stores it as pending, replacing a pending one. The secret is
    /// shown in this answer only; afterwards it exists only sealed in the store.
    pub async fn set_up_totp(&self, user_id: UserId) -> Result<TotpProvisioning, SetUpTotpError> {
        let user = self
            .existing_user(user_id)
            .await?
            .ok_or(SetUpTotpError::NotFound)?;
        let secret = self.ports.totp.new_secret().map_err(anyhow::Error::from)?;
        let stored = self
            .ports
            .second_factors
            .put_pending_totp(user_id, &secret, self.ports.clock.now())
            .await
            .map_err(anyhow::Error::from)?;
        if !stored {
            return Err(SetUpTotpError::AlreadyEnabled);
        }
        Ok(self
            .ports
            .totp
            .provisioning(&secret, user.email.as_str())
            .map_err(anyhow::Error::from)?)
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
            .await
            .map_err(anyhow::Error::from)?
            .filter(|enrolment| !enrolment.is_enabled())
            .ok_or(ConfirmTotpError::NoPendingSetup)?;
        // Codes judged here count against the same per-account limit as at login, or a
        // stolen session could guess codes without bound.
        if let Err(throttled) = self.reserve_second_factor_attempt(user_id).await? {
            let refused = AuditKind::Throttled.about(user_id).detail("second_factor");
            self.audit.record(refused, client).await;
            return Err(ConfirmTotpError::Throttled {
                retry_after_seconds: throttled.retry_after_seconds,
            });
        }
        let step = self
            .ports
            .totp
            .verify(&enrolment.secret, code.trim(), now)
            .map_err(anyhow::Error::from)?
            .ok_or(ConfirmTotpError::InvalidCode)?;
        // Enabling only the secret just checked: a setup run meanwhile replaced it, and a
        // code for the old secret must not turn on the new one.
        let enabled = self
            .ports
            .second_factors
            .enable_totp(user_id, &enrolment.secret, step, now)
            .await
            .map_err(anyhow::Error::from)?;
        if !enabled {
            return Err(ConfirmTotpError::NoPendingSetup);
        }
        self.clear_throttle(&self.second_factor_throttle_key(user_id))
            .await?;
        let codes = self.issue_recovery_codes(user_id).await?;
        self.audit
            .record(AuditKind::TotpEnabled.about(user_id), client)
            .await;
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
            .ok_or(DisableTotpError::InvalidPassword)?;
        match self.check_password(&user, password, client).await? {
            PasswordCheck::Right => {}
            PasswordCheck::Wrong => return Err(DisableTotpError::InvalidPassword),
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
            .await
            .map_err(anyhow::Error::from)?
            .filter(|enrolment| enrolment.is_enabled())
            .ok_or(DisableTotpError::NotEnabled)?;
        if let Err(throttled) = self.reserve_second_factor_attempt(user_id).await? {
            let refused = AuditKind::Throttled.about(user_id).detail("second_factor");
            self.audit.record(refused, client).await;
            return Err(DisableTotpError::Throttled {
                retry_after_seconds: throttled.retry_after_seconds,
            });
        }
        if !self
            .accept_totp_code(user_id, &enrolment.secret, code)
            .await?
        {
            let failed = AuditKind::SecondFactorFailed
                .about(user_id)
                .detail("method=totp");
            self.audit.record(failed, client).await;
            return Err(DisableTotpError::InvalidCode);
        }
        self.clear_throttle(&self.second_factor_throttle_key(user_id))
            .await?;
        self.ports
            .second_factors
            .remove_totp(user_id)
            .await
            .map_err(anyhow::Error::from)?;
        self.audit
            .record(AuditKind::TotpDisabled.about(user_id), client)
            .await;
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
            .ok_or(RegenerateRecoveryCodesError::InvalidPassword)?;
        match self.check_password(&user, password, client).await? {
            PasswordCheck::Right => {}
            PasswordCheck::Wrong => return Err(RegenerateRecoveryCodesError::InvalidPassword),
            PasswordCheck::Throttled(throttled) => {
                return Err(RegenerateRecoveryCodesError::PasswordThrottled {
                    retry_after_seconds: throttled.retry_after_seconds,
                });
            }
        }
        if !self.totp_enabled(user_id).await? {
            return Err(RegenerateRecoveryCodesError::TotpNotEnabled);
        }
        let codes = self.issue_recovery_codes(user_id).await?;
        self.audit
            .record(AuditKind::RecoveryCodesRegenerated.about(user_id), client)
            .await;
        Ok(codes)
    }

    /// Whether the user has turned TOTP on (shown on their profile; the secret never is).
    pub async fn totp_enabled(&self, user_id: UserId) -> Result<bool, anyhow::Error> {
        Ok(self
            .ports
            .second_factors
            .totp_enrolment(user_id)
            .await?
            .is_some_and(|enrolment| enrolment.is_enabled()))
    }

    /// Whether `code` is right for `secret` now and its time step was never used by this
    /// user; if so, the step is used up, atomically in the store.
    pub(super) async fn accept_totp_code(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        code: &str,
    ) -> Result<bool, anyhow::Error> {
        let now = self.ports.clock.now();
        let Some(step) = self.ports.totp.verify(secret, code.trim(), now)? else {
            return Ok(false);
        };
        Ok(self
            .ports
            .second_factors
            .use_totp_step(user_id, step)
            .await?)
    }

    /// Uses the recovery code if it is one of the user's unused ones, atomically.
    pub(super) async fn accept_recovery_code(
        &self,
        user_id: UserId,
        code: &str,
    ) -> Result<bool, anyhow::Error> {
        let Some(normalised) = normalise_recovery_code(code) else {
            return Ok(false);
        };
        let digest = self.recovery_code_digest(user_id, &normalised);
        let now = self.ports.clock.now();
        Ok(self
            .ports
            .second_factors
            .consume_recovery_code(user_id, &digest, now)
            .await?)
    }

    async fn issue_recovery_codes(&self, user_id: UserId) -> Result<Vec<String>, anyhow::Error> {
        let codes: Vec<String> = (0..self.policy.recovery_code_count)
            .map(|_| self.ports.secrets.recovery_code())
            .collect();
        let digests: Vec<SecretDigest> = codes
            .iter()
            .filter_map(|code| normalise_recovery_code(code))
            .map(|normalised| self.recovery_code_digest(user_id, &normalised))
            .collect();
        anyhow::ensure!(
            digests.len() == codes.len(),
            "the secret generator made a recovery code that does not read back"
        );
        self.ports
            .second_factors
            .replace_recovery_codes(user_id, &digests, self.ports.clock.now())
            .await?;
        Ok(codes)
    }

    /// Binds a recovery code to its user, so one digest never matches another user's code.
    fn recovery_code_digest(&self, user_id: UserId, normalised: &str) -> SecretDigest {
        self.ports
            .digester
            .digest(&format!("recovery-code|{user_id}|{normalised}"))
    }

    async fn existing_user(&self, user_id: UserId) -> Result<Option<User>, anyhow::Error> {
        Ok(self.ports.users.user_by_id(user_id).await?)
    }
}

/// A recovery code as typed by a person: case, spaces and dashes do not matter. `None` for
/// text that cannot be a recovery code (empty, or absurdly long).
fn normalise_recovery_code(code: &str) -> Option<String> {
    let normalised: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (!normalised.is_empty() && normalised.len() <= 64).then_some(normalised)
}
