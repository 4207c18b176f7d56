//! Core layer: the signed-in user's view of their own sessions — listing the live ones and
//! ending one of them.

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::{AuthService, Principal};
use crate::core::model::{ClientInfo, Page, PageRequest, Session, SessionId};

/// One live session as its owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub client: ClientInfo,
    /// Whether this is the session making the request.
    pub current: bool,
}

#[derive(Debug, Error)]
pub enum EndSessionError {
    /// Unknown, already ended, or another user's — not told apart.
    #[error("session not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AuthService {
    /// The caller's live sessions, newest first.
    pub async fn list_sessions(
        &self,
        principal: Principal,
        page: PageRequest,
    ) -> Result<Page<SessionView>, anyhow::Error> {
        let now = self.ports.clock.now();
        let sessions = self
            .ports
            .sessions
            .live_user_sessions(principal.user_id, now, page)
            .await?;
        let page = Page::from_fetched(sessions, page, |session| session.id.as_uuid());
        Ok(page.map(|session| view(session, principal.session_id)))
    }

    /// Ends one of the caller's live sessions (the current one included, like a logout).
    /// Another user's session is answered like an unknown one, so ids reveal nothing.
    pub async fn end_session(
        &self,
        principal: Principal,
        session_id: SessionId,
        client: &ClientInfo,
    ) -> Result<(), EndSessionError> {
        let now = self.ports.clock.now();
        let session = self
            .ports
            .sessions
            .session(session_id)
            .await
            .map_err(anyhow::Error::from)?;
        if !session.is_some_and(|s| s.user_id == principal.user_id && s.is_live(now)) {
            return Err(EndSessionError::NotFound);
        }
        let revoked = self
            .ports
            .sessions
            .revoke_session(session_id, now)
            .await
            .map_err(anyhow::Error::from)?;
        // Lost to a concurrent revocation: the session is ended either way, but this call
        // did not end it, which is what "not found" means for a second DELETE.
        if !revoked {
            return Err(EndSessionError::NotFound);
        }
        self.record_session_ended(principal, session_id, client)
            .await;
        Ok(())
    }
}

fn view(session: Session, current: SessionId) -> SessionView {
    SessionView {
        id: session.id,
        created_at: session.created_at,
        last_used_at: session.last_used_at,
        current: session.id == current,
        client: session.client,
    }
}
