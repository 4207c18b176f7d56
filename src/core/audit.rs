//! Core layer: the security-event log — the use cases record what happened to accounts
//! through an `AuditTrail`, and managers read it back. Talks to the world only through the
//! `AuditLog` and `Clock` ports.

use std::sync::Arc;

use thiserror::Error;

use super::model::{
    AuditEvent, AuditEventId, AuditFilter, AuditKind, ClientInfo, Manager, Page, PageRequest,
    UserId, ValidationErrors,
};
use super::ports::{AuditLog, Clock};
use super::unexpected::port_failures_are_unexpected;

/// What a use case saw happen, before it is stamped with an id, a time and a client.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    kind: AuditKind,
    user_id: Option<UserId>,
    actor_id: Option<UserId>,
    detail: Option<String>,
}

impl AuditKind {
    /// This kind of event, about `user`.
    pub fn about(self, user: UserId) -> Occurrence {
        self.concerning(Some(user))
    }

    /// This kind of event, about `user` if it is a known account (`None`: a login with an
    /// email no account has).
    pub fn concerning(self, user: Option<UserId>) -> Occurrence {
        Occurrence {
            kind: self,
            user_id: user,
            actor_id: None,
            detail: None,
        }
    }
}

impl Occurrence {
    /// Done by `actor` (a manager) rather than by the user the event is about.
    pub fn by(self, actor: UserId) -> Self {
        Self {
            actor_id: Some(actor),
            ..self
        }
    }

    /// With a precision from a fixed vocabulary (`method=totp`): never a secret or free text.
    pub fn detail(self, detail: impl Into<String>) -> Self {
        Self {
            detail: Some(detail.into()),
            ..self
        }
    }
}

/// A manager's listing as asked for (query parameters as sent).
#[derive(Debug, Clone, Default)]
pub struct ListAuditEventsRequest {
    pub user_id: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Error)]
pub enum ListAuditEventsError {
    #[error("invalid request: {0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(ListAuditEventsError);

/// Records security events and lists them for managers.
#[derive(Clone)]
pub struct AuditTrail {
    log: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
}

impl AuditTrail {
    pub fn new(log: Arc<dyn AuditLog>, clock: Arc<dyn Clock>) -> Self {
        Self { log, clock }
    }

    /// Appends the event, stamped now. Recorded after what it describes has happened, so a
    /// failure to record cannot undo it and must not turn its success into an error for the
    /// caller: it is logged as an error, for operators to act on, and the request goes on.
    pub async fn record(&self, occurrence: Occurrence, client: &ClientInfo) {
        let event = AuditEvent {
            id: AuditEventId::new(),
            kind: occurrence.kind,
            at: self.clock.now(),
            user_id: occurrence.user_id,
            actor_id: occurrence.actor_id,
            client: client.clone(),
            detail: occurrence.detail,
        };
        if let Err(error) = self.log.record(&event).await {
            let error = anyhow::Error::new(error);
            tracing::error!(
                kind = event.kind.as_str(),
                user_id = ?event.user_id,
                error = format!("{error:#}"),
                "security event could not be recorded"
            );
        }
    }

    /// Security events, newest first, optionally of one user and of one kind (managers only).
    pub async fn list(
        &self,
        _manager: Manager,
        request: ListAuditEventsRequest,
    ) -> Result<Page<AuditEvent>, ListAuditEventsError> {
        let (filter, page) = validate_listing(&request).map_err(ListAuditEventsError::Invalid)?;
        let fetched = self.log.audit_events(&filter, page).await?;
        Ok(Page::from_fetched(fetched, page, |event| {
            event.id.as_uuid()
        }))
    }
}

fn validate_listing(
    request: &ListAuditEventsRequest,
) -> Result<(AuditFilter, PageRequest), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let user_id = request.user_id.as_deref().and_then(|raw| {
        errors.check(
            "user_id",
            raw.trim()
                .parse::<UserId>()
                .map_err(|_| "must be a user id (a UUID)"),
        )
    });
    let kind = request
        .kind
        .as_deref()
        .and_then(|raw| errors.check("kind", raw.trim().parse::<AuditKind>()));
    let page = errors.absorb(PageRequest::parse(request.limit, request.cursor.as_deref()));
    match page {
        Some(page) if errors.is_empty() => Ok((AuditFilter { user_id, kind }, page)),
        _ => Err(errors),
    }
}
