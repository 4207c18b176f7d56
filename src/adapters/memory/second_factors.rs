//! Adapters layer (memory): TOTP enrolments and recovery codes, implementing
//! `core::ports::SecondFactorStore`. Each method is one critical section, hence atomic.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::core::model::{SealedTotpSecret, SecretDigest, TotpEnrolment, UserId};
use crate::core::ports::{SecondFactorStore, StoreError};

pub(super) struct StoredRecoveryCode {
    digest: SecretDigest,
    used_at: Option<DateTime<Utc>>,
}

#[async_trait]
impl SecondFactorStore for MemoryStore {
    async fn totp_enrolment(&self, user_id: UserId) -> Result<Option<TotpEnrolment>, StoreError> {
        Ok(self.state()?.totp_enrolments.get(&user_id).cloned())
    }

    async fn put_pending_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        if state
            .totp_enrolments
            .get(&user_id)
            .is_some_and(TotpEnrolment::is_enabled)
        {
            return Ok(false);
        }
        let pending = TotpEnrolment {
            user_id,
            secret: secret.clone(),
            created_at: now,
            enabled_at: None,
            last_used_step: None,
        };
        state.totp_enrolments.insert(user_id, pending);
        Ok(true)
    }

    async fn enable_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let pending = state
            .totp_enrolments
            .get_mut(&user_id)
            .filter(|enrolment| !enrolment.is_enabled() && enrolment.secret == *secret);
        Ok(pending.is_some_and(|enrolment| {
            enrolment.enabled_at = Some(now);
            enrolment.last_used_step = Some(step);
            true
        }))
    }

    async fn use_totp_step(&self, user_id: UserId, step: u64) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let usable = state.totp_enrolments.get_mut(&user_id).filter(|enrolment| {
            enrolment.is_enabled() && enrolment.last_used_step.is_none_or(|last| last < step)
        });
        Ok(usable.is_some_and(|enrolment| {
            enrolment.last_used_step = Some(step);
            true
        }))
    }

    async fn remove_totp(&self, user_id: UserId) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        state.recovery_codes.remove(&user_id);
        Ok(state.totp_enrolments.remove(&user_id).is_some())
    }

    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        digests: &[SecretDigest],
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let codes = digests
            .iter()
            .map(|digest| StoredRecoveryCode {
                digest: *digest,
                used_at: None,
            })
            .collect();
        self.state()?.recovery_codes.insert(user_id, codes);
        Ok(())
    }

    async fn consume_recovery_code(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let unused = state.recovery_codes.get_mut(&user_id).and_then(|codes| {
            codes
                .iter_mut()
                .find(|code| code.used_at.is_none() && code.digest == *digest)
        });
        Ok(unused.is_some_and(|code| {
            code.used_at = Some(now);
            true
        }))
    }

    async fn unused_recovery_codes(&self, user_id: UserId) -> Result<u64, StoreError> {
        let state = self.state()?;
        let unused = state.recovery_codes.get(&user_id).map_or(0, |codes| {
            codes.iter().filter(|code| code.used_at.is_none()).count()
        });
        Ok(unused as u64)
    }
}
