//! Adapters layer: a time limit on every store call, whatever the adapter. One decorator
//! wraps each store port (`TimeLimited<dyn Port>`) and forwards every call to the adapter
//! behind it, giving up after `STORE_TIMEOUT_MS`; a call that runs out fails with
//! `StoreError::TimedOut`, which the HTTP adapter answers as 503 with `Retry-After`. Depends
//! on the core's ports and tokio's timer.
//!
//! Why here and not in each adapter: a store can hang anywhere — waiting for a pooled
//! connection, a server that stopped answering, a write concern that cannot be met, a lock —
//! and a limit that every adapter had to remember would be forgotten by one. Giving up drops
//! the adapter's future, which cancels the driver's work on our side (the connection is
//! closed); what the store itself already did is unknown, so a timed-out write may still land.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::core::model::{
    AuditEvent, AuditFilter, ChallengeId, ClaimedMail, DeviceId, Email, LoginChallenge,
    OneTimeToken, Order, OrderFilter, OrderId, OrderTotals, OutboxMailId, OutboxStatus,
    PageRequest, PasswordHash, PlacedBetween, Product, ProductChanges, ProductFilter, ProductId,
    ProfileChanges, QueuedMail, RateKey, RateWindow, RememberedDevice, SealedTotpSecret,
    SecretDigest, Session, SessionId, ThrottleRecord, TokenPurpose, TotpEnrolment, User, UserId,
};
use crate::core::ports::{
    AccessChange, AccessChangeOutcome, AttemptOutcome, AttemptThrottleStore, AuditLog,
    ChallengeStore, DeleteUserOutcome, DeviceStore, ExpiredRecordStore, InsertUserError,
    OneTimeTokenStore, OrderStore, OutboxStore, ProductStore, RateWindowStore, ReplaceCodeOutcome,
    SecondFactorStore, SessionStore, StoreError, StoreHealth, UserFilter, UserStore,
};

/// One store port whose every call gives up after `limit`.
pub struct TimeLimited<P: ?Sized> {
    inner: Arc<P>,
    limit: Duration,
}

impl<P: ?Sized> TimeLimited<P> {
    pub fn new(inner: Arc<P>, limit: Duration) -> Self {
        Self { inner, limit }
    }

    /// Runs `call` for at most the limit. Running out is logged here, once per call, naming
    /// the call: the request that waited logs its 503 separately.
    async fn bounded<T, E>(
        &self,
        call_name: &'static str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        match tokio::time::timeout(self.limit, call).await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::warn!(
                    store_call = call_name,
                    limit_ms = u64::try_from(self.limit.as_millis()).unwrap_or(u64::MAX),
                    "store call timed out"
                );
                Err(StoreError::TimedOut(anyhow::anyhow!(
                    "{call_name}: no answer within {} ms",
                    self.limit.as_millis()
                ))
                .into())
            }
        }
    }
}

#[async_trait]
impl UserStore for TimeLimited<dyn UserStore> {
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError> {
        self.bounded("insert_user", self.inner.insert_user(user))
            .await
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.bounded("user_by_id", self.inner.user_by_id(id)).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.bounded("user_by_email", self.inner.user_by_email(email))
            .await
    }

    async fn mark_email_verified(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.bounded(
            "mark_email_verified",
            self.inner.mark_email_verified(id, at),
        )
        .await
    }

    async fn update_profile(
        &self,
        id: UserId,
        changes: &ProfileChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        self.bounded("update_profile", self.inner.update_profile(id, changes, at))
            .await
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "set_password_hash",
            self.inner.set_password_hash(id, hash, at),
        )
        .await
    }

    async fn list_users(
        &self,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        self.bounded("list_users", self.inner.list_users(filter, page))
            .await
    }

    async fn change_access(
        &self,
        id: UserId,
        change: AccessChange,
        at: DateTime<Utc>,
    ) -> Result<AccessChangeOutcome, StoreError> {
        self.bounded("change_access", self.inner.change_access(id, change, at))
            .await
    }

    async fn delete_user(&self, id: UserId) -> Result<DeleteUserOutcome, StoreError> {
        self.bounded("delete_user", self.inner.delete_user(id))
            .await
    }
}

#[async_trait]
impl OneTimeTokenStore for TimeLimited<dyn OneTimeTokenStore> {
    async fn insert_token(&self, token: &OneTimeToken) -> Result<(), StoreError> {
        self.bounded("insert_token", self.inner.insert_token(token))
            .await
    }

    async fn consume_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        self.bounded(
            "consume_token",
            self.inner.consume_token(digest, purpose, now),
        )
        .await
    }

    async fn peek_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        self.bounded("peek_token", self.inner.peek_token(digest, purpose, now))
            .await
    }

    async fn spend_user_tokens(
        &self,
        user_id: UserId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.bounded(
            "spend_user_tokens",
            self.inner.spend_user_tokens(user_id, purpose, now),
        )
        .await
    }
}

#[async_trait]
impl ChallengeStore for TimeLimited<dyn ChallengeStore> {
    async fn close_user_challenges(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.bounded(
            "close_user_challenges",
            self.inner.close_user_challenges(user_id, now),
        )
        .await
    }

    async fn insert_challenge(&self, challenge: &LoginChallenge) -> Result<(), StoreError> {
        self.bounded("insert_challenge", self.inner.insert_challenge(challenge))
            .await
    }

    async fn challenge(&self, id: ChallengeId) -> Result<Option<LoginChallenge>, StoreError> {
        self.bounded("challenge", self.inner.challenge(id)).await
    }

    async fn count_attempt(
        &self,
        id: ChallengeId,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<AttemptOutcome, StoreError> {
        self.bounded(
            "count_attempt",
            self.inner.count_attempt(id, max_attempts, now),
        )
        .await
    }

    async fn complete_challenge(
        &self,
        id: ChallengeId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded("complete_challenge", self.inner.complete_challenge(id, now))
            .await
    }

    async fn replace_code(
        &self,
        id: ChallengeId,
        code_digest: &SecretDigest,
        max_attempts: u32,
        cooldown: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<ReplaceCodeOutcome, StoreError> {
        self.bounded(
            "replace_code",
            self.inner
                .replace_code(id, code_digest, max_attempts, cooldown, now),
        )
        .await
    }
}

#[async_trait]
impl AttemptThrottleStore for TimeLimited<dyn AttemptThrottleStore> {
    async fn throttle_record(
        &self,
        key: &SecretDigest,
    ) -> Result<Option<ThrottleRecord>, StoreError> {
        self.bounded("throttle_record", self.inner.throttle_record(key))
            .await
    }

    async fn replace_throttle_record(
        &self,
        key: &SecretDigest,
        expected: Option<&ThrottleRecord>,
        record: &ThrottleRecord,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "replace_throttle_record",
            self.inner.replace_throttle_record(key, expected, record),
        )
        .await
    }

    async fn clear_attempts(&self, key: &SecretDigest) -> Result<(), StoreError> {
        self.bounded("clear_attempts", self.inner.clear_attempts(key))
            .await
    }
}

#[async_trait]
impl SessionStore for TimeLimited<dyn SessionStore> {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        self.bounded("insert_session", self.inner.insert_session(session))
            .await
    }

    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        self.bounded("session", self.inner.session(id)).await
    }

    async fn session_and_user(
        &self,
        id: SessionId,
    ) -> Result<Option<(Session, Option<User>)>, StoreError> {
        self.bounded("session_and_user", self.inner.session_and_user(id))
            .await
    }

    async fn advance_refresh_generation(
        &self,
        id: SessionId,
        expected_generation: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "advance_refresh_generation",
            self.inner
                .advance_refresh_generation(id, expected_generation, now),
        )
        .await
    }

    async fn revoke_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.bounded("revoke_session", self.inner.revoke_session(id, now))
            .await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.bounded(
            "revoke_user_sessions",
            self.inner.revoke_user_sessions(user_id, now),
        )
        .await
    }

    async fn revoke_other_user_sessions(
        &self,
        user_id: UserId,
        keep: SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.bounded(
            "revoke_other_user_sessions",
            self.inner.revoke_other_user_sessions(user_id, keep, now),
        )
        .await
    }

    async fn live_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Vec<Session>, StoreError> {
        self.bounded(
            "live_user_sessions",
            self.inner.live_user_sessions(user_id, now, page),
        )
        .await
    }
}

#[async_trait]
impl ProductStore for TimeLimited<dyn ProductStore> {
    async fn insert_product(&self, product: &Product) -> Result<(), StoreError> {
        self.bounded("insert_product", self.inner.insert_product(product))
            .await
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.bounded("product", self.inner.product(id)).await
    }

    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Vec<Product>, StoreError> {
        self.bounded("list_products", self.inner.list_products(filter, page))
            .await
    }

    async fn update_product(
        &self,
        id: ProductId,
        changes: &ProductChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<Product>, StoreError> {
        self.bounded("update_product", self.inner.update_product(id, changes, at))
            .await
    }

    async fn delete_product(&self, id: ProductId) -> Result<bool, StoreError> {
        self.bounded("delete_product", self.inner.delete_product(id))
            .await
    }
}

#[async_trait]
impl OrderStore for TimeLimited<dyn OrderStore> {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        self.bounded("insert_order", self.inner.insert_order(order))
            .await
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.bounded("order", self.inner.order(id)).await
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Vec<Order>, StoreError> {
        self.bounded("list_orders", self.inner.list_orders(filter, page))
            .await
    }

    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<bool, StoreError> {
        self.bounded(
            "update_order",
            self.inner.update_order(order, expected_version),
        )
        .await
    }

    async fn reserve_delivery_code_attempt(
        &self,
        id: OrderId,
        max: u32,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "reserve_delivery_code_attempt",
            self.inner.reserve_delivery_code_attempt(id, max),
        )
        .await
    }

    async fn order_totals(&self, period: PlacedBetween) -> Result<OrderTotals, StoreError> {
        self.bounded("order_totals", self.inner.order_totals(period))
            .await
    }
}

#[async_trait]
impl SecondFactorStore for TimeLimited<dyn SecondFactorStore> {
    async fn totp_enrolment(&self, user_id: UserId) -> Result<Option<TotpEnrolment>, StoreError> {
        self.bounded("totp_enrolment", self.inner.totp_enrolment(user_id))
            .await
    }

    async fn put_pending_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "put_pending_totp",
            self.inner.put_pending_totp(user_id, secret, now),
        )
        .await
    }

    async fn enable_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "enable_totp",
            self.inner.enable_totp(user_id, secret, step, now),
        )
        .await
    }

    async fn use_totp_step(&self, user_id: UserId, step: u64) -> Result<bool, StoreError> {
        self.bounded("use_totp_step", self.inner.use_totp_step(user_id, step))
            .await
    }

    async fn remove_totp(&self, user_id: UserId) -> Result<bool, StoreError> {
        self.bounded("remove_totp", self.inner.remove_totp(user_id))
            .await
    }

    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        digests: &[SecretDigest],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.bounded(
            "replace_recovery_codes",
            self.inner.replace_recovery_codes(user_id, digests, now),
        )
        .await
    }

    async fn consume_recovery_code(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "consume_recovery_code",
            self.inner.consume_recovery_code(user_id, digest, now),
        )
        .await
    }

    async fn unused_recovery_codes(&self, user_id: UserId) -> Result<u64, StoreError> {
        self.bounded(
            "unused_recovery_codes",
            self.inner.unused_recovery_codes(user_id),
        )
        .await
    }
}

#[async_trait]
impl DeviceStore for TimeLimited<dyn DeviceStore> {
    async fn insert_device(&self, device: &RememberedDevice) -> Result<(), StoreError> {
        self.bounded("insert_device", self.inner.insert_device(device))
            .await
    }

    async fn use_device(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded("use_device", self.inner.use_device(user_id, digest, now))
            .await
    }

    async fn devices_of(
        &self,
        user_id: UserId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Vec<RememberedDevice>, StoreError> {
        self.bounded("devices_of", self.inner.devices_of(user_id, page, now))
            .await
    }

    async fn delete_device(&self, user_id: UserId, id: DeviceId) -> Result<bool, StoreError> {
        self.bounded("delete_device", self.inner.delete_device(user_id, id))
            .await
    }

    async fn forget_devices(&self, user_id: UserId) -> Result<u64, StoreError> {
        self.bounded("forget_devices", self.inner.forget_devices(user_id))
            .await
    }
}

#[async_trait]
impl AuditLog for TimeLimited<dyn AuditLog> {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.bounded("record", self.inner.record(event)).await
    }

    async fn audit_events(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.bounded("audit_events", self.inner.audit_events(filter, page))
            .await
    }
}

#[async_trait]
impl RateWindowStore for TimeLimited<dyn RateWindowStore> {
    async fn count_request(&self, key: &RateKey, window: &RateWindow) -> Result<u64, StoreError> {
        self.bounded("count_request", self.inner.count_request(key, window))
            .await
    }

    async fn purge_rate_windows(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.bounded("purge_rate_windows", self.inner.purge_rate_windows(now))
            .await
    }
}

#[async_trait]
impl ExpiredRecordStore for TimeLimited<dyn ExpiredRecordStore> {
    async fn delete_expired(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.bounded("delete_expired", self.inner.delete_expired(cutoff))
            .await
    }

    async fn delete_unverified_users(
        &self,
        registered_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.bounded(
            "delete_unverified_users",
            self.inner.delete_unverified_users(registered_before),
        )
        .await
    }

    async fn delete_audit_events_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.bounded(
            "delete_audit_events_before",
            self.inner.delete_audit_events_before(cutoff),
        )
        .await
    }
}

#[async_trait]
impl OutboxStore for TimeLimited<dyn OutboxStore> {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        self.bounded("enqueue_mail", self.inner.enqueue_mail(mail))
            .await
    }

    async fn claim_mails(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        self.bounded(
            "claim_mails",
            self.inner.claim_mails(limit, now, lease_until),
        )
        .await
    }

    async fn mark_mail_sent(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "mark_mail_sent",
            self.inner.mark_mail_sent(id, attempt, now),
        )
        .await
    }

    async fn retry_mail_at(
        &self,
        id: OutboxMailId,
        attempt: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded(
            "retry_mail_at",
            self.inner.retry_mail_at(id, attempt, retry_at),
        )
        .await
    }

    async fn abandon_mail(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.bounded("abandon_mail", self.inner.abandon_mail(id, attempt, now))
            .await
    }

    async fn purge_mails(&self, finished_before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.bounded("purge_mails", self.inner.purge_mails(finished_before))
            .await
    }

    async fn outbox_status(&self) -> Result<OutboxStatus, StoreError> {
        self.bounded("outbox_status", self.inner.outbox_status())
            .await
    }
}

#[async_trait]
impl StoreHealth for TimeLimited<dyn StoreHealth> {
    async fn ping(&self) -> Result<(), StoreError> {
        self.bounded("ping", self.inner.ping()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::client_with_password;

    /// A store that never answers, as a frozen database does.
    struct Frozen;

    #[async_trait]
    impl StoreHealth for Frozen {
        async fn ping(&self) -> Result<(), StoreError> {
            std::future::pending().await
        }
    }

    /// A store that answers at once.
    struct Healthy;

    #[async_trait]
    impl StoreHealth for Healthy {
        async fn ping(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    // A frozen store never answers, so a limit of any length runs out; the tests use short
    // ones and assert outcomes only, never how long anything took.
    #[tokio::test]
    async fn a_call_that_never_answers_times_out_with_the_limit_named() {
        let store: TimeLimited<dyn StoreHealth> =
            TimeLimited::new(Arc::new(Frozen), Duration::from_millis(250));

        let outcome = store.ping().await;

        let Err(error @ StoreError::TimedOut(_)) = outcome else {
            panic!("expected a timeout, got {outcome:?}");
        };
        assert_eq!(
            format!("{:#}", anyhow::Error::from(error)),
            "the store did not answer in time: ping: no answer within 250 ms"
        );
    }

    /// `tokio::time::timeout` polls the call before its timer, so a call that is ready at
    /// once passes whatever the limit.
    #[tokio::test]
    async fn an_answer_within_the_limit_passes_through() {
        let store: TimeLimited<dyn StoreHealth> =
            TimeLimited::new(Arc::new(Healthy), Duration::from_millis(250));

        assert!(store.ping().await.is_ok());
    }

    /// Ports with an error of their own carry the timeout in their store variant.
    #[tokio::test]
    async fn a_port_error_of_its_own_carries_the_timeout() {
        struct FrozenUsers;
        #[async_trait]
        impl UserStore for FrozenUsers {
            async fn insert_user(&self, _: &User) -> Result<(), InsertUserError> {
                std::future::pending().await
            }
            async fn user_by_id(&self, _: UserId) -> Result<Option<User>, StoreError> {
                std::future::pending().await
            }
            async fn user_by_email(&self, _: &Email) -> Result<Option<User>, StoreError> {
                std::future::pending().await
            }
            async fn mark_email_verified(
                &self,
                _: UserId,
                _: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                std::future::pending().await
            }
            async fn update_profile(
                &self,
                _: UserId,
                _: &ProfileChanges,
                _: DateTime<Utc>,
            ) -> Result<Option<User>, StoreError> {
                std::future::pending().await
            }
            async fn set_password_hash(
                &self,
                _: UserId,
                _: &PasswordHash,
                _: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                std::future::pending().await
            }
            async fn list_users(
                &self,
                _: &UserFilter,
                _: PageRequest,
            ) -> Result<Vec<User>, StoreError> {
                std::future::pending().await
            }
            async fn change_access(
                &self,
                _: UserId,
                _: AccessChange,
                _: DateTime<Utc>,
            ) -> Result<AccessChangeOutcome, StoreError> {
                std::future::pending().await
            }
            async fn delete_user(&self, _: UserId) -> Result<DeleteUserOutcome, StoreError> {
                std::future::pending().await
            }
        }
        let store: TimeLimited<dyn UserStore> =
            TimeLimited::new(Arc::new(FrozenUsers), Duration::from_millis(10));

        let outcome = store
            .insert_user(&client_with_password(
                "amina@example.com",
                "correct horse battery",
            ))
            .await;

        assert!(
            matches!(
                outcome,
                Err(InsertUserError::Store(StoreError::TimedOut(_)))
            ),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_timeout_is_found_anywhere_in_a_chain_of_causes() {
        let timed_out = anyhow::Error::new(StoreError::TimedOut(anyhow::anyhow!("5000 ms")))
            .context("reading the session");
        let failed = anyhow::Error::new(StoreError::new(anyhow::anyhow!("disk full")));

        assert!(StoreError::timed_out_in(&timed_out));
        assert!(!StoreError::timed_out_in(&failed));
    }
}
