//! Core layer: managers administer people — list and read accounts, change their role and
//! status, delete them — and a user deletes their own account. Talks to the world only through
//! `crate::core::ports`.
//!
//! Two rules live here. Every account that stops being active loses its sessions at once.
//! There is always an active manager: the store refuses, atomically, any change or deletion
//! that would leave none (`UserStore::change_access`, `UserStore::delete_user`).

use std::sync::Arc;

use thiserror::Error;

use super::audit::AuditTrail;
use super::auth::{PasswordCheck, PasswordChecker};
use super::model::{
    AccountStatus, AuditKind, ClientInfo, Manager, Page, PageRequest, Principal, Role, User,
    UserId, ValidationErrors,
};
use super::ports::{
    AccessChange, AccessChangeOutcome, Clock, DeleteUserOutcome, SessionStore, UserFilter,
    UserStore,
};
use super::unexpected::port_failures_are_unexpected;

/// The longest search text accepted; longer ones are a client's mistake, not a search.
const MAX_SEARCH_CHARS: usize = 100;

/// A listing as asked for, before validation (query parameters as sent).
#[derive(Debug, Clone, Default)]
pub struct ListUsersRequest {
    pub role: Option<String>,
    pub status: Option<String>,
    /// Part of a name or email, any case.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A change of role and status as sent; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ChangeAccessRequest {
    pub role: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Error)]
pub enum AdministrationError {
    #[error("user not found")]
    NotFound,
    #[error("invalid request: {0}")]
    Invalid(ValidationErrors),
    /// The change or deletion would leave no active manager.
    #[error("the last active manager must stay")]
    LastActiveManager,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Error)]
pub enum DeleteOwnAccountError {
    /// The password does not match: a stolen access token alone cannot delete an account.
    #[error("wrong password")]
    WrongPassword,
    /// Too many wrong passwords for this account lately; nothing was judged.
    #[error("password checks throttled")]
    Throttled { retry_after_seconds: u64 },
    /// The account no longer exists.
    #[error("account not found")]
    NotFound,
    /// The caller is the only active manager.
    #[error("the last active manager must stay")]
    LastActiveManager,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(AdministrationError, DeleteOwnAccountError);

/// Managers' administration of accounts, and a user's deletion of their own.
#[derive(Clone)]
pub struct UserAdministration {
    users: Arc<dyn UserStore>,
    sessions: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    /// For the password a user types again to delete their account, under the login throttle.
    checker: PasswordChecker,
    audit: AuditTrail,
}

impl UserAdministration {
    pub fn new(
        users: Arc<dyn UserStore>,
        sessions: Arc<dyn SessionStore>,
        clock: Arc<dyn Clock>,
        checker: PasswordChecker,
        audit: AuditTrail,
    ) -> Self {
        Self {
            users,
            sessions,
            clock,
            checker,
            audit,
        }
    }

    /// Users matching the filters, newest first, one page at a time.
    pub async fn list(
        &self,
        _manager: Manager,
        request: ListUsersRequest,
    ) -> Result<Page<User>, AdministrationError> {
        let (filter, page) = validate_listing(&request).map_err(AdministrationError::Invalid)?;
        let fetched = self.users.list_users(&filter, page).await?;
        Ok(Page::from_fetched(fetched, page, |user| user.id.as_uuid()))
    }

    pub async fn user(&self, _manager: Manager, id: UserId) -> Result<User, AdministrationError> {
        self.users
            .user_by_id(id)
            .await?
            .ok_or(AdministrationError::NotFound)
    }

    /// Changes a user's role or status. Approving a courier is `status: active`. An account
    /// leaving `active` loses every session: the status is written first — `authenticate`
    /// refuses any account that is not active, so from that moment none of its tokens acts —
    /// then the sessions are revoked, so that reactivating it later does not revive them.
    pub async fn change_access(
        &self,
        manager: Manager,
        id: UserId,
        request: ChangeAccessRequest,
        client: &ClientInfo,
    ) -> Result<User, AdministrationError> {
        let change = validate_change(&request).map_err(AdministrationError::Invalid)?;
        let now = self.clock.now();
        let user = match self.users.change_access(id, change, now).await? {
            AccessChangeOutcome::Changed(user) => user,
            AccessChangeOutcome::NotFound => return Err(AdministrationError::NotFound),
            AccessChangeOutcome::LastActiveManager => {
                return Err(AdministrationError::LastActiveManager);
            }
        };
        if user.status != AccountStatus::Active {
            self.sessions.revoke_user_sessions(user.id, now).await?;
        }
        if let Some(role) = change.role {
            let changed = AuditKind::RoleChanged
                .about(user.id)
                .by(manager.user_id())
                .detail(format!("role={role}"));
            self.audit.record(changed, client).await;
        }
        if let Some(status) = change.status {
            let changed = AuditKind::StatusChanged
                .about(user.id)
                .by(manager.user_id())
                .detail(format!("status={}", status.as_str()));
            self.audit.record(changed, client).await;
        }
        Ok(user)
    }

    /// Deletes a user with their sessions, tokens and challenges.
    pub async fn delete(
        &self,
        manager: Manager,
        id: UserId,
        client: &ClientInfo,
    ) -> Result<(), AdministrationError> {
        match self.users.delete_user(id).await? {
            DeleteUserOutcome::Deleted => {
                let deleted = AuditKind::AccountDeleted.about(id).by(manager.user_id());
                self.audit.record(deleted, client).await;
                Ok(())
            }
            DeleteUserOutcome::NotFound => Err(AdministrationError::NotFound),
            DeleteUserOutcome::LastActiveManager => Err(AdministrationError::LastActiveManager),
        }
    }

    /// Deletes the caller's own account once they have typed their password again (judged
    /// under the login throttle, so a stolen access token is no password oracle).
    pub async fn delete_own_account(
        &self,
        actor: Principal,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(), DeleteOwnAccountError> {
        let user = self
            .users
            .user_by_id(actor.user_id)
            .await?
            .ok_or(DeleteOwnAccountError::NotFound)?;
        match self.checker.check(&user, password, client).await? {
            PasswordCheck::Right => {}
            PasswordCheck::Wrong => return Err(DeleteOwnAccountError::WrongPassword),
            PasswordCheck::Throttled(throttled) => {
                return Err(DeleteOwnAccountError::Throttled {
                    retry_after_seconds: throttled.retry_after_seconds,
                });
            }
        }
        match self.users.delete_user(user.id).await? {
            DeleteUserOutcome::Deleted => {
                let deleted = AuditKind::AccountDeleted.about(user.id);
                self.audit.record(deleted, client).await;
                Ok(())
            }
            DeleteUserOutcome::NotFound => Err(DeleteOwnAccountError::NotFound),
            DeleteUserOutcome::LastActiveManager => Err(DeleteOwnAccountError::LastActiveManager),
        }
    }
}

fn validate_listing(
    request: &ListUsersRequest,
) -> Result<(UserFilter, PageRequest), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let role = request
        .role
        .as_deref()
        .and_then(|raw| errors.check("role", raw.parse::<Role>()));
    let status = request
        .status
        .as_deref()
        .and_then(|raw| errors.check("status", raw.parse::<AccountStatus>()));
    let search = request
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .and_then(|q| {
            if q.chars().count() > MAX_SEARCH_CHARS {
                errors.add(
                    "q",
                    format!("must be at most {MAX_SEARCH_CHARS} characters"),
                );
                None
            } else {
                Some(q.to_lowercase())
            }
        });
    let page = errors.absorb(PageRequest::parse(request.limit, request.cursor.as_deref()));
    match page {
        Some(page) if errors.is_empty() => Ok((
            UserFilter {
                role,
                status,
                search,
            },
            page,
        )),
        _ => Err(errors),
    }
}

/// An empty change is refused rather than ignored: a body with neither field is a client's
/// mistake (a misspelt field is already refused as unknown).
fn validate_change(request: &ChangeAccessRequest) -> Result<AccessChange, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if request.role.is_none() && request.status.is_none() {
        errors.add("role", "give a role, a status or both");
        return Err(errors);
    }
    let change = AccessChange {
        role: request
            .role
            .as_deref()
            .and_then(|raw| errors.check("role", raw.parse::<Role>())),
        status: request
            .status
            .as_deref()
            .and_then(|raw| errors.check("status", raw.parse::<AccountStatus>())),
    };
    if errors.is_empty() {
        Ok(change)
    } else {
        Err(errors)
    }
}
