//! Adapters layer: every store port held in process memory, for fast tests and `memory://`.
//! Depends on the core's ports and models only; the data dies with the process.

mod audit;
mod devices;
mod orders;
mod products;

mod second_factors;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::anyhow;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::core::model::{
    ChallengeId, Email, LoginChallenge, OneTimeToken, Order, OrderId, PageRequest, PasswordHash,
    Product, ProductId, ProfileChanges, SecretDigest, Session, SessionId, TokenPurpose, User,
    UserId,
};
use crate::core::policy::LockoutRule;
use crate::core::ports::{
    AccessChange, AccessChangeOutcome, AttemptOutcome, AttemptThrottleStore, ChallengeStore,
    DeleteUserOutcome, InsertUserError, OneTimeTokenStore, ReplaceCodeOutcome, ReserveOutcome,
    SessionStore, StoreError, StoreHealth, UserFilter, UserStore,
};

/// All stores in one struct. Clones share the same data.
///
/// One mutex guards everything: every port method is a single short critical section with no
/// `.await` inside, which makes each of them atomic — the guarantee the ports demand — without
/// any finer locking to get wrong.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    users: HashMap<UserId, User>,
    /// The unique index on the normalised email.
    user_ids_by_email: HashMap<Email, UserId>,
    tokens: HashMap<[u8; 32], StoredToken>,
    challenges: HashMap<ChallengeId, LoginChallenge>,
    sessions: HashMap<SessionId, Session>,
    /// Ordered by id, so by creation time: lists walk it backwards.
    products: BTreeMap<ProductId, Product>,
    /// Ordered by id, so by creation time, like products.
    orders: BTreeMap<OrderId, Order>,
    totp_enrolments: HashMap<UserId, crate::core::model::TotpEnrolment>,
    recovery_codes: HashMap<UserId, Vec<second_factors::StoredRecoveryCode>>,
    devices: HashMap<crate::core::model::DeviceId, crate::core::model::RememberedDevice>,
    throttles: HashMap<[u8; 32], Throttle>,
    /// The security-event log, ordered by id (so by time). Append-only: `delete_user` keeps
    /// the events that name the user.
    audit_events: BTreeMap<crate::core::model::AuditEventId, crate::core::model::AuditEvent>,
}

/// The record of one throttle key (see `AttemptThrottleStore`).
struct Throttle {
    attempts: u32,
    locked_until: Option<DateTime<Utc>>,
    next_lock: Duration,
    forgotten_at: DateTime<Utc>,
}

struct StoredToken {
    token: OneTimeToken,
    consumed_at: Option<DateTime<Utc>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        // A poisoned lock means a panic in the middle of an update: the data may be half
        // written, so refuse to serve it rather than carry on silently.
        self.state
            .lock()
            .map_err(|_| StoreError::new(anyhow!("memory store lock poisoned by a panic")))
    }
}

fn duplicate(what: &str) -> StoreError {
    StoreError::new(anyhow!("{what} already exists"))
}

impl State {
    /// Whether an active manager other than `id` exists.
    fn another_active_manager(&self, id: UserId) -> bool {
        self.users
            .values()
            .any(|user| user.id != id && user.is_active_manager())
    }

    /// The challenge if it is open at `now`: not completed and not expired.
    fn open_challenge(
        &mut self,
        id: ChallengeId,
        now: DateTime<Utc>,
    ) -> Option<&mut LoginChallenge> {
        self.challenges
            .get_mut(&id)
            .filter(|challenge| challenge.completed_at.is_none() && now < challenge.expires_at)
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

#[async_trait]
impl OneTimeTokenStore for MemoryStore {
    async fn insert_token(&self, token: &OneTimeToken) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let digest = *token.digest.as_bytes();
        if state.tokens.contains_key(&digest) {
            return Err(duplicate("a token with this digest"));
        }
        let stored = StoredToken {
            token: token.clone(),
            consumed_at: None,
        };
        state.tokens.insert(digest, stored);
        Ok(())
    }

    async fn consume_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        let mut state = self.state()?;
        let usable = state.tokens.get_mut(digest.as_bytes()).filter(|stored| {
            stored.consumed_at.is_none()
                && stored.token.purpose == purpose
                && now < stored.token.expires_at
        });
        Ok(usable.map(|stored| {
            stored.consumed_at = Some(now);
            stored.token.user_id
        }))
    }

    async fn peek_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        let state = self.state()?;
        let usable = state.tokens.get(digest.as_bytes()).filter(|stored| {
            stored.consumed_at.is_none()
                && stored.token.purpose == purpose
                && now < stored.token.expires_at
        });
        Ok(usable.map(|stored| stored.token.user_id))
    }
}

#[async_trait]
impl ChallengeStore for MemoryStore {
    async fn insert_challenge(&self, challenge: &LoginChallenge) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state.challenges.contains_key(&challenge.id) {
            return Err(duplicate("a challenge with this id"));
        }
        state.challenges.insert(challenge.id, challenge.clone());
        Ok(())
    }

    async fn challenge(&self, id: ChallengeId) -> Result<Option<LoginChallenge>, StoreError> {
        Ok(self.state()?.challenges.get(&id).cloned())
    }

    async fn count_attempt(
        &self,
        id: ChallengeId,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<AttemptOutcome, StoreError> {
        let mut state = self.state()?;
        let Some(challenge) = state.open_challenge(id, now) else {
            return Ok(AttemptOutcome::Closed);
        };
        if challenge.attempts >= max_attempts {
            return Ok(AttemptOutcome::Exhausted);
        }
        challenge.attempts += 1;
        Ok(AttemptOutcome::Counted(challenge.clone()))
    }

    async fn complete_challenge(
        &self,
        id: ChallengeId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        match state.challenges.get_mut(&id) {
            Some(challenge) if challenge.completed_at.is_none() => {
                challenge.completed_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn replace_code(
        &self,
        id: ChallengeId,
        code_digest: &SecretDigest,
        max_attempts: u32,
        cooldown: Duration,
        now: DateTime<Utc>,
    ) -> Result<ReplaceCodeOutcome, StoreError> {
        let mut state = self.state()?;
        let Some(challenge) = state
            .open_challenge(id, now)
            .filter(|challenge| challenge.attempts < max_attempts)
        else {
            return Ok(ReplaceCodeOutcome::Closed);
        };
        if now < challenge.code_sent_at + cooldown {
            return Ok(ReplaceCodeOutcome::TooSoon {
                sent_at: challenge.code_sent_at,
            });
        }
        challenge.code_digest = *code_digest;
        challenge.code_sent_at = now;
        Ok(ReplaceCodeOutcome::Replaced)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state.sessions.contains_key(&session.id) {
            return Err(duplicate("a session with this id"));
        }
        state.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        Ok(self.state()?.sessions.get(&id).cloned())
    }

    async fn advance_refresh_generation(
        &self,
        id: SessionId,
        expected_generation: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Wrapping back to generation 0 would make the session's first refresh token valid
        // again; a session that has rotated four billion times must sign in anew instead.
        let Some(next_generation) = expected_generation.checked_add(1) else {
            return Ok(false);
        };
        let mut state = self.state()?;
        let Some(session) = state.sessions.get_mut(&id).filter(|session| {
            session.revoked_at.is_none() && session.refresh_generation == expected_generation
        }) else {
            return Ok(false);
        };
        session.refresh_generation = next_generation;
        session.rotated_at = Some(now);
        session.last_used_at = now;
        Ok(true)
    }

    async fn revoke_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        match state.sessions.get_mut(&id) {
            Some(session) if session.revoked_at.is_none() => {
                session.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let mut revoked = 0;
        for session in state.sessions.values_mut() {
            if session.user_id == user_id && session.revoked_at.is_none() {
                session.revoked_at = Some(now);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn revoke_other_user_sessions(
        &self,
        user_id: UserId,
        keep: SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let mut revoked = 0;
        for session in state.sessions.values_mut() {
            if session.user_id == user_id && session.id != keep && session.revoked_at.is_none() {
                session.revoked_at = Some(now);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn live_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Vec<Session>, StoreError> {
        let state = self.state()?;
        let mut sessions: Vec<Session> = state
            .sessions
            .values()
            .filter(|session| session.user_id == user_id && session.is_live(now))
            .filter(|session| {
                page.before
                    .is_none_or(|before| session.id.as_uuid() < before)
            })
            .cloned()
            .collect();
        sessions.sort_unstable_by_key(|session| std::cmp::Reverse(session.id));
        sessions.truncate(page.fetch_limit());
        Ok(sessions)
    }
}

#[async_trait]
impl AttemptThrottleStore for MemoryStore {
    async fn reserve_attempt(
        &self,
        key: &SecretDigest,
        rule: &LockoutRule,
        now: DateTime<Utc>,
    ) -> Result<ReserveOutcome, StoreError> {
        let mut state = self.state()?;
        let fresh = || Throttle {
            attempts: 0,
            locked_until: None,
            next_lock: rule.first_lock,
            forgotten_at: now,
        };
        let throttle = state.throttles.entry(*key.as_bytes()).or_insert_with(fresh);
        if throttle.forgotten_at <= now {
            *throttle = fresh();
        }
        if let Some(until) = throttle.locked_until.filter(|until| now < *until) {
            return Ok(ReserveOutcome::Locked { until });
        }
        throttle.attempts = throttle.attempts.saturating_add(1);
        throttle.forgotten_at = now + rule.forget_after;
        if throttle.attempts >= rule.max_attempts {
            throttle.locked_until = Some(now + throttle.next_lock);
            throttle.next_lock = (throttle.next_lock * 2).min(rule.max_lock);
        }
        Ok(ReserveOutcome::Reserved)
    }

    async fn clear_attempts(&self, key: &SecretDigest) -> Result<(), StoreError> {
        self.state()?.throttles.remove(key.as_bytes());
        Ok(())
    }
}

#[async_trait]
impl StoreHealth for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.state().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{AccountStatus, Name, PasswordHash, Role};

    #[tokio::test]
    async fn clones_share_one_set_of_data() {
        let store = MemoryStore::new();
        let clone = store.clone();
        let now = Utc::now();
        let user = User {
            id: UserId::new(),
            name: Name::parse("Amina").unwrap(),
            email: Email::parse("amina@example.com").unwrap(),
            phone: None,
            address: None,
            role: Role::Client,
            status: AccountStatus::Active,
            password_hash: PasswordHash::from_phc(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            ),
            email_verified_at: None,
            created_at: now,
            updated_at: now,
        };

        store.insert_user(&user).await.unwrap();

        assert_eq!(clone.user_by_id(user.id).await.unwrap(), Some(user));
    }
}
