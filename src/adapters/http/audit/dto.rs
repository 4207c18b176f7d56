//! Adapters layer (HTTP): the JSON bodies of the security-event log.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::adapters::http::fields::Nullable;
use crate::core::model::{AuditEvent, AuditKind, Page};

/// What happened (the values of the `kind` filter).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "AuditEventKind", rename_all = "snake_case")]
pub enum AuditKindView {
    Registered,
    EmailVerified,
    LoginSucceeded,
    LoginFailed,
    LoginRefused,
    SecondFactorPassed,
    SecondFactorFailed,
    PasswordCheckFailed,
    Throttled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PasswordResetRequested,
    PasswordReset,
    PasswordChanged,
    SessionEnded,
    AllSessionsEnded,
    RefreshTokenReused,
    TotpEnabled,
    TotpDisabled,
    RoleChanged,
    StatusChanged,
    AccountDeleted,
}

impl From<AuditKind> for AuditKindView {
    fn from(kind: AuditKind) -> Self {
        match kind {
            AuditKind::Registered => AuditKindView::Registered,
            AuditKind::EmailVerified => AuditKindView::EmailVerified,
            AuditKind::LoginSucceeded => AuditKindView::LoginSucceeded,
            AuditKind::LoginFailed => AuditKindView::LoginFailed,
            AuditKind::LoginRefused => AuditKindView::LoginRefused,
            AuditKind::SecondFactorPassed => AuditKindView::SecondFactorPassed,
            AuditKind::SecondFactorFailed => AuditKindView::SecondFactorFailed,
            AuditKind::PasswordCheckFailed => AuditKindView::PasswordCheckFailed,
            AuditKind::Throttled => AuditKindView::Throttled,
            AuditKind::RecoveryCodeUsed => AuditKindView::RecoveryCodeUsed,
            AuditKind::RecoveryCodesRegenerated => AuditKindView::RecoveryCodesRegenerated,
            AuditKind::PasswordResetRequested => AuditKindView::PasswordResetRequested,
            AuditKind::PasswordReset => AuditKindView::PasswordReset,
            AuditKind::PasswordChanged => AuditKindView::PasswordChanged,
            AuditKind::SessionEnded => AuditKindView::SessionEnded,
            AuditKind::AllSessionsEnded => AuditKindView::AllSessionsEnded,
            AuditKind::RefreshTokenReused => AuditKindView::RefreshTokenReused,
            AuditKind::TotpEnabled => AuditKindView::TotpEnabled,
            AuditKind::TotpDisabled => AuditKindView::TotpDisabled,
            AuditKind::RoleChanged => AuditKindView::RoleChanged,
            AuditKind::StatusChanged => AuditKindView::StatusChanged,
            AuditKind::AccountDeleted => AuditKindView::AccountDeleted,
        }
    }
}

/// One security event.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "AuditEvent")]
pub struct AuditEventBody {
    pub id: Uuid,
    pub kind: AuditKindView,
    pub at: DateTime<Utc>,
    /// The account the event is about; `null` for a sign-in attempt with an unknown email.
    pub user_id: Nullable<Uuid>,
    /// Who acted when it was not the user themself (a manager changing a role).
    pub actor_id: Nullable<Uuid>,
    /// The client address of the request, as the server saw it.
    pub ip: Nullable<String>,
    /// The `User-Agent` of the request, if it sent one.
    pub user_agent: Nullable<String>,
    /// A short precision in a fixed vocabulary, such as `method=totp`, `role=courier` or
    /// `password` (which throttle refused).
    pub detail: Nullable<String>,
}

impl From<AuditEvent> for AuditEventBody {
    fn from(event: AuditEvent) -> Self {
        AuditEventBody {
            id: event.id.as_uuid(),
            kind: event.kind.into(),
            at: event.at,
            user_id: event.user_id.map(|id| id.as_uuid()).into(),
            actor_id: event.actor_id.map(|id| id.as_uuid()).into(),
            ip: event.client.ip.into(),
            user_agent: event.client.user_agent.into(),
            detail: event.detail.into(),
        }
    }
}

/// A page of security events, newest first.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "AuditEventPage")]
pub struct AuditEventPageBody {
    pub items: Vec<AuditEventBody>,
    /// Pass it as `cursor` to read the next page; `null` on the last one.
    pub next_cursor: Nullable<String>,
}

impl From<Page<AuditEvent>> for AuditEventPageBody {
    fn from(page: Page<AuditEvent>) -> Self {
        AuditEventPageBody {
            items: page.items.into_iter().map(AuditEventBody::from).collect(),
            next_cursor: page.next_cursor.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_published_under_its_core_name() {
        for kind in AuditKind::ALL {
            let published = AuditKindView::from(kind);
            let json = serde_json::to_value(poem_openapi::types::ToJSON::to_json(&published))
                .expect("an enum serialises");
            assert_eq!(json, serde_json::Value::from(kind.as_str()));
        }
    }
}
