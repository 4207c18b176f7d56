//! Test support: a second-factor store that hands the thread back to the scheduler around
//! every call. The in-memory store never awaits anything, so two "parallel" use cases over it
//! can each run from start to end without the other getting a step in; with yields, their store
//! calls interleave, which is what a race test must exercise.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::task::yield_now;

use allomedia::core::model::{SealedTotpSecret, SecretDigest, TotpEnrolment, UserId};
use allomedia::core::ports::{SecondFactorStore, StoreError};

/// Wraps a store; each call yields before and after delegating.
pub struct YieldingSecondFactors(pub Arc<dyn SecondFactorStore>);

impl YieldingSecondFactors {
    async fn around<T>(&self, call: impl Future<Output = T>) -> T {
        yield_now().await;
        let outcome = call.await;
        yield_now().await;
        outcome
    }
}

#[async_trait]
impl SecondFactorStore for YieldingSecondFactors {
    async fn totp_enrolment(&self, user_id: UserId) -> Result<Option<TotpEnrolment>, StoreError> {
        self.around(self.0.totp_enrolment(user_id)).await
    }

    async fn put_pending_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.around(self.0.put_pending_totp(user_id, secret, now))
            .await
    }

    async fn enable_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.around(self.0.enable_totp(user_id, secret, step, now))
            .await
    }

    async fn use_totp_step(&self, user_id: UserId, step: u64) -> Result<bool, StoreError> {
        self.around(self.0.use_totp_step(user_id, step)).await
    }

    async fn remove_totp(&self, user_id: UserId) -> Result<bool, StoreError> {
        self.around(self.0.remove_totp(user_id)).await
    }

    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        digests: &[SecretDigest],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.around(self.0.replace_recovery_codes(user_id, digests, now))
            .await
    }

    async fn consume_recovery_code(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.around(self.0.consume_recovery_code(user_id, digest, now))
            .await
    }

    async fn unused_recovery_codes(&self, user_id: UserId) -> Result<u64, StoreError> {
        self.around(self.0.unused_recovery_codes(user_id)).await
    }
}
