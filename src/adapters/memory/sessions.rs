//! Adapters layer (memory): sessions, implementing `core::ports::SessionStore`.
//! Each method is one critical section, hence atomic.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, duplicate};
use crate::core::model::{PageRequest, Session, SessionId, User, UserId};
use crate::core::ports::{SessionStore, StoreError};

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state.sessions.contains_key(&session.id) {
            return Err(duplicate("a session with this id"));
        }
        state.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        Ok(self.state()?.sessions.get(&id).cloned())
    }

    async fn session_and_user(
        &self,
        id: SessionId,
    ) -> Result<Option<(Session, Option<User>)>, StoreError> {
        let state = self.state()?;
        Ok(state
            .sessions
            .get(&id)
            .map(|session| (session.clone(), state.users.get(&session.user_id).cloned())))
    }

    async fn advance_refresh_generation(
        &self,
        id: SessionId,
        expected_generation: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Wrapping back to generation 0 would make the session's first refresh token valid
        // again; a session that has rotated four billion times must sign in anew instead.
        let Some(next_generation) = expected_generation.checked_add(1) else {
            return Ok(false);
        };
        let mut state = self.state()?;
        let Some(session) = state.sessions.get_mut(&id).filter(|session| {
            session.revoked_at.is_none() && session.refresh_generation == expected_generation
        }) else {
            return Ok(false);
        };
        session.refresh_generation = next_generation;
        session.rotated_at = Some(now);
        session.last_used_at = now;
        Ok(true)
    }

    async fn revoke_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        match state.sessions.get_mut(&id) {
            Some(session) if session.revoked_at.is_none() => {
                session.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let mut revoked = 0;
        for session in state.sessions.values_mut() {
            if session.user_id == user_id && session.revoked_at.is_none() {
                session.revoked_at = Some(now);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn revoke_other_user_sessions(
        &self,
        user_id: UserId,
        keep: SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let mut revoked = 0;
        for session in state.sessions.values_mut() {
            if session.user_id == user_id && session.id != keep && session.revoked_at.is_none() {
                session.revoked_at = Some(now);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn live_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Vec<Session>, StoreError> {
        let state = self.state()?;
        let mut sessions: Vec<Session> = state
            .sessions
            .values()
            .filter(|session| session.user_id == user_id && session.is_live(now))
            .filter(|session| {
                page.before
                    .is_none_or(|before| session.id.as_uuid() < before)
            })
            .cloned()
            .collect();
        sessions.sort_unstable_by_key(|session| std::cmp::Reverse(session.id));
        sessions.truncate(page.fetch_limit());
        Ok(sessions)
    }
}
