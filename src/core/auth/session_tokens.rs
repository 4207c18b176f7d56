//! Core layer: opening a session and minting its tokens — the signed access token and the
//! refresh token bound to the session's generation. Shared by sign-in (which opens sessions)
//! and sessions (which rotate their refresh tokens).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::core::model::{ClientInfo, RefreshToken, Session, SessionId, User, UserId};
use crate::core::policy::AuthPolicy;
use crate::core::ports::{AccessTokens, Clock, SecretDigester, SessionStore};

/// The tokens of a session, as handed to the client.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub session_id: SessionId,
    /// Only when the client asked to remember this device at the second factor.
    pub device_token: Option<String>,
}

/// Opens sessions and mints their tokens.
#[derive(Clone)]
pub struct SessionIssuer {
    sessions: Arc<dyn SessionStore>,
    access_tokens: Arc<dyn AccessTokens>,
    digester: Arc<dyn SecretDigester>,
    clock: Arc<dyn Clock>,
    session_ttl: Duration,
}

impl SessionIssuer {
    pub fn new(
        sessions: Arc<dyn SessionStore>,
        access_tokens: Arc<dyn AccessTokens>,
        digester: Arc<dyn SecretDigester>,
        clock: Arc<dyn Clock>,
        policy: &AuthPolicy,
    ) -> Self {
        Self {
            sessions,
            access_tokens,
            digester,
            clock,
            session_ttl: policy.session_ttl,
        }
    }

    /// Opens a session for `user`, who has just passed every step of signing in.
    pub(super) async fn open(
        &self,
        user: &User,
        client: ClientInfo,
    ) -> Result<SessionTokens, anyhow::Error> {
        let now = self.clock.now();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            refresh_generation: 0,
            rotated_at: None,
            created_at: now,
            last_used_at: now,
            expires_at: now + self.session_ttl,
            revoked_at: None,
            client,
        };
        self.sessions.insert_session(&session).await?;
        self.tokens_for(user.id, session.id, 0)
    }

    /// A fresh access token and the refresh token of `generation`.
    pub(super) fn tokens_for(
        &self,
        user_id: UserId,
        session_id: SessionId,
        generation: u32,
    ) -> Result<SessionTokens, anyhow::Error> {
        let access = self.access_tokens.issue(user_id, session_id)?;
        Ok(SessionTokens {
            access_token: access.token,
            access_expires_at: access.expires_at,
            refresh_token: self.refresh_token(session_id, generation).encode(),
            session_id,
            device_token: None,
        })
    }

    /// The genuine refresh token of this session and generation: its mac is a keyed digest,
    /// so only this service can make one, and a presented token is checked by remaking it.
    pub(super) fn refresh_token(&self, session_id: SessionId, generation: u32) -> RefreshToken {
        let digest = self
            .digester
            .digest(&RefreshToken::signed_text(session_id, generation));
        RefreshToken {
            session_id,
            generation,
            mac: hex(digest.as_bytes()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
