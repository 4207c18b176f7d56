//! Adapters layer (memory): accounts, implementing `core::ports::UserStore`, with the unique
//! email index and the last-active-manager guard. Each method is one critical section, hence
//! atomic.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, State, duplicate};
use crate::core::model::{Email, PageRequest, PasswordHash, ProfileChanges, User, UserId};
use crate::core::ports::{
    AccessChange, AccessChangeOutcome, DeleteUserOutcome, InsertUserError, StoreError, UserFilter,
    UserStore,
};

impl State {
    /// Whether an active manager other than `id` exists.
    fn another_active_manager(&self, id: UserId) -> bool {
        self.users
            .values()
            .any(|user| user.id != id && user.is_active_manager())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError> {
        let mut state = self.state()?;
        if state.user_ids_by_email.contains_key(&user.email) {
            return Err(InsertUserError::EmailTaken);
        }
        if state.users.contains_key(&user.id) {
            return Err(duplicate("a user with this id").into());
        }
        state.user_ids_by_email.insert(user.email.clone(), user.id);
        state.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state()?.users.get(&id).cloned())
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let state = self.state()?;
        let user = state
            .user_ids_by_email
            .get(email)
            .and_then(|id| state.users.get(id))
            .cloned();
        Ok(user)
    }

    async fn mark_email_verified(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(user) = self.state()?.users.get_mut(&id) {
            user.email_verified_at.get_or_insert(at);
        }
        Ok(())
    }

    async fn update_profile(
        &self,
        id: UserId,
        changes: &ProfileChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let mut state = self.state()?;
        let Some(user) = state.users.get_mut(&id) else {
            return Ok(None);
        };
        if let Some(name) = &changes.name {
            user.name = name.clone();
        }
        if let Some(phone) = &changes.phone {
            user.phone = phone.clone();
        }
        if let Some(address) = &changes.address {
            user.address = address.clone();
        }
        if let Some(locale) = changes.locale {
            user.locale = locale;
        }
        user.updated_at = at;
        Ok(Some(user.clone()))
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let Some(user) = state.users.get_mut(&id) else {
            return Ok(false);
        };
        user.password_hash = hash.clone();
        user.updated_at = at;
        Ok(true)
    }
    async fn list_users(
        &self,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        let state = self.state()?;
        let mut users: Vec<User> = state
            .users
            .values()
            .filter(|user| page.before.is_none_or(|before| user.id.as_uuid() < before))
            .filter(|user| matches(filter, user))
            .cloned()
            .collect();
        users.sort_by_key(|user| std::cmp::Reverse(user.id.as_uuid()));
        users.truncate(page.fetch_limit());
        Ok(users)
    }

    async fn change_access(
        &self,
        id: UserId,
        change: AccessChange,
        at: DateTime<Utc>,
    ) -> Result<AccessChangeOutcome, StoreError> {
        let mut state = self.state()?;
        let Some(user) = state.users.get(&id) else {
            return Ok(AccessChangeOutcome::NotFound);
        };
        let changed = change.applied_to(user);
        if user.is_active_manager()
            && !changed.is_active_manager()
            && !state.another_active_manager(id)
        {
            return Ok(AccessChangeOutcome::LastActiveManager);
        }
        let changed = User {
            updated_at: at,
            ..changed
        };
        state.users.insert(id, changed.clone());
        Ok(AccessChangeOutcome::Changed(changed))
    }

    async fn delete_user(&self, id: UserId) -> Result<DeleteUserOutcome, StoreError> {
        let mut state = self.state()?;
        let Some(user) = state.users.get(&id) else {
            return Ok(DeleteUserOutcome::NotFound);
        };
        if user.is_active_manager() && !state.another_active_manager(id) {
            return Ok(DeleteUserOutcome::LastActiveManager);
        }
        // What SQLite's `ON DELETE CASCADE` does: nothing of the user outlives them — except
        // their orders and audit events, records that outlive an account by design.
        let email = user.email.clone();
        state.users.remove(&id);
        state.user_ids_by_email.remove(&email);
        state.tokens.retain(|_, stored| stored.token.user_id != id);
        state
            .challenges
            .retain(|_, challenge| challenge.user_id != id);
        state.sessions.retain(|_, session| session.user_id != id);
        state.totp_enrolments.remove(&id);
        state.recovery_codes.remove(&id);
        state.devices.retain(|_, device| device.user_id != id);
        Ok(DeleteUserOutcome::Deleted)
    }
}

/// Whether `user` passes every criterion of `filter`.
fn matches(filter: &UserFilter, user: &User) -> bool {
    filter.role.is_none_or(|role| user.role == role)
        && filter.status.is_none_or(|status| user.status == status)
        && filter.search.as_deref().is_none_or(|search| {
            user.email.as_str().contains(search)
                || user.name.as_str().to_lowercase().contains(search)
        })
}
