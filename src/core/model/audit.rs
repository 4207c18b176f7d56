//! Core layer: security events — who did what to which account, when and from where — kept so
//! that a manager can reconstruct an incident. Pure data; the use cases decide what to record.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{AuditEventId, ClientInfo, UserId};

/// What happened. The names are the stable strings of the API (`kind=` filter, `kind` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    Registered,
    EmailVerified,
    /// A login with a correct password that got past every check (a challenge was opened or a
    /// remembered device signed the user in).
    LoginSucceeded,
    /// A wrong password, or an unknown email (then no user is named).
    LoginFailed,
    /// A correct password refused because of the account's state (unverified, pending,
    /// suspended): the detail says which.
    LoginRefused,
    SecondFactorPassed,
    SecondFactorFailed,
    /// A wrong password given by a signed-in user to confirm a sensitive change (password
    /// change, turning the authenticator app off, new recovery codes, deleting the account).
    PasswordCheckFailed,
    /// An attempt refused by a per-account throttle; the detail names the throttle.
    Throttled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PasswordResetRequested,
    PasswordReset,
    PasswordChanged,
    /// One session ended by its user (logout, or from the session list).
    SessionEnded,
    /// Every session of the user ended at once (logout-all).
    AllSessionsEnded,
    /// A refresh token presented again after it had been rotated: the session was revoked.
    RefreshTokenReused,
    TotpEnabled,
    TotpDisabled,
    RoleChanged,
    StatusChanged,
    AccountDeleted,
}

impl AuditKind {
    pub const ALL: [AuditKind; 22] = [
        AuditKind::Registered,
        AuditKind::EmailVerified,
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::LoginRefused,
        AuditKind::SecondFactorPassed,
        AuditKind::SecondFactorFailed,
        AuditKind::PasswordCheckFailed,
        AuditKind::Throttled,
        AuditKind::RecoveryCodeUsed,
        AuditKind::RecoveryCodesRegenerated,
        AuditKind::PasswordResetRequested,
        AuditKind::PasswordReset,
        AuditKind::PasswordChanged,
        AuditKind::SessionEnded,
        AuditKind::AllSessionsEnded,
        AuditKind::RefreshTokenReused,
        AuditKind::TotpEnabled,
        AuditKind::TotpDisabled,
        AuditKind::RoleChanged,
        AuditKind::StatusChanged,
        AuditKind::AccountDeleted,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            AuditKind::Registered => "registered",
            AuditKind::EmailVerified => "email_verified",
            AuditKind::LoginSucceeded => "login_succeeded",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::LoginRefused => "login_refused",
            AuditKind::SecondFactorPassed => "second_factor_passed",
            AuditKind::SecondFactorFailed => "second_factor_failed",
            AuditKind::PasswordCheckFailed => "password_check_failed",
            AuditKind::Throttled => "throttled",
            AuditKind::RecoveryCodeUsed => "recovery_code_used",
            AuditKind::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            AuditKind::PasswordResetRequested => "password_reset_requested",
            AuditKind::PasswordReset => "password_reset",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::SessionEnded => "session_ended",
            AuditKind::AllSessionsEnded => "all_sessions_ended",
            AuditKind::RefreshTokenReused => "refresh_token_reused",
            AuditKind::TotpEnabled => "totp_enabled",
            AuditKind::TotpDisabled => "totp_disabled",
            AuditKind::RoleChanged => "role_changed",
            AuditKind::StatusChanged => "status_changed",
            AuditKind::AccountDeleted => "account_deleted",
        }
    }
}

impl FromStr for AuditKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| format!("unknown audit event kind `{s}`"))
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One security event as stored. Events are only ever appended: deleting an account keeps
/// the events that name it, which is what an investigation after the fact needs.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub kind: AuditKind,
    pub at: DateTime<Utc>,
    /// The account the event is about; `None` for a login attempt on an unknown email.
    pub user_id: Option<UserId>,
    /// Who acted, when it is not the user themself (a manager changing a role).
    pub actor_id: Option<UserId>,
    /// Where the request came from.
    pub client: ClientInfo,
    /// A short, fixed-vocabulary precision (`method=totp`, `role=client->courier`): never a
    /// secret, a password or text the caller typed.
    pub detail: Option<String>,
}

/// Which events a listing shows; every present criterion must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub user_id: Option<UserId>,
    pub kind: Option<AuditKind>,
}

impl AuditFilter {
    /// Whether `event` passes the filter (for stores that filter in memory).
    pub fn admits(&self, event: &AuditEvent) -> bool {
        self.user_id.is_none_or(|user| event.user_id == Some(user))
            && self.kind.is_none_or(|kind| event.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in AuditKind::ALL {
            assert_eq!(kind.as_str().parse::<AuditKind>(), Ok(kind));
        }
        assert!("logged_in".parse::<AuditKind>().is_err());
    }

    #[test]
    fn kind_names_are_distinct() {
        let mut names: Vec<_> = AuditKind::ALL.iter().map(AuditKind::as_str).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditKind::ALL.len());
    }
}
