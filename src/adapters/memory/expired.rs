//! Adapters layer (memory): `ExpiredRecordStore` — drops expired entries from every map, and
//! never-verified accounts and old audit events, under the one lock (so atomically).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::core::ports::{ExpiredRecordStore, StoreError};

#[async_trait]
impl ExpiredRecordStore for MemoryStore {
    async fn delete_expired(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let before = state.tokens.len()
            + state.challenges.len()
            + state.sessions.len()
            + state.devices.len()
            + state.throttles.len();
        state
            .tokens
            .retain(|_, stored| stored.token.expires_at >= cutoff);
        state
            .challenges
            .retain(|_, challenge| challenge.expires_at >= cutoff);
        state
            .sessions
            .retain(|_, session| session.expires_at >= cutoff);
        state
            .devices
            .retain(|_, device| device.expires_at >= cutoff);
        state
            .throttles
            .retain(|_, record| record.forgotten_at >= cutoff);
        let after = state.tokens.len()
            + state.challenges.len()
            + state.sessions.len()
            + state.devices.len()
            + state.throttles.len();
        Ok((before - after) as u64)
    }

    async fn delete_unverified_users(
        &self,
        registered_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let doomed: Vec<_> = state
            .users
            .values()
            .filter(|user| !user.email_verified() && user.created_at < registered_before)
            .map(|user| (user.id, user.email.clone()))
            .collect();
        // What SQLite's `ON DELETE CASCADE` does; orders and audit events outlive the account.
        for (id, email) in &doomed {
            state.users.remove(id);
            state.user_ids_by_email.remove(email);
        }
        let gone = |id: &_| doomed.iter().any(|(doomed, _)| doomed == id);
        state
            .tokens
            .retain(|_, stored| !gone(&stored.token.user_id));
        state
            .challenges
            .retain(|_, challenge| !gone(&challenge.user_id));
        state.sessions.retain(|_, session| !gone(&session.user_id));
        state.devices.retain(|_, device| !gone(&device.user_id));
        for (id, _) in &doomed {
            state.totp_enrolments.remove(id);
            state.recovery_codes.remove(id);
        }
        Ok(doomed.len() as u64)
    }

    async fn delete_audit_events_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let before = state.audit_events.len();
        state.audit_events.retain(|_, event| event.at >= cutoff);
        Ok((before - state.audit_events.len()) as u64)
    }
}
