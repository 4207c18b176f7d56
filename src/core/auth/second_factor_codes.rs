//! Core layer: judging and issuing the codes of the app-based second factor — TOTP codes and
//! recovery codes — through the `SecondFactorStore` and `TotpEngine` ports. Shared by sign-in
//! (which judges them) and the second-factor settings (which turn them on and off).

use std::sync::Arc;

use crate::core::model::{SealedTotpSecret, SecretDigest, TotpEnrolment, UserId};
use crate::core::policy::AuthPolicy;
use crate::core::ports::{Clock, SecondFactorStore, SecretDigester, SecretGenerator, TotpEngine};

/// TOTP and recovery codes of the accounts.
#[derive(Clone)]
pub struct SecondFactorCodes {
    second_factors: Arc<dyn SecondFactorStore>,
    totp: Arc<dyn TotpEngine>,
    secrets: Arc<dyn SecretGenerator>,
    digester: Arc<dyn SecretDigester>,
    clock: Arc<dyn Clock>,
    recovery_code_count: usize,
}

impl SecondFactorCodes {
    pub fn new(
        second_factors: Arc<dyn SecondFactorStore>,
        totp: Arc<dyn TotpEngine>,
        secrets: Arc<dyn SecretGenerator>,
        digester: Arc<dyn SecretDigester>,
        clock: Arc<dyn Clock>,
        policy: &AuthPolicy,
    ) -> Self {
        Self {
            second_factors,
            totp,
            secrets,
            digester,
            clock,
            recovery_code_count: policy.recovery_code_count,
        }
    }

    /// The user's enrolment if TOTP is on (a pending setup is not).
    pub(super) async fn enabled_totp(
        &self,
        user_id: UserId,
    ) -> Result<Option<TotpEnrolment>, anyhow::Error> {
        Ok(self
            .second_factors
            .totp_enrolment(user_id)
            .await?
            .filter(|enrolment| enrolment.is_enabled()))
    }

    /// Whether the user has turned TOTP on.
    pub(super) async fn totp_enabled(&self, user_id: UserId) -> Result<bool, anyhow::Error> {
        Ok(self.enabled_totp(user_id).await?.is_some())
    }

    /// How many of the user's recovery codes are still unused.
    pub(super) async fn unused_recovery_codes(
        &self,
        user_id: UserId,
    ) -> Result<u64, anyhow::Error> {
        Ok(self.second_factors.unused_recovery_codes(user_id).await?)
    }

    /// Whether `code` is right for `secret` now and its time step was never used by this
    /// user; if so, the step is used up, atomically in the store.
    pub(super) async fn accept_totp_code(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        code: &str,
    ) -> Result<bool, anyhow::Error> {
        let now = self.clock.now();
        let Some(step) = self.totp.verify(secret, code.trim(), now)? else {
            return Ok(false);
        };
        Ok(self.second_factors.use_totp_step(user_id, step).await?)
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
        let now = self.clock.now();
        Ok(self
            .second_factors
            .consume_recovery_code(user_id, &digest, now)
            .await?)
    }

    /// Draws new recovery codes and stores their digests in place of the old ones; returns
    /// the codes, which exist only in this answer from now on.
    pub(super) async fn issue_recovery_codes(
        &self,
        user_id: UserId,
    ) -> Result<Vec<String>, anyhow::Error> {
        let codes: Vec<String> = (0..self.recovery_code_count)
            .map(|_| self.secrets.recovery_code())
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
        self.second_factors
            .replace_recovery_codes(user_id, &digests, self.clock.now())
            .await?;
        Ok(codes)
    }

    /// Binds a recovery code to its user, so one digest never matches another user's code.
    fn recovery_code_digest(&self, user_id: UserId, normalised: &str) -> SecretDigest {
        self.digester
            .digest(&format!("recovery-code|{user_id}|{normalised}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_read_back_whatever_their_case_spaces_and_dashes() {
        assert_eq!(
            normalise_recovery_code(" K7PQ2-xm4ht "),
            Some("k7pq2xm4ht".to_owned())
        );
        assert_eq!(
            normalise_recovery_code("k7pq2 XM4HT"),
            normalise_recovery_code("K7PQ2-XM4HT")
        );
    }

    #[test]
    fn blank_or_absurdly_long_text_is_no_recovery_code() {
        assert_eq!(normalise_recovery_code(" - "), None);
        assert_eq!(normalise_recovery_code(&"a".repeat(65)), None);
        assert!(normalise_recovery_code(&"a".repeat(64)).is_some());
    }
}
