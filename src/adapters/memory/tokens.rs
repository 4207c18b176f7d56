//! Adapters layer (memory): single-use mailed tokens, implementing
//! `core::ports::OneTimeTokenStore`. Each method is one critical section, hence atomic.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, duplicate};
use crate::core::model::{OneTimeToken, SecretDigest, TokenPurpose, UserId};
use crate::core::ports::{OneTimeTokenStore, StoreError};

/// A token and when it was used, if it was.
pub(super) struct StoredToken {
    pub(super) token: OneTimeToken,
    consumed_at: Option<DateTime<Utc>>,
}

#[async_trait]
impl OneTimeTokenStore for MemoryStore {
    async fn insert_token(&self, token: &OneTimeToken) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let digest = *token.digest.as_bytes();
        if state.tokens.contains_key(&digest) {
            return Err(duplicate("a token with this digest"));
        }
        let stored = StoredToken {
            token: token.clone(),
            consumed_at: None,
        };
        state.tokens.insert(digest, stored);
        Ok(())
    }

    async fn consume_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        let mut state = self.state()?;
        let usable = state.tokens.get_mut(digest.as_bytes()).filter(|stored| {
            stored.consumed_at.is_none()
                && stored.token.purpose == purpose
                && now < stored.token.expires_at
        });
        Ok(usable.map(|stored| {
            stored.consumed_at = Some(now);
            stored.token.user_id
        }))
    }

    async fn peek_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        let state = self.state()?;
        let usable = state.tokens.get(digest.as_bytes()).filter(|stored| {
            stored.consumed_at.is_none()
                && stored.token.purpose == purpose
                && now < stored.token.expires_at
        });
        Ok(usable.map(|stored| stored.token.user_id))
    }

    async fn spend_user_tokens(
        &self,
        user_id: UserId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let mut spent = 0;
        for stored in state.tokens.values_mut() {
            if stored.token.user_id == user_id
                && stored.token.purpose == purpose
                && stored.consumed_at.is_none()
                && now < stored.token.expires_at
            {
                stored.consumed_at = Some(now);
                spent += 1;
            }
        }
        Ok(spent)
    }
}
