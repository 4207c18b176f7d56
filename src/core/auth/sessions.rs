//! Core layer: sessions — refreshing their tokens, checking an access token, signing out, and
//! the signed-in user's view of their own live sessions. Opening one is sign-in's job
//! (`login.rs`), through the shared `SessionIssuer`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::devices::RememberedDevices;
use super::session_tokens::{SessionIssuer, SessionTokens};
use crate::core::audit::AuditTrail;
use crate::core::model::{
    AccountStatus, AuditKind, Caller, ClientInfo, Page, PageRequest, Principal, RefreshToken,
    Session, SessionId, User, secrets_match,
};
use crate::core::policy::AuthPolicy;
use crate::core::ports::{AccessTokenError, AccessTokens, Clock, SessionStore};
use crate::core::unexpected::port_failures_are_unexpected;

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

port_failures_are_unexpected!(RefreshError, AuthenticateError, EndSessionError);

/// The life of a session once it is open.
#[derive(Clone)]
pub struct Sessions {
    sessions: Arc<dyn SessionStore>,
    access_tokens: Arc<dyn AccessTokens>,
    clock: Arc<dyn Clock>,
    issuer: SessionIssuer,
    devices: RememberedDevices,
    audit: AuditTrail,
    policy: AuthPolicy,
}

impl Sessions {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sessions: Arc<dyn SessionStore>,
        access_tokens: Arc<dyn AccessTokens>,
        clock: Arc<dyn Clock>,
        issuer: SessionIssuer,
        devices: RememberedDevices,
        audit: AuditTrail,
        policy: AuthPolicy,
    ) -> Self {
        Self {
            sessions,
            access_tokens,
            clock,
            issuer,
            devices,
            audit,
            policy,
        }
    }

    /// Rotates a refresh token. A session whose refresh token went unused for longer than
    /// the inactivity limit is ended instead. The current one yields the next generation. The one just
    /// rotated away, within the grace window, yields the tokens its concurrent winner got —
    /// the same session, the same refresh token. Any older one is a replay of a stolen token,
    /// and ends the session for everyone holding it.
    pub async fn refresh(
        &self,
        raw_token: &str,
        client: &ClientInfo,
    ) -> Result<SessionTokens, RefreshError> {
        let presented = RefreshToken::parse(raw_token).ok_or(RefreshError::InvalidToken)?;
        let genuine = self
            .issuer
            .refresh_token(presented.session_id, presented.generation);
        if !secrets_match(&genuine.mac, &presented.mac) {
            return Err(RefreshError::InvalidToken);
        }
        let now = self.clock.now();
        let session = self
            .sessions
            .session(presented.session_id)
            .await?
            .filter(|s| s.is_live(now))
            .ok_or(RefreshError::InvalidToken)?;
        if now - session.last_used_at > self.policy.session_idle_limit {
            return Err(self.end_idle_session(&session, now, client).await?);
        }

        if presented.generation == session.refresh_generation {
            let advanced = self
                .sessions
                .advance_refresh_generation(session.id, presented.generation, now)
                .await?;
            if advanced {
                return Ok(self.issuer.tokens_for(
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

    /// Ends a session left unused past the inactivity limit; its owner signs in again.
    async fn end_idle_session(
        &self,
        session: &Session,
        now: DateTime<Utc>,
        client: &ClientInfo,
    ) -> Result<RefreshError, anyhow::Error> {
        if self.sessions.revoke_session(session.id, now).await? {
            let idle_days = (now - session.last_used_at).num_days();
            let ended = AuditKind::SessionEnded
                .about(session.user_id)
                .detail(format!("session={} idle_days={idle_days}", session.id));
            self.audit.record(ended, client).await;
        }
        Ok(RefreshError::InvalidToken)
    }

    async fn refresh_after_lost_race(
        &self,
        presented: RefreshToken,
        now: DateTime<Utc>,
        client: &ClientInfo,
    ) -> Result<SessionTokens, RefreshError> {
        let session = self
            .sessions
            .session(presented.session_id)
            .await?
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
            return Ok(self.issuer.tokens_for(
                session.user_id,
                session.id,
                session.refresh_generation,
            )?);
        }
        let revoked = self.sessions.revoke_session(session.id, now).await?;
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
        Ok(self.caller(access_token).await?.principal)
    }

    /// As `authenticate`, with the caller's account as read to check it.
    pub async fn caller(&self, access_token: &str) -> Result<Caller, AuthenticateError> {
        let claims = self
            .access_tokens
            .verify(access_token)
            .map_err(|error| match error {
                AccessTokenError::Invalid => AuthenticateError::Unauthenticated,
                AccessTokenError::Issue(error) => AuthenticateError::Unexpected(error),
            })?;
        let now = self.clock.now();
        let Some((session, account)) = self.sessions.session_and_user(claims.session_id).await?
        else {
            return Err(AuthenticateError::Unauthenticated);
        };
        if !(session.is_live(now) && session.user_id == claims.user_id) {
            return Err(AuthenticateError::Unauthenticated);
        }
        let account = account
            .filter(may_act)
            .ok_or(AuthenticateError::Unauthenticated)?;
        Ok(Caller {
            principal: Principal {
                user_id: account.id,
                session_id: claims.session_id,
                role: account.role,
            },
            account,
        })
    }

    /// Ends the caller's session.
    pub async fn logout(
        &self,
        principal: Principal,
        client: &ClientInfo,
    ) -> Result<(), anyhow::Error> {
        let now = self.clock.now();
        if self
            .sessions
            .revoke_session(principal.session_id, now)
            .await?
        {
            self.record_session_ended(principal, principal.session_id, client)
                .await;
        }
        Ok(())
    }

    /// Ends every session of the caller, this one included, and forgets their remembered
    /// devices: "log out everywhere" is what someone does who fears a device is not theirs
    /// any more, so none of them may skip the second factor afterwards.
    pub async fn logout_all(
        &self,
        principal: Principal,
        client: &ClientInfo,
    ) -> Result<(), anyhow::Error> {
        let now = self.clock.now();
        let ended = self
            .sessions
            .revoke_user_sessions(principal.user_id, now)
            .await?;
        let forgotten = self.devices.forget_all_devices(principal.user_id).await?;
        let all_ended = AuditKind::AllSessionsEnded
            .about(principal.user_id)
            .detail(format!("sessions={ended} devices={forgotten}"));
        self.audit.record(all_ended, client).await;
        Ok(())
    }

    /// The caller's live sessions, newest first.
    pub async fn list_sessions(
        &self,
        principal: Principal,
        page: PageRequest,
    ) -> Result<Page<SessionView>, anyhow::Error> {
        let now = self.clock.now();
        let sessions = self
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
        let now = self.clock.now();
        let session = self.sessions.session(session_id).await?;
        if !session.is_some_and(|s| s.user_id == principal.user_id && s.is_live(now)) {
            return Err(EndSessionError::NotFound);
        }
        let revoked = self.sessions.revoke_session(session_id, now).await?;
        // Lost to a concurrent revocation: the session is ended either way, but this call
        // did not end it, which is what "not found" means for a second DELETE.
        if !revoked {
            return Err(EndSessionError::NotFound);
        }
        self.record_session_ended(principal, session_id, client)
            .await;
        Ok(())
    }

    /// Records that the caller ended one of their sessions.
    async fn record_session_ended(
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

/// Whether `user` may act with a session right now. Suspension revokes sessions at once;
/// this also covers a session opened just before its account was suspended.
fn may_act(user: &User) -> bool {
    user.status == AccountStatus::Active
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
