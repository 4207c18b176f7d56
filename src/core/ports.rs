//! Core layer: the ports — everything the core needs from the world, as traits.
//! Adapters in `crate::adapters` implement them; the core never names an adapter.
//!
//! Every store method documents what each adapter MUST guarantee. The store contract suite
//! (`tests/store_contract/`, one module per port) checks those guarantees against every store adapter.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

use super::model::{RateKey, RateWindow};

use super::model::{
    AccountStatus, AuditEvent, AuditFilter, ChallengeId, ClaimedMail, DeviceId, Email,
    LoginChallenge, Mail, OneTimeToken, Order, OrderFilter, OrderId, OrderTotals, OutboxMailId,
    OutboxStatus, PageRequest, Password, PasswordHash, PlacedBetween, Product, ProductChanges,
    ProductFilter, ProductId, ProfileChanges, QueuedMail, RememberedDevice, Role, SealedMail,
    SealedTotpSecret, SecretDigest, Session, SessionId, ThrottleRecord, TokenPurpose,
    TotpEnrolment, TotpProvisioning, User, UserId,
};

/// A store failed for a reason the business cannot act on. No use case decides anything on
/// it; it travels inside their `Unexpected` outcome, and the inbound adapter tells the kinds
/// apart by looking for this error in the cause chain.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store answered with a failure, or the answer could not be read (disk full, corrupt
    /// row, refused command). Adapters keep the cause for the log; callers answer with an
    /// opaque 500.
    #[error("store failure")]
    Failed(#[source] anyhow::Error),
    /// The store did not answer in time: a call ran out of its time limit, or no server
    /// could be reached within it (unreachable, overloaded, frozen). What the call did is
    /// unknown — a write may still land. Callers answer "try again later".
    #[error("the store did not answer in time")]
    TimedOut(#[source] anyhow::Error),
}

impl StoreError {
    pub fn new(error: impl Into<anyhow::Error>) -> Self {
        Self::Failed(error.into())
    }

    /// Whether `error`, or anything in its chain of causes, is a store call that ran out of
    /// time.
    pub fn timed_out_in(error: &anyhow::Error) -> bool {
        error.chain().any(|cause| {
            matches!(
                cause.downcast_ref::<StoreError>(),
                Some(StoreError::TimedOut(_))
            )
        })
    }
}

#[derive(Debug, Error)]
pub enum InsertUserError {
    /// Another account already has this (normalised) email.
    #[error("email already taken")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which users a manager's listing shows; every present criterion must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub status: Option<AccountStatus>,
    /// Lower-cased, non-empty: users whose email, or whose name once lower-cased, contains it.
    pub search: Option<String>,
}

/// A manager's change to an account's role and status; `None` leaves one as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessChange {
    pub role: Option<Role>,
    pub status: Option<AccountStatus>,
}

impl AccessChange {
    /// `user` as this change would leave it (role and status only).
    pub fn applied_to(&self, user: &User) -> User {
        User {
            role: self.role.unwrap_or(user.role),
            status: self.status.unwrap_or(user.status),
            ..user.clone()
        }
    }
}

/// What became of a guarded change of role and status.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessChangeOutcome {
    /// The user as stored afterwards.
    Changed(User),
    NotFound,
    /// The user is the only active manager and the change would leave none; nothing changed.
    LastActiveManager,
}

/// What became of a guarded deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteUserOutcome {
    Deleted,
    NotFound,
    /// The user is the only active manager; nothing was deleted.
    LastActiveManager,
}

/// Accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user. MUST fail with `EmailTaken` when another user has the same email,
    /// atomically: of two concurrent inserts with one email, exactly one succeeds.
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError>;

    /// The user with this id, if any.
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The user with this (normalised) email, if any.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;

    /// Marks the email verified at `at` unless it already is (the first time is kept).
    /// A missing user is not an error.
    async fn mark_email_verified(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Applies the present fields of `changes`, sets `updated_at = at` and returns the user as
    /// stored afterwards; `None` if the user does not exist.
    async fn update_profile(
        &self,
        id: UserId,
        changes: &ProfileChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError>;

    /// Replaces the user's password hash and sets `updated_at = at`; `false` if the user does
    /// not exist.
    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The users matching `filter`, newest first (by id, descending), whose id is below
    /// `page.before` if set; at most `page.fetch_limit()` of them.
    async fn list_users(
        &self,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError>;

    /// Applies the present fields of `change`, sets `updated_at = at` and returns the user as
    /// stored afterwards — unless the user is an active manager, would no longer be one, and
    /// no other active manager exists: then `LastActiveManager` and nothing changes.
    /// MUST be atomic with respect to every other `change_access` and `delete_user`: of two
    /// concurrent calls that each demote or suspend one of the only two active managers,
    /// exactly one succeeds — there is always an active manager left once there was one.
    async fn change_access(
        &self,
        id: UserId,
        change: AccessChange,
        at: DateTime<Utc>,
    ) -> Result<AccessChangeOutcome, StoreError>;

    /// Deletes the user together with everything that belongs to them — one-time tokens,
    /// login challenges and sessions (so their access tokens stop working at once) — unless
    /// they are the only active manager (`LastActiveManager`, nothing deleted). The same
    /// atomicity as `change_access`, against it and against other deletions.
    async fn delete_user(&self, id: UserId) -> Result<DeleteUserOutcome, StoreError>;
}

/// Single-use mailed tokens (email verification, password reset).
#[async_trait]
pub trait OneTimeTokenStore: Send + Sync {
    /// Stores a new token. Digests are unique (they come from 256-bit secrets).
    async fn insert_token(&self, token: &OneTimeToken) -> Result<(), StoreError>;

    /// Uses the token with this digest and purpose, if it exists, is unused and `now` is before
    /// its expiry; returns its user. MUST be atomic: of concurrent calls for one token, at most
    /// one returns `Some`, and every later call returns `None`.
    async fn consume_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError>;

    /// The user of the token with this digest and purpose if `consume_token` would accept it
    /// right now (exists, unused, `now` before its expiry), WITHOUT using it: lets a use case
    /// check a request against the token's user before spending the token. Only a hint —
    /// `consume_token` stays the one guard, so a token peeked at by two callers is still
    /// consumed by at most one.
    async fn peek_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError>;

    /// Spends every token of the user with this purpose that is still usable at `now`, in
    /// one operation (a credential change voids the links already mailed); how many it
    /// spent. A spent token then behaves exactly like a consumed one.
    async fn spend_user_tokens(
        &self,
        user_id: UserId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

/// What happened to an attempt at a login challenge.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// The attempt was counted; the challenge as it is after counting it.
    Counted(LoginChallenge),
    /// The challenge exists and is open, but has no attempts left.
    Exhausted,
    /// Unknown, expired or already completed.
    Closed,
}

/// What happened to a request for a new login code.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplaceCodeOutcome {
    Replaced,
    /// The current code was sent less than the cooldown ago; the time of that sending.
    TooSoon {
        sent_at: DateTime<Utc>,
    },
    /// Unknown, expired, completed or out of attempts.
    Closed,
}

/// Login challenges. Their counters guard against brute force, so several service instances
/// share them through the store and every guard is one atomic operation in it.
#[async_trait]
pub trait ChallengeStore: Send + Sync {
    async fn insert_challenge(&self, challenge: &LoginChallenge) -> Result<(), StoreError>;

    /// The challenge with this id, whatever its state.
    async fn challenge(&self, id: ChallengeId) -> Result<Option<LoginChallenge>, StoreError>;

    /// Counts one attempt if the challenge is open — not completed, `now` before its expiry —
    /// and has judged fewer than `max_attempts`. MUST be atomic: of N concurrent calls on a
    /// challenge with k attempts left, exactly min(N, k) return `Counted`.
    async fn count_attempt(
        &self,
        id: ChallengeId,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<AttemptOutcome, StoreError>;

    /// Marks the challenge completed unless it already is. MUST be atomic: of concurrent
    /// calls, exactly one returns `true`.
    async fn complete_challenge(
        &self,
        id: ChallengeId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Replaces the code of an open challenge that still has attempts left (fewer than
    /// `max_attempts`), if its current code was sent at least `cooldown` before `now`; the old
    /// code stops working. MUST be atomic: of concurrent calls, at most one replaces.
    async fn replace_code(
        &self,
        id: ChallengeId,
        code_digest: &SecretDigest,
        max_attempts: u32,
        cooldown: Duration,
        now: DateTime<Utc>,
    ) -> Result<ReplaceCodeOutcome, StoreError>;

    /// Closes every open challenge of the user (not completed, `now` before its expiry) by
    /// marking it completed at `now`, in one operation; how many it closed. A credential
    /// change thus ends every half-finished sign-in begun with the old password.
    async fn close_user_challenges(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

/// Failure counters that lock a key (a digest naming an account, or an email that has none)
/// with exponential back-off. Attempts are counted BEFORE they are judged, so parallel
/// guesses cannot outrun the limit, and several service instances share the counters.
///
/// The store only keeps each key's `ThrottleRecord` and swaps it atomically; the back-off
/// itself is `LockoutRule::judge_attempt`, and `core::attempt_reservation` reads, decides
/// and writes back.
#[async_trait]
pub trait AttemptThrottleStore: Send + Sync {
    /// The key's record exactly as last stored, forgotten or not; `None` if it has none.
    /// Times keep at least millisecond precision.
    async fn throttle_record(
        &self,
        key: &SecretDigest,
    ) -> Result<Option<ThrottleRecord>, StoreError>;

    /// Compare-and-set: if the key's stored record equals `expected` in every field (`None`:
    /// the key has no record), stores `record` in its place and returns `true`; otherwise
    /// changes nothing and returns `false`. `expected` is a record as `throttle_record`
    /// returned it. MUST be one atomic conditional write with the whole expected record in
    /// its condition: of concurrent calls naming one expected record, exactly one wins.
    async fn replace_throttle_record(
        &self,
        key: &SecretDigest,
        expected: Option<&ThrottleRecord>,
        record: &ThrottleRecord,
    ) -> Result<bool, StoreError>;

    /// Forgets the key's record (a success): its next attempt starts afresh.
    async fn clear_attempts(&self, key: &SecretDigest) -> Result<(), StoreError>;
}

/// Sessions. The access-token check reads them on every request, so `session` must be cheap.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError>;

    /// The session with this id, revoked or not.
    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError>;

    /// The session with this id, revoked or not, and its user's account (`None` once
    /// deleted), as one read of one state: every authenticated request needs both.
    async fn session_and_user(
        &self,
        id: SessionId,
    ) -> Result<Option<(Session, Option<User>)>, StoreError>;

    /// Rotates the refresh token: if the session is not revoked and its generation is
    /// `expected_generation`, increments it and sets `rotated_at` and `last_used_at` to `now`.
    /// MUST be atomic (compare-and-set): of concurrent calls with one expected generation,
    /// exactly one returns `true`. At `u32::MAX` it returns `false` rather than wrap, which
    /// would make the session's first refresh token valid again.
    async fn advance_refresh_generation(
        &self,
        id: SessionId,
        expected_generation: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Revokes the session unless already revoked; `true` if this call revoked it.
    async fn revoke_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Revokes every unrevoked session of the user in one operation; how many it revoked.
    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Revokes every unrevoked session of the user except `keep`, in one operation; how many
    /// it revoked (a password change ends the other devices, not the one making it).
    async fn revoke_other_user_sessions(
        &self,
        user_id: UserId,
        keep: SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// The user's live sessions — not revoked, `now` before their expiry — with an id below
    /// `page.before` (all when `None`), newest first (ids are UUID v7), at most
    /// `page.fetch_limit()` of them.
    async fn live_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Vec<Session>, StoreError>;
}

/// The catalogue.
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// Stores a new product.
    async fn insert_product(&self, product: &Product) -> Result<(), StoreError>;

    /// The product with this id, if any.
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError>;

    /// The products `filter` admits, newest first (by id, descending), below `page.before`
    /// when set, at most `page.fetch_limit()` of them. `filter.name_contains` MUST match as a
    /// plain substring of the name, ignoring ASCII case: its `%`, `_`, `\`, `.` or `*` are
    /// ordinary characters, never wildcards or patterns.
    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Vec<Product>, StoreError>;

    /// Applies the present fields of `changes`, sets `updated_at = at` and returns the product
    /// as stored afterwards, in one atomic write; `None` if it does not exist.
    async fn update_product(
        &self,
        id: ProductId,
        changes: &ProductChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<Product>, StoreError>;

    /// Deletes the product; `true` if it existed.
    async fn delete_product(&self, id: ProductId) -> Result<bool, StoreError>;
}

/// Orders. After the insert only the workflow fields change (status, courier, history,
/// `updated_at`, `version`), and only through `update_order`'s compare-and-set, so two
/// concurrent changes of one order never both land.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Stores a new order with every field, its lines and history in their order.
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError>;

    /// The order with this id, if any.
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError>;

    /// The orders `filter` admits, newest first (by id, descending), below `page.before`
    /// when set, at most `page.fetch_limit()` of them.
    async fn list_orders(
        &self,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Vec<Order>, StoreError>;

    /// Compare-and-set: if the stored order `order.id` is at `expected_version`, writes
    /// `order`'s status, courier, history, `updated_at` and version (callers pass
    /// `expected_version + 1`) and returns `true`; otherwise changes nothing and returns
    /// `false` (absent, or changed since it was read). MUST be one atomic conditional write
    /// with the version in its condition: of concurrent calls naming one version, exactly
    /// one wins. The other fields are never rewritten.
    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<bool, StoreError>;

    /// Reserves one delivery-code attempt: if the order's `delivery_code_attempts` is below
    /// `max`, adds one and returns `true`; otherwise (or if the order is absent) changes
    /// nothing and returns `false`. MUST be one atomic conditional write: of concurrent calls
    /// at most `max` ever succeed. Not part of the version: it never makes a workflow write
    /// fail.
    async fn reserve_delivery_code_attempt(
        &self,
        id: OrderId,
        max: u32,
    ) -> Result<bool, StoreError>;

    /// Totals over the orders `period` admits (by `created_at`): the count per status, the
    /// revenue of delivered orders per currency, the deliveries per courier. Computed by the
    /// store (never by loading every order into the service); lists in any order.
    async fn order_totals(&self, period: PlacedBetween) -> Result<OrderTotals, StoreError>;
}

/// Authenticator-app enrolments and recovery codes: at most one enrolment per user, pending
/// or enabled. The replay guard and the single use of recovery codes are atomic in the store,
/// so several service instances can never accept one code twice.
#[async_trait]
pub trait SecondFactorStore: Send + Sync {
    /// The user's enrolment, pending or enabled, if any.
    async fn totp_enrolment(&self, user_id: UserId) -> Result<Option<TotpEnrolment>, StoreError>;

    /// Stores a pending enrolment with this secret, replacing a pending one, unless the user
    /// has an enabled one; `false` (and nothing changed) in that case. MUST be atomic: it
    /// never overwrites an enrolment enabled concurrently.
    async fn put_pending_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Turns on the pending enrolment whose secret is `secret`, recording `step` as its last
    /// used step. MUST be atomic: `false` if there is no such pending enrolment (already
    /// enabled, replaced by a new setup, or absent), and of concurrent calls exactly one wins.
    async fn enable_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records `step` as used if the user's enrolment is enabled and `step` is greater than
    /// its last used step. MUST be atomic (compare-and-set in the store): of concurrent calls
    /// with one step, exactly one returns `true`; a step never succeeds twice.
    async fn use_totp_step(&self, user_id: UserId, step: u64) -> Result<bool, StoreError>;

    /// Removes the user's enrolment and every recovery code; `true` if there was an enrolment.
    async fn remove_totp(&self, user_id: UserId) -> Result<bool, StoreError>;

    /// Replaces every recovery code of the user (used or not) by these digests: the old
    /// codes stop working.
    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        digests: &[SecretDigest],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Uses the user's unused recovery code with this digest. MUST be atomic: of concurrent
    /// calls for one code, exactly one returns `true`, and every later call `false`.
    async fn consume_recovery_code(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// How many of the user's recovery codes are still unused.
    async fn unused_recovery_codes(&self, user_id: UserId) -> Result<u64, StoreError>;
}

/// Remembered devices: tokens that let a user's login skip the second factor. Each is bound to
/// one user, so every lookup names the user as well as the token's digest.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Stores a new remembered device. Digests are unique (they come from 256-bit tokens).
    async fn insert_device(&self, device: &RememberedDevice) -> Result<(), StoreError>;

    /// Uses the device of `user_id` whose token has this digest, if it exists and `now` is
    /// before its expiry: sets its `last_used_at` to `now` and returns `true`. Another user's
    /// device, an expired or a deleted one gives `false` and changes nothing. MUST be one
    /// conditional write (user, digest and expiry in its filter), never read-then-write.
    async fn use_device(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The user's devices not expired at `now`, newest first (by id), only those with an id
    /// below `page.before` when it is set, at most `page.fetch_limit()` of them.
    async fn devices_of(
        &self,
        user_id: UserId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Vec<RememberedDevice>, StoreError>;

    /// Deletes the device `id` if it belongs to `user_id`; `true` if this call deleted it.
    /// Another user's device is left alone and gives `false`.
    async fn delete_device(&self, user_id: UserId, id: DeviceId) -> Result<bool, StoreError>;

    /// Deletes every device of the user in one operation; how many it deleted.
    async fn forget_devices(&self, user_id: UserId) -> Result<u64, StoreError>;
}

/// The security-event log. Append-only: nothing ever changes or deletes an event, not even
/// deleting the account it names.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends one event, every field kept as given. Ids are unique (UUID v7).
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError>;

    /// The events `filter` admits, newest first (by id, descending), only those with an id
    /// below `page.before` when it is set, at most `page.fetch_limit()` of them.
    async fn audit_events(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Vec<AuditEvent>, StoreError>;
}

/// Request counts per client key in fixed windows, for the per-address limit on the account
/// operations. Several service instances share one store, so they share the counts: two
/// instances together admit the limit, not twice it. The rule (what count is admitted) is the
/// core's `FixedWindowLimit`; the store only counts.
#[async_trait]
pub trait RateWindowStore: Send + Sync {
    /// Counts one request for `key` in `window` (a window is named by its key and start) and
    /// returns the number counted in that window so far, this one included: 1 for the first.
    /// MUST be one atomic increment: of N concurrent calls on one window, each returns a
    /// different number, and together they return exactly k+1 ..= k+N for a window that had k.
    /// The window MUST be kept at least until `window.end`.
    async fn count_request(&self, key: &RateKey, window: &RateWindow) -> Result<u64, StoreError>;

    /// Deletes every window that ended at or before `now`, so that counts cannot pile up with
    /// the number of addresses ever seen; returns how many were deleted. A window still open
    /// at `now` MUST be kept.
    async fn purge_rate_windows(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Whether the store answers, for the readiness probe.
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// A cheap round trip to the store; an error while it is unreachable.
    async fn ping(&self) -> Result<(), StoreError>;
}

#[derive(Debug, Error)]
#[error("mail not sent")]
pub struct MailError(#[source] pub anyhow::Error);

/// Takes mails the use cases owe their users. In a deployment this is the core's
/// `Outbox`, which queues each mail durably before returning; tests pass mailers that keep
/// what they are given.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Takes one mail. An error means it was not accepted; the caller logs it and carries
    /// on — a mail failure never changes the answer to a request.
    async fn send(&self, mail: Mail) -> Result<(), MailError>;
}

/// The durable outbox: every mail the service owes someone, from the moment a use case
/// hands it over until it is delivered or given up, shared by every instance on the store.
/// The store only keeps the mails and applies conditional writes; when to retry, when to give
/// up and how many mails one recipient may get are the core's (`core::outbox`).
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Stores a new mail: queued, due at `mail.created_at`, no attempt yet. MUST be durable
    /// once it returns (the request that caused the mail may answer right after).
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError>;

    /// Claims up to `limit` queued mails that are due (`next attempt <= now`) and not leased
    /// (no lease, or one that ended at or before `now`), the longest due first: each gets
    /// `lease_until` and one more attempt counted. MUST be atomic per mail: concurrent
    /// claimers (in any instance) get disjoint sets, and a claimed mail is invisible to every
    /// other claim until its lease ends.
    async fn claim_mails(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<ClaimedMail>, StoreError>;

    /// Marks the mail delivered at `now` and forgets its body, if it is still queued at
    /// `attempt` (the claim that delivered it); `false` and nothing changed otherwise.
    async fn mark_mail_sent(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Ends the claim at `attempt` without delivery: the mail is due again at `retry_at`.
    /// `false` and nothing changed if the mail is no longer queued at that attempt.
    async fn retry_mail_at(
        &self,
        id: OutboxMailId,
        attempt: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Gives the mail up at `now` and forgets its body, if it is still queued at `attempt`;
    /// `false` and nothing changed otherwise.
    async fn abandon_mail(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Deletes the mails delivered or given up before `finished_before`; how many. Queued
    /// mails are never deleted, however old.
    async fn purge_mails(&self, finished_before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// How many mails are queued, sent and abandoned, and when the oldest queued one came.
    async fn outbox_status(&self) -> Result<OutboxStatus, StoreError>;
}

/// Seals a mail for the outbox: renders it and encrypts the result under a server key, so a
/// stolen database shows no code, link or address of a mail waiting to leave.
pub trait MailSealer: Send + Sync {
    fn seal(&self, mail: &Mail) -> Result<SealedMail, MailError>;
}

/// Why a transport did not deliver a mail. Every failure is retried (within the core's
/// bounds): a relay refusing for good is rare, and a misconfigured relay refuses every mail
/// with the same permanent code, which must not throw the whole queue away.
#[derive(Debug, Error)]
#[error("mail not delivered")]
pub struct DeliveryError(#[source] pub anyhow::Error);

/// Hands sealed mails to the outside world (an SMTP relay, the log). One transport is one
/// connection: a sender runs several side by side.
#[async_trait]
pub trait MailTransport: Send + Sync {
    /// Delivers one mail, within a bounded time.
    async fn deliver(&self, mail: &ClaimedMail) -> Result<(), DeliveryError>;

    /// Nothing was due for a while: release what is held between mails (an idle connection).
    async fn rest(&self) {}
}

/// The time. Tests move a fake one instead of sleeping.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Fresh secrets. Implementations MUST use a cryptographically secure generator.
pub trait SecretGenerator: Send + Sync {
    /// `digits` uniformly random decimal digits (leading zeros kept).
    fn numeric_code(&self, digits: u32) -> String;
    /// A URL-safe token carrying at least 256 bits of randomness.
    fn url_token(&self) -> String;
    /// A recovery code: at least 40 random bits written in characters that cannot be misread
    /// for one another, grouped for reading aloud (e.g. `k7pq2-xm4ht`).
    fn recovery_code(&self) -> String;
}

#[derive(Debug, Error)]
#[error("TOTP engine failure")]
pub struct TotpError(#[source] pub anyhow::Error);

/// Authenticator-app codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps). Secrets leave
/// the engine only sealed, except once, in the provisioning shown at setup.
pub trait TotpEngine: Send + Sync {
    /// A fresh secret (160 bits from a CSPRNG, RFC 4226 §4), sealed for the store.
    fn new_secret(&self) -> Result<SealedTotpSecret, TotpError>;

    /// What an authenticator app needs to enrol `secret` under `account_label`.
    fn provisioning(
        &self,
        secret: &SealedTotpSecret,
        account_label: &str,
    ) -> Result<TotpProvisioning, TotpError>;

    /// The time step `code` belongs to, if it is right for `secret` at `now` or one step
    /// either side of it. Time comes from the caller (the core's clock), never the system.
    /// Refusing a step already used is the caller's job.
    fn verify(
        &self,
        secret: &SealedTotpSecret,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, TotpError>;
}

/// Keyed digests of secrets, so a stolen database reveals neither codes nor tokens, and a
/// 6-digit code cannot be recovered from its digest without the server key.
pub trait SecretDigester: Send + Sync {
    /// Deterministic for a given key: the same text always gives the same digest.
    fn digest(&self, text: &str) -> SecretDigest;
}

#[derive(Debug, Error)]
#[error("password hashing failed")]
pub struct HashingError(#[source] pub anyhow::Error);

/// Slow password hashing (named to stay clear of the argon2 crate's own trait).
/// Implementations MUST keep the work off the async workers and bound how many hashes run
/// at once.
#[async_trait]
pub trait PasswordHashing: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashingError>;

    /// Whether `candidate` matches `hash`. A hash that cannot be parsed does not match.
    async fn verify(&self, candidate: &str, hash: &PasswordHash) -> Result<bool, HashingError>;

    /// A hash of a random password with the production parameters: verifying against it costs
    /// what a real verification costs, so unknown accounts answer in the same time.
    fn dummy_hash(&self) -> &PasswordHash;
}

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessClaims {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub expires_at: DateTime<Utc>,
}

/// An access token as issued.
#[derive(Debug, Clone)]
pub struct IssuedAccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Error)]
pub enum AccessTokenError {
    /// Malformed, badly signed, of another issuer, audience or type, or expired.
    #[error("invalid access token")]
    Invalid,
    #[error("access token could not be issued: {0}")]
    Issue(#[source] anyhow::Error),
}

/// Signed, short-lived access tokens.
pub trait AccessTokens: Send + Sync {
    /// Issues a token for the session, valid from the clock's now for the configured lifetime.
    fn issue(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<IssuedAccessToken, AccessTokenError>;

    /// Checks signature, algorithm, issuer, audience, type and expiry (against the clock).
    fn verify(&self, token: &str) -> Result<AccessClaims, AccessTokenError>;
}

/// Housekeeping of what has expired: one-time tokens, login challenges, sessions, remembered
/// devices and throttle records; accounts never verified; audit events past their retention.
/// Every read already refuses an expired record; this port
/// removes them, so that records made by unauthenticated requests (a login challenge, a
/// throttle record for an unknown address, a reset token) cannot pile up without bound.
#[async_trait]
pub trait ExpiredRecordStore: Send + Sync {
    /// Deletes every one-time token, login challenge, session and remembered device whose
    /// `expires_at`, and every throttle record whose `forgotten_at`, is before `cutoff`;
    /// returns how many records went. MUST keep every record expiring at or after `cutoff`,
    /// and anything else (users, orders, second factors, the audit log).
    async fn delete_expired(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Deletes every user whose email was never verified and who was created before
    /// `registered_before`, with what they own (their one-time tokens, and any challenge,
    /// session or device); returns how many users went. MUST be conditional on the email
    /// still being unverified at the moment of deletion: a user who verifies concurrently is
    /// never deleted. Keeps their audit events and orders (they outlive accounts).
    async fn delete_unverified_users(
        &self,
        registered_before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Deletes every audit event that happened (`at`) before `cutoff`; returns how many went.
    /// MUST keep every event at or after `cutoff`.
    async fn delete_audit_events_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}
