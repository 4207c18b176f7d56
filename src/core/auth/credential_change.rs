//! Core layer: what a changed password voids. Whatever was handed out on the strength of the
//! old password — sessions, remembered devices, mailed reset links, half-finished sign-ins —
//! must not outlive it. Shared by password reset and password change.

use std::sync::Arc;

use super::devices::RememberedDevices;
use crate::core::model::{SessionId, TokenPurpose, UserId};
use crate::core::ports::{ChallengeStore, Clock, OneTimeTokenStore, SessionStore};

/// Ends what a credential change voids.
#[derive(Clone)]
pub struct CredentialChange {
    tokens: Arc<dyn OneTimeTokenStore>,
    challenges: Arc<dyn ChallengeStore>,
    sessions: Arc<dyn SessionStore>,
    devices: RememberedDevices,
    clock: Arc<dyn Clock>,
}

impl CredentialChange {
    pub fn new(
        tokens: Arc<dyn OneTimeTokenStore>,
        challenges: Arc<dyn ChallengeStore>,
        sessions: Arc<dyn SessionStore>,
        devices: RememberedDevices,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tokens,
            challenges,
            sessions,
            devices,
            clock,
        }
    }

    /// After a password reset: every session ends, since none can be told from the one of
    /// whoever knew the old password.
    pub async fn after_reset(&self, user_id: UserId) -> Result<(), anyhow::Error> {
        let now = self.clock.now();
        self.sessions.revoke_user_sessions(user_id, now).await?;
        self.void_outstanding(user_id).await
    }

    /// After a password change by a signed-in user: every session but `keep` (the one making
    /// the change) ends.
    pub async fn after_change(
        &self,
        user_id: UserId,
        keep: SessionId,
    ) -> Result<(), anyhow::Error> {
        let now = self.clock.now();
        self.sessions
            .revoke_other_user_sessions(user_id, keep, now)
            .await?;
        self.void_outstanding(user_id).await
    }

    /// Spends every outstanding reset link, closes every open login challenge and forgets
    /// every remembered device: a device remembered, a link mailed or a sign-in begun under
    /// the old password must not skip or outlast the new one.
    async fn void_outstanding(&self, user_id: UserId) -> Result<(), anyhow::Error> {
        let now = self.clock.now();
        self.tokens
            .spend_user_tokens(user_id, TokenPurpose::ResetPassword, now)
            .await?;
        self.challenges.close_user_challenges(user_id, now).await?;
        self.devices.forget_all_devices(user_id).await?;
        Ok(())
    }
}
