//! Adapters layer (memory): `ExpiredRecordStore` — drops expired entries from every map.

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
}
