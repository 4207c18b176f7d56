//! Adapters layer: every store port held in process memory, for fast tests and `memory://`.
//! Depends on the core's ports and models only; the data dies with the process.

mod audit;
mod challenges;
mod devices;
mod expired;
mod orders;
mod outbox;
mod products;
mod rate_windows;
mod second_factors;
mod sessions;
mod throttles;
mod tokens;
mod users;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::anyhow;
use async_trait::async_trait;

use crate::core::model::{
    AuditEvent, AuditEventId, ChallengeId, DeviceId, Email, LoginChallenge, Order, OrderId,
    Product, ProductId, RememberedDevice, Session, SessionId, ThrottleRecord, TotpEnrolment, User,
    UserId,
};
use crate::core::ports::{StoreError, StoreHealth};

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
    tokens: HashMap<[u8; 32], tokens::StoredToken>,
    challenges: HashMap<ChallengeId, LoginChallenge>,
    sessions: HashMap<SessionId, Session>,
    /// Ordered by id, so by creation time: lists walk it backwards.
    products: BTreeMap<ProductId, Product>,
    /// Ordered by id, so by creation time, like products.
    orders: BTreeMap<OrderId, Order>,
    totp_enrolments: HashMap<UserId, TotpEnrolment>,
    recovery_codes: HashMap<UserId, Vec<second_factors::StoredRecoveryCode>>,
    devices: HashMap<DeviceId, RememberedDevice>,
    /// The lockout back-off's records, by key; the back-off itself is the core's.
    throttles: HashMap<[u8; 32], ThrottleRecord>,
    /// The security-event log, ordered by id (so by time). Append-only: `delete_user` keeps
    /// the events that name the user.
    audit_events: BTreeMap<AuditEventId, AuditEvent>,
    /// Request counts of the per-address limit, purged once their window has ended.
    rate_windows: rate_windows::RateWindows,
    /// The mail outbox.
    outbox: outbox::OutboxState,
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

#[async_trait]
impl StoreHealth for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.state().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::core::model::{AccountStatus, Name, PasswordHash, Role};
    use crate::core::ports::UserStore;

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
            locale: crate::core::model::Locale::default(),
            created_at: now,
            updated_at: now,
        };

        store.insert_user(&user).await.unwrap();

        assert_eq!(clone.user_by_id(user.id).await.unwrap(), Some(user));
    }
}
