//! Core layer (model): who is calling, and the capability of acting as a manager. Plain data;
//! depends only on the other model types.

use thiserror::Error;

use super::{Role, SessionId, User, UserId};

/// Who is calling, once their access token has been checked against a live session and
/// their account read: the role is the current one, not the one at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub role: Role,
}

/// A checked caller: their principal, and their account as read to check it. A request that
/// shows the caller their own account answers with this one instead of reading it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub principal: Principal,
    pub account: User,
}

/// A principal known to be a manager. The only way to get one is `Principal::as_manager`,
/// so a use case that takes a `Manager` cannot be reached by anybody else: "managers only" is
/// checked once, by the type, instead of by each use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Manager(Principal);

/// The caller is not a manager; the managers-only use case was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("managers only")]
pub struct NotAManager;

impl Principal {
    /// The manager capability, if this principal's current role is manager.
    pub fn as_manager(&self) -> Result<Manager, NotAManager> {
        if self.role == Role::Manager {
            Ok(Manager(*self))
        } else {
            Err(NotAManager)
        }
    }
}

impl Manager {
    /// The manager's account (the actor of the security events they cause).
    pub fn user_id(&self) -> UserId {
        self.0.user_id
    }

    /// The principal this capability was taken from.
    pub fn principal(&self) -> Principal {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            user_id: UserId::new(),
            session_id: SessionId::new(),
            role,
        }
    }

    #[test]
    fn a_manager_principal_is_a_manager_of_the_same_account_and_session() {
        let caller = principal(Role::Manager);

        let manager = caller.as_manager().expect("a manager is a manager");

        assert_eq!(manager.user_id(), caller.user_id);
        assert_eq!(manager.principal(), caller);
    }

    #[test]
    fn clients_and_couriers_are_not_managers() {
        for role in [Role::Client, Role::Courier] {
            assert_eq!(principal(role).as_manager(), Err(NotAManager), "{role}");
        }
    }
}
