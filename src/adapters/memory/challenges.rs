//! Adapters layer (memory): login challenges, implementing `core::ports::ChallengeStore`.
//! Each method is one critical section, hence atomic.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::{MemoryStore, State, duplicate};
use crate::core::model::{ChallengeId, LoginChallenge, SecretDigest, UserId};
use crate::core::ports::{AttemptOutcome, ChallengeStore, ReplaceCodeOutcome, StoreError};

impl State {
    /// The challenge if it is open at `now`: not completed and not expired.
    fn open_challenge(
        &mut self,
        id: ChallengeId,
        now: DateTime<Utc>,
    ) -> Option<&mut LoginChallenge> {
        self.challenges
            .get_mut(&id)
            .filter(|challenge| challenge.completed_at.is_none() && now < challenge.expires_at)
    }
}

#[async_trait]
impl ChallengeStore for MemoryStore {
    async fn insert_challenge(&self, challenge: &LoginChallenge) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state.challenges.contains_key(&challenge.id) {
            return Err(duplicate("a challenge with this id"));
        }
        state.challenges.insert(challenge.id, challenge.clone());
        Ok(())
    }

    async fn challenge(&self, id: ChallengeId) -> Result<Option<LoginChallenge>, StoreError> {
        Ok(self.state()?.challenges.get(&id).cloned())
    }

    async fn count_attempt(
        &self,
        id: ChallengeId,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<AttemptOutcome, StoreError> {
        let mut state = self.state()?;
        let Some(challenge) = state.open_challenge(id, now) else {
            return Ok(AttemptOutcome::Closed);
        };
        if challenge.attempts >= max_attempts {
            return Ok(AttemptOutcome::Exhausted);
        }
        challenge.attempts += 1;
        Ok(AttemptOutcome::Counted(challenge.clone()))
    }

    async fn complete_challenge(
        &self,
        id: ChallengeId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        match state.challenges.get_mut(&id) {
            Some(challenge) if challenge.completed_at.is_none() => {
                challenge.completed_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn replace_code(
        &self,
        id: ChallengeId,
        code_digest: &SecretDigest,
        max_attempts: u32,
        cooldown: Duration,
        now: DateTime<Utc>,
    ) -> Result<ReplaceCodeOutcome, StoreError> {
        let mut state = self.state()?;
        let Some(challenge) = state
            .open_challenge(id, now)
            .filter(|challenge| challenge.attempts < max_attempts)
        else {
            return Ok(ReplaceCodeOutcome::Closed);
        };
        if now < challenge.code_sent_at + cooldown {
            return Ok(ReplaceCodeOutcome::TooSoon {
                sent_at: challenge.code_sent_at,
            });
        }
        challenge.code_digest = *code_digest;
        challenge.code_sent_at = now;
        Ok(ReplaceCodeOutcome::Replaced)
    }

    async fn close_user_challenges(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let mut closed = 0;
        for challenge in state.challenges.values_mut() {
            if challenge.user_id == user_id
                && challenge.completed_at.is_none()
                && now < challenge.expires_at
            {
                challenge.completed_at = Some(now);
                closed += 1;
            }
        }
        Ok(closed)
    }
}
