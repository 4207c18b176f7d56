//! Core layer: sessions — opening one, refreshing its tokens, checking and ending it.

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::{AuthService, Principal};
use crate::core::model::{
    AuditKind, ClientInfo, RefreshToken, Session, SessionId, User, UserId, secrets_match,
};
use crate::core::ports::AccessTokenError;

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

#[derive(Debug, Error)]
pub enum RefreshError {
    /// Malformed, forged, expired, of an ended session, or reused after rotation (which also
    /// ends the session) — deliberately not told apart.
    #[error("invalid refresh token")]
    InvalidToken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Error)]
pub enum AuthenticateError {
    /// Missing, malformed, expired or of an ended session.
    #[error("not authenticated")]
    Unauthenticated,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AuthService {
    pub(super) async fn open_session(
        &self,
        user: &User,
        client: ClientInfo,
    ) -> Result<SessionTokens, anyhow::Error> {
        let now = self.ports.clock.now();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            refresh_generation: 0,
            rotated_at: None,
            created_at: now,
            last_used_at: now,
            expires_at: now + self.policy.session_ttl,
            revoked_at: None,
            client,
        };
        self.ports.sessions.insert_session(&session).await?;
        self.tokens_for(user.id, session.id, 0)
    }

    fn tokens_for(
        &self,
        user_id: UserId,
        session_id: SessionId,
        generation: u32,
    ) -> Result<SessionTokens, anyhow::Error> {
        let access = self
            .ports
            .access_tokens
            .issue(user_id, session_id)
            .map_err(anyhow::Error::from)?;
        Ok(SessionTokens {
            access_token: access.token,
            access_expires_at: access.expires_at,
            refresh_token: self.refresh_token(session_id, generation).encode(),
            session_id,
            device_token: None,
        })
    }

    fn refresh_token(&self, session_id: SessionId, generation: u32) -> RefreshToken {
        let digest = self
            .ports
            .digester
            .digest(&RefreshToken::signed_text(session_id, generation));
        RefreshToken {
            session_id,
            generation,
            mac: hex(digest.as_bytes()),
        }
    }

    /// Rotates a refresh token. The current one yields the next generation. The one just
    /// rotated away, within the grace window, yields the tokens its concurrent winner got —
    /// the same session, the same refresh token. Any older one is a replay of a stolen token,
    /// and ends the session for everyone holding it.
    pub async fn refresh(
        &self,
        raw_token: &str,
        client: &ClientInfo,
    ) -> Result<SessionTokens, RefreshError> {
        let presented = RefreshToken::parse(raw_token).ok_or(RefreshError::InvalidToken)?;
        let genuine = self.refresh_token(presented.session_id, presented.generation);
        if !secrets_match(&genuine.mac, &presented.mac) {
            return Err(RefreshError::InvalidToken);
        }
        let now = self.ports.clock.now();
        let session = self
            .ports
            .sessions
            .session(presented.session_id)
            .await
            .map_err(anyhow::Error::from)?
            .filter(|s| s.is_live(now))
            .ok_or(RefreshError::InvalidToken)?;

        if presented.generation == session.refresh_generation {
            let advanced = self
                .ports
                .sessions
                .advance_refresh_generation(session.id, presented.generation, now)
                .await
                .map_err(anyhow::Error::from)?;
            if advanced {
                return Ok(self.tokens_for(
                    session.user_id,
                    session.id,
                    presented.generation + 1,
                )?);
            }
            // A concurrent refresh won the race: judge this one as the rotated-away token.
            return self.refresh_after_lost_race(presented, now, client).await;
        }
        self.judge_rotated_token(&session, presented.generation, now, client)
            .await
    }

    async fn refresh_after_lost_race(
        &self,
        presented: RefreshToken,
        now: DateTime<Utc>,
        client: &ClientInfo,
    ) -> Result<SessionTokens, RefreshError> {
        let session = self
            .ports
            .sessions
            .session(presented.session_id)
            .await
            .map_err(anyhow::Error::from)?
            .filter(|s| s.is_live(now))
            .ok_or(RefreshError::InvalidToken)?;
        self.judge_rotated_token(&session, presented.generation, now, client)
            .await
    }

    async fn judge_rotated_token(
        &self,
        session: &Session,
        generation: u32,
        now: DateTime<Utc>,
        client: &ClientInfo,
    ) -> Result<SessionTokens, RefreshError> {
        let within_grace = session
            .rotated_at
            .is_some_and(|rotated| now - rotated <= self.policy.refresh_grace);
        if generation + 1 == session.refresh_generation && within_grace {
            return Ok(self.tokens_for(session.user_id, session.id, session.refresh_generation)?);
        }
        let revoked = self
            .ports
            .sessions
            .revoke_session(session.id, now)
            .await
            .map_err(anyhow::Error::from)?;
        if revoked {
            let reused = AuditKind::RefreshTokenReused
                .about(session.user_id)
                .detail(format!("session={}", session.id));
            self.audit.record(reused, client).await;
        }
        Err(RefreshError::InvalidToken)
    }

    /// Checks an access token and that its session is still live: an ended session's tokens
    /// are refused at once, not at expiry.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, AuthenticateError> {
        let claims =
            self.ports
                .access_tokens
                .verify(access_token)
                .map_err(|error| match error {
                    AccessTokenError::Invalid => AuthenticateError::Unauthenticated,
                    AccessTokenError::Issue(error) => AuthenticateError::Unexpected(error),
                })?;
        let now = self.ports.clock.now();
        let session = self
            .ports
            .sessions
            .session(claims.session_id)
            .await
            .map_err(anyhow::Error::from)?;
        if !session.is_some_and(|s| s.is_live(now) && s.user_id == claims.user_id) {
            return Err(AuthenticateError::Unauthenticated);
        }
        let user = self
            .ports
            .users
            .user_by_id(claims.user_id)
            .await
            .map_err(anyhow::Error::from)?
            .filter(Self::may_act)
            .ok_or(AuthenticateError::Unauthenticated)?;
        Ok(Principal {
            user_id: user.id,
            session_id: claims.session_id,
            role: user.role,
        })
    }

    /// Ends the caller's session.
    pub async fn logout(
        &self,
        principal: Principal,
        client: &ClientInfo,
    ) -> Result<(), anyhow::Error> {
        let now = self.ports.clock.now();
        if self
            .ports
            .sessions
            .revoke_session(principal.session_id, now)
            .await?
        {
            self.record_session_ended(principal, principal.session_id, client)
                .await;
        }
        Ok(())
    }

    /// Ends every session of the caller, this one included.
    pub async fn logout_all(
        &self,
        principal: Principal,
        client: &ClientInfo,
    ) -> Result<(), anyhow::Error> {
        let now = self.ports.clock.now();
        let ended = self
            .ports
            .sessions
            .revoke_user_sessions(principal.user_id, now)
            .await?;
        let all_ended = AuditKind::AllSessionsEnded
            .about(principal.user_id)
            .detail(format!("sessions={ended}"));
        self.audit.record(all_ended, client).await;
        Ok(())
    }

    /// Records that the caller ended one of their sessions.
    pub(super) async fn record_session_ended(
        &self,
        principal: Principal,
        ended: SessionId,
        client: &ClientInfo,
    ) {
        let event = AuditKind::SessionEnded
            .about(principal.user_id)
            .detail(format!("session={ended}"));
        self.audit.record(event, client).await;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
