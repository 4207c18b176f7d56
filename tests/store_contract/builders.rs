//! Tests: what every store-contract module shares — the imports, fixed instants, domain values
//! built for the tests, and the race harness.

pub use std::future::Future;
pub use std::sync::Arc;

pub use allomedia::core::attempt_reservation::{ReserveOutcome, reserve_attempt};
pub use allomedia::core::model::{
    AccountStatus, Address, AuditEvent, AuditEventId, AuditFilter, AuditKind, ChallengeId,
    ClientInfo, Currency, DeliveryAddress, DeliveryCode, DeviceId, Email, Locale, LoginChallenge,
    MoveReason, Name, OneTimeToken, Order, OrderFilter, OrderId, OrderLine, OrderNote, OrderStatus,
    OrderTotals, PageRequest, PasswordHash, Phone, PlacedBetween, PriceCents, Product,
    ProductChanges, ProductDescription, ProductFilter, ProductId, ProductName, ProductSearch,
    ProfileChanges, Quantity, RememberedDevice, Role, SealedTotpSecret, SecretDigest, Session,
    SessionId, StatusChange, ThrottleRecord, TokenPurpose, TotpEnrolment, User, UserId, total_of,
};
pub use allomedia::core::policy::LockoutRule;
pub use allomedia::core::ports::{
    AccessChange, AccessChangeOutcome, AttemptOutcome, AttemptThrottleStore, AuditLog,
    ChallengeStore, DeleteUserOutcome, DeviceStore, InsertUserError, OneTimeTokenStore, OrderStore,
    ProductStore, ReplaceCodeOutcome, SecondFactorStore, SessionStore, StoreHealth, UserFilter,
    UserStore,
};
pub use chrono::{DateTime, Duration, TimeZone, Utc};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

pub use crate::Store;

/// A fixed instant with milliseconds, the precision every store keeps: 2100-01-01. Far in
/// the future, so that a store which deletes expired records on its own (MongoDB's TTL
/// monitor, against the real clock) never deletes a test's records while it runs.
pub fn t0() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(4_102_444_800_123).unwrap()
}

pub fn digest(byte: u8) -> SecretDigest {
    SecretDigest::from_bytes([byte; 32])
}

/// A user with every optional detail filled in.
pub fn user_with_email(email: &str) -> User {
    User {
        id: UserId::new(),
        name: Name::parse("Amina Alaoui").unwrap(),
        email: Email::parse(email).unwrap(),
        phone: Some(Phone::parse("+212 6 12 34 56 78").unwrap()),
        address: Some(Address::parse("12 rue Atlas\nCasablanca").unwrap()),
        role: Role::Courier,
        status: AccountStatus::PendingApproval,
        password_hash: PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        ),
        email_verified_at: Some(t0() + Duration::minutes(5)),
        // Not the default language, so a store that drops it is caught.
        locale: Locale::En,
        created_at: t0(),
        updated_at: t0() + Duration::milliseconds(7),
    }
}

/// Stores a user with this email, role and status.
pub async fn a_stored_account<S: Store>(
    store: &S,
    email: &str,
    role: Role,
    status: AccountStatus,
) -> User {
    let user = User {
        role,
        status,
        ..user_with_email(email)
    };
    store.insert_user(&user).await.unwrap();
    user
}

pub async fn an_active_manager<S: Store>(store: &S, email: &str) -> User {
    a_stored_account(store, email, Role::Manager, AccountStatus::Active).await
}

/// The ids of `users`, newest first — the order every listing promises.
pub fn newest_first(users: &[&User]) -> Vec<UserId> {
    let mut ids: Vec<UserId> = users.iter().map(|user| user.id).collect();
    ids.sort_by_key(|id| std::cmp::Reverse(id.as_uuid()));
    ids
}

pub fn ids(users: &[User]) -> Vec<UserId> {
    users.iter().map(|user| user.id).collect()
}

pub async fn a_stored_user<S: Store>(store: &S, email: &str) -> User {
    let user = user_with_email(email);
    store.insert_user(&user).await.unwrap();
    user
}

pub fn token_for(user: &User, digest: SecretDigest, expires_at: DateTime<Utc>) -> OneTimeToken {
    OneTimeToken {
        digest,
        purpose: TokenPurpose::VerifyEmail,
        user_id: user.id,
        created_at: t0(),
        expires_at,
    }
}

/// An open challenge, its code sent at `t0`, valid ten minutes.
pub fn challenge_for(user: &User) -> LoginChallenge {
    LoginChallenge {
        id: ChallengeId::new(),
        user_id: user.id,
        code_digest: digest(1),
        code_sent_at: t0(),
        attempts: 0,
        expires_at: t0() + Duration::minutes(10),
        completed_at: None,
    }
}

pub async fn a_stored_challenge<S: Store>(
    store: &S,
    user: &User,
    change: impl FnOnce(&mut LoginChallenge),
) -> LoginChallenge {
    let mut challenge = challenge_for(user);
    change(&mut challenge);
    store.insert_challenge(&challenge).await.unwrap();
    challenge
}

/// A live session at generation 0, from a known client.
pub fn session_for(user: &User) -> Session {
    Session {
        id: SessionId::new(),
        user_id: user.id,
        refresh_generation: 0,
        rotated_at: None,
        created_at: t0(),
        last_used_at: t0(),
        expires_at: t0() + Duration::days(30),
        revoked_at: None,
        client: ClientInfo {
            ip: Some("203.0.113.7".to_owned()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".to_owned()),
        },
    }
}

pub async fn a_stored_session<S: Store>(store: &S, user: &User) -> Session {
    let session = session_for(user);
    store.insert_session(&session).await.unwrap();
    session
}

/// An available product with a description, created at `t0`.
pub fn product_named(name: &str) -> Product {
    Product {
        id: ProductId::new(),
        name: ProductName::parse(name).unwrap(),
        description: Some(ProductDescription::parse("Fait maison,\navec amour").unwrap()),
        price: PriceCents::new(4500).unwrap(),
        available: true,
        created_at: t0(),
        updated_at: t0() + Duration::milliseconds(3),
    }
}

pub async fn a_stored_product<S: Store>(store: &S, name: &str) -> Product {
    let product = product_named(name);
    store.insert_product(&product).await.unwrap();
    product
}

pub fn searching(text: &str) -> ProductFilter {
    ProductFilter {
        available: None,
        name_contains: Some(ProductSearch::parse(text).unwrap()),
    }
}

pub fn names(products: &[Product]) -> Vec<&str> {
    products
        .iter()
        .map(|product| product.name.as_str())
        .collect()
}

/// A pending order of `client` for two lines, placed at `t0`.
pub fn order_of(client: UserId) -> Order {
    let lines = vec![
        OrderLine::new(
            ProductId::new(),
            ProductName::parse("Tajine").unwrap(),
            PriceCents::new(4500).unwrap(),
            Quantity::new(2).unwrap(),
        )
        .unwrap(),
        OrderLine::new(
            ProductId::new(),
            ProductName::parse("Thé à la menthe").unwrap(),
            PriceCents::new(1200).unwrap(),
            Quantity::new(1).unwrap(),
        )
        .unwrap(),
    ];
    Order {
        id: OrderId::new(),
        client_id: client,
        courier_id: None,
        status: OrderStatus::Pending,
        total_cents: total_of(&lines).unwrap(),
        lines,
        currency: Currency::parse("MAD").unwrap(),
        delivery_address: DeliveryAddress::parse("12 rue Atlas\nCasablanca").unwrap(),
        note: None,
        delivery_code: DeliveryCode::parse("042917").unwrap(),
        delivery_code_attempts: 0,
        version: 0,
        created_at: t0(),
        updated_at: t0(),
        history: Vec::new(),
    }
}

pub async fn a_stored_order<S: Store>(store: &S, client: UserId) -> Order {
    let order = order_of(client);
    store.insert_order(&order).await.unwrap();
    order
}

/// `order` moved to `to` by a manager an hour after `t0`, one version later.
pub fn moved(order: &Order, to: OrderStatus) -> Order {
    let at = t0() + Duration::hours(1);
    let mut next = order.clone();
    next.history.push(StatusChange {
        at,
        actor_id: UserId::new(),
        actor_role: Role::Manager,
        from: order.status,
        to,
        reason: Some(MoveReason::parse("kitchen closed").unwrap()),
    });
    next.status = to;
    next.updated_at = at;
    next.version = order.version + 1;
    next
}

pub fn order_ids(orders: &[Order]) -> Vec<OrderId> {
    orders.iter().map(|order| order.id).collect()
}

/// A device of `user` remembered at `t0`, valid thirty days, its token digest `digest(n)`.
pub fn device_for(user: &User, n: u8) -> RememberedDevice {
    RememberedDevice {
        id: DeviceId::new(),
        user_id: user.id,
        token_digest: digest(n),
        created_at: t0(),
        last_used_at: None,
        expires_at: t0() + Duration::days(30),
        client: ClientInfo {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("Firefox/140".into()),
        },
    }
}

pub async fn a_stored_device<S: Store>(store: &S, user: &User, n: u8) -> RememberedDevice {
    let device = device_for(user, n);
    store.insert_device(&device).await.unwrap();
    device
}

/// Runs `attempt` `contenders` times at once — released together by a barrier — and returns
/// every outcome, in no particular order. `attempt` receives its contender's index.
pub async fn race<S, T, Fut>(
    store: &Arc<S>,
    contenders: usize,
    attempt: impl Fn(Arc<S>, usize) -> Fut + Send + Sync + 'static,
) -> Vec<T>
where
    S: Store,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let attempt = Arc::new(attempt);
    let start = Arc::new(Barrier::new(contenders));
    let mut tasks = JoinSet::new();
    for index in 0..contenders {
        let (store, start, attempt) = (Arc::clone(store), Arc::clone(&start), Arc::clone(&attempt));
        tasks.spawn(async move {
            start.wait().await;
            attempt(store, index).await
        });
    }
    tasks.join_all().await
}
