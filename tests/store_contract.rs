//! Tests: the store contract — every obligation the store ports document, written once and run
//! against every store adapter, plus what only the SQLite store promises (its file) and what
//! only the MongoDB store promises (its indexes and documents).
//!
//! Adding a backend is one line at the bottom of the contract section:
//! `store_contract!(name, async { (fresh_store, anything_to_keep_alive) });`, or
//! `store_contract!(name, when available async { … })` for a backend whose server this machine
//! may lack (MongoDB): each of its tests then either runs or prints why it was skipped.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use allomedia::core::model::{
    AccountStatus, Address, AuditEvent, AuditEventId, AuditFilter, AuditKind, ChallengeId,
    ClientInfo, Currency, DeliveryAddress, DeliveryCode, DeviceId, Email, LoginChallenge,
    MoveReason, Name, OneTimeToken, Order, OrderFilter, OrderId, OrderLine, OrderNote, OrderStatus,
    OrderTotals, PageRequest, PasswordHash, Phone, PlacedBetween, PriceCents, Product,
    ProductChanges, ProductDescription, ProductFilter, ProductId, ProductName, ProductSearch,
    ProfileChanges, Quantity, RememberedDevice, Role, SealedTotpSecret, SecretDigest, Session,
    SessionId, StatusChange, TokenPurpose, TotpEnrolment, User, UserId, total_of,
};
use allomedia::core::policy::LockoutRule;
use allomedia::core::ports::{
    AccessChange, AccessChangeOutcome, AttemptOutcome, AttemptThrottleStore, AuditLog,
    ChallengeStore, DeleteUserOutcome, DeviceStore, InsertUserError, OneTimeTokenStore, OrderStore,
    ProductStore, ReplaceCodeOutcome, ReserveOutcome, SecondFactorStore, SessionStore, StoreHealth,
    UserFilter, UserStore,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// Everything a store adapter implements.
trait Store:
    UserStore
    + OneTimeTokenStore
    + ChallengeStore
    + SessionStore
    + AttemptThrottleStore
    + SecondFactorStore
    + DeviceStore
    + ProductStore
    + OrderStore
    + AuditLog
    + StoreHealth
    + 'static
{
}

impl<S> Store for S where
    S: UserStore
        + OneTimeTokenStore
        + ChallengeStore
        + SessionStore
        + AttemptThrottleStore
        + SecondFactorStore
        + DeviceStore
        + ProductStore
        + OrderStore
        + AuditLog
        + StoreHealth
        + 'static
{
}

/// Why a backend's server is missing on this machine.
struct Unavailable(&'static str);

impl Unavailable {
    /// Says that `test` did not run, visibly: libtest captures `eprintln!` of passing tests,
    /// but not what is written to the stderr handle itself, so the line shows in every
    /// `cargo test` log. One `write_all`, so that parallel tests cannot cut the line apart.
    fn report(self, test: &str) {
        let line = format!("skipped: {} — {test}\n", self.0);
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

/// Expands every contract test into a module named after the backend. `$fresh_store` is an
/// `async` expression giving `(store, keep_alive)` — or, after `when available`,
/// `Result<(store, keep_alive), Unavailable>`; it is evaluated anew for each test, and
/// `keep_alive` (a temporary folder, a container) lives until the test ends.
///
/// Every test runs on a multi-threaded runtime: the race tests need real parallelism, and
/// using it for all means a test cannot silently lose it. A contract function missing from
/// this list is dead code, which `clippy -D warnings` refuses.
macro_rules! store_contract {
    ($backend:ident, when available $fresh_store:expr) => {
        store_contract!(@tests $backend, $fresh_store);
    };
    ($backend:ident, $fresh_store:expr) => {
        store_contract!(@tests $backend, async { Ok::<_, Unavailable>($fresh_store.await) });
    };
    (@tests $backend:ident, $fresh_store:expr) => {
        store_contract!(@expand $backend, $fresh_store, [
            an_inserted_user_reads_back_with_every_field_by_id_and_by_email,
            a_user_without_optional_details_reads_back_without_them,
            unknown_users_are_absent,
            inserting_a_second_user_with_the_same_email_fails_with_email_taken,
            of_sixteen_concurrent_inserts_with_one_email_exactly_one_succeeds,
            marking_an_email_verified_keeps_the_first_time,
            marking_an_unknown_user_verified_is_not_an_error,
            updating_a_profile_changes_only_the_present_fields,
            updating_a_profile_with_a_present_none_clears_the_field,
            updating_an_unknown_user_returns_none,
    a_manager_can_be_demoted_while_another_one_is_active, changing_access_sets_the_present_fields_and_returns_the_user, changing_the_access_of_an_unknown_user_is_not_found, deleting_a_user_removes_their_tokens_challenges_sessions_and_second_factors, deleting_an_unknown_user_is_not_found, listing_users_is_newest_first_one_page_after_another, listing_users_keeps_only_those_matching_every_filter, of_two_concurrent_deletions_of_the_only_two_managers_exactly_one_wins, of_two_concurrent_demotions_of_the_only_two_managers_exactly_one_wins, searching_users_matches_part_of_a_name_in_any_case_or_of_an_email, setting_a_password_hash_replaces_it_and_stamps_the_update, setting_the_password_hash_of_an_unknown_user_returns_false, the_only_active_manager_can_be_neither_demoted_nor_suspended, the_only_active_manager_cannot_be_deleted,
            consuming_a_token_twice_fails_the_second_time,
            a_token_is_refused_from_its_expiry_on,
            an_unknown_token_is_not_consumed,
            of_sixteen_concurrent_consumptions_of_one_token_exactly_one_succeeds,
            peeking_at_a_token_names_its_user_and_leaves_it_usable,
            peeking_refuses_what_consuming_refuses,
            an_inserted_challenge_reads_back_with_every_field,
            attempts_are_counted_up_to_the_maximum_then_exhausted,
            attempts_on_an_expired_challenge_are_closed,
            attempts_on_a_completed_challenge_are_closed,
            attempts_on_an_unknown_challenge_are_closed,
            an_exhausted_challenge_that_expired_is_closed,
            of_twenty_concurrent_attempts_with_five_left_exactly_five_are_counted,
            completing_a_challenge_succeeds_once,
            completing_an_unknown_challenge_fails,
            of_sixteen_concurrent_completions_exactly_one_succeeds,
            a_code_is_replaced_once_the_cooldown_has_passed,
            a_code_is_not_replaced_within_the_cooldown,
            replacing_the_code_of_a_completed_or_expired_challenge_is_refused,
            replacing_the_code_of_an_exhausted_challenge_is_refused,
            replacing_the_code_of_an_unknown_challenge_is_refused,
            of_sixteen_concurrent_code_replacements_exactly_one_succeeds,
            an_inserted_session_reads_back_with_every_field,
            advancing_the_refresh_generation_needs_the_current_generation,
            a_revoked_session_does_not_advance,
            an_unknown_session_does_not_advance,
            a_session_at_the_last_generation_does_not_wrap_around,
            of_sixteen_concurrent_rotations_from_one_generation_exactly_one_succeeds,
            revoking_a_session_succeeds_once,
            revoking_an_unknown_session_fails,
            revoking_a_users_sessions_counts_them_and_spares_other_users,
            revoking_a_users_other_sessions_keeps_the_one_named,
            a_users_live_sessions_are_listed_newest_first_without_others,
            a_users_live_sessions_are_paged_by_id,
            attempts_are_reserved_until_the_limit_locks_the_key,
            a_locked_key_reports_when_its_lock_ends_and_counts_nothing,
            each_attempt_after_a_lock_locks_again_for_twice_as_long_up_to_the_cap,
            clearing_a_key_lets_it_start_afresh,
            a_key_left_alone_long_enough_is_forgotten,
            keys_are_throttled_independently,
            of_two_hundred_concurrent_reservations_exactly_the_limit_are_reserved,
            a_working_store_answers_the_ping,
            a_pending_totp_enrolment_reads_back_and_a_new_setup_replaces_it,
            a_pending_totp_is_not_put_over_an_enabled_one,
            enabling_totp_needs_the_pending_secret_and_succeeds_once,
            of_sixteen_concurrent_enablings_exactly_one_succeeds,
            a_totp_step_is_accepted_only_above_the_last_used_one,
            a_totp_step_is_not_used_while_the_enrolment_is_pending,
            of_sixteen_concurrent_uses_of_one_totp_step_exactly_one_succeeds,
            removing_totp_removes_its_recovery_codes_and_spares_other_users,
            a_recovery_code_is_consumed_once_and_only_for_its_user,
            replacing_recovery_codes_kills_the_old_ones,
            of_sixteen_concurrent_uses_of_one_recovery_code_exactly_one_succeeds,
            a_remembered_device_reads_back_with_every_field,
            a_device_is_used_only_before_its_expiry,
            a_device_is_not_used_for_another_user,
            devices_are_listed_newest_first_page_by_page_without_expired_ones,
            a_device_is_deleted_only_by_its_user,
            forgetting_devices_counts_them_and_spares_other_users,
            an_inserted_product_reads_back_with_every_field,
            a_product_without_a_description_reads_back_without_it,
            unknown_products_are_absent,
            products_are_listed_newest_first_a_page_at_a_time,
            products_are_filtered_by_availability,
            a_name_search_is_a_case_insensitive_substring,
            wildcards_and_regex_characters_in_a_search_match_only_themselves,
            updating_a_product_changes_only_the_present_fields,
            updating_a_product_with_a_present_none_clears_its_description,
            updating_an_unknown_product_returns_none,
            deleting_a_product_succeeds_once,
            an_inserted_order_reads_back_with_every_field,
            an_order_without_courier_note_or_history_reads_back_without_them,
            unknown_orders_are_absent,
            orders_are_listed_newest_first_a_page_at_a_time,
            orders_are_filtered_by_client_courier_and_status,
            updating_an_order_needs_the_version_it_was_read_at,
            updating_an_order_writes_only_the_workflow_fields,
            updating_an_unknown_order_fails,
            of_sixteen_concurrent_updates_from_one_version_exactly_one_wins,
            order_totals_count_statuses_revenue_and_deliveries_per_courier,
            order_totals_cover_only_orders_placed_within_the_period,
            order_totals_of_no_orders_are_empty,
            delivery_code_attempts_are_reserved_up_to_the_maximum,
            of_sixteen_concurrent_delivery_code_attempts_with_five_allowed_exactly_five_are_reserved,
            an_audit_event_reads_back_with_every_field_and_every_absent_one,
            every_kind_of_audit_event_reads_back_as_itself,
            recording_an_event_id_twice_fails_and_keeps_the_first,
            audit_events_are_listed_newest_first_by_id_one_page_after_another,
            audit_events_are_filtered_by_user_by_kind_by_both_or_not_at_all,
            filtered_audit_events_are_paged_below_the_cursor,
            events_about_no_account_are_listed_only_without_a_user_filter,
            deleting_a_user_keeps_their_audit_events,
            of_thirty_two_concurrent_records_every_one_is_listed,
        ]);
    };
    (@expand $backend:ident, $fresh_store:expr, [$($test:ident),* $(,)?]) => {
        mod $backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let (store, _keep_alive) = match $fresh_store.await {
                        Ok(fresh) => fresh,
                        Err(unavailable) => {
                            let test = concat!(stringify!($backend), "::", stringify!($test));
                            return unavailable.report(test);
                        }
                    };
                    contract::$test(Arc::new(store)).await;
                }
            )*
        }
    };
}

store_contract!(memory, async {
    (allomedia::adapters::memory::MemoryStore::new(), ())
});

store_contract!(sqlite, async {
    let folder = tempfile::tempdir().unwrap();
    let store =
        allomedia::adapters::sqlite::SqliteStore::open(&folder.path().join("store.db")).unwrap();
    (store, folder)
});

store_contract!(mongo, when available mongo_server::fresh_store());

// ---------------------------------------------------------------------------------------------
// Building domain values
// ---------------------------------------------------------------------------------------------

/// A fixed instant with milliseconds, the precision every store keeps: 2100-01-01. Far in
/// the future, so that a store which deletes expired records on its own (MongoDB's TTL
/// monitor, against the real clock) never deletes a test's records while it runs.
fn t0() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(4_102_444_800_123).unwrap()
}

fn digest(byte: u8) -> SecretDigest {
    SecretDigest::from_bytes([byte; 32])
}

/// A user with every optional detail filled in.
fn user_with_email(email: &str) -> User {
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
        created_at: t0(),
        updated_at: t0() + Duration::milliseconds(7),
    }
}

/// Stores a user with this email, role and status.
async fn a_stored_account<S: Store>(
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

async fn an_active_manager<S: Store>(store: &S, email: &str) -> User {
    a_stored_account(store, email, Role::Manager, AccountStatus::Active).await
}

/// The ids of `users`, newest first — the order every listing promises.
fn newest_first(users: &[&User]) -> Vec<UserId> {
    let mut ids: Vec<UserId> = users.iter().map(|user| user.id).collect();
    ids.sort_by_key(|id| std::cmp::Reverse(id.as_uuid()));
    ids
}

fn ids(users: &[User]) -> Vec<UserId> {
    users.iter().map(|user| user.id).collect()
}

async fn a_stored_user<S: Store>(store: &S, email: &str) -> User {
    let user = user_with_email(email);
    store.insert_user(&user).await.unwrap();
    user
}

fn token_for(user: &User, digest: SecretDigest, expires_at: DateTime<Utc>) -> OneTimeToken {
    OneTimeToken {
        digest,
        purpose: TokenPurpose::VerifyEmail,
        user_id: user.id,
        created_at: t0(),
        expires_at,
    }
}

/// An open challenge, its code sent at `t0`, valid ten minutes.
fn challenge_for(user: &User) -> LoginChallenge {
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

async fn a_stored_challenge<S: Store>(
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
fn session_for(user: &User) -> Session {
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

async fn a_stored_session<S: Store>(store: &S, user: &User) -> Session {
    let session = session_for(user);
    store.insert_session(&session).await.unwrap();
    session
}

/// An available product with a description, created at `t0`.
fn product_named(name: &str) -> Product {
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

async fn a_stored_product<S: Store>(store: &S, name: &str) -> Product {
    let product = product_named(name);
    store.insert_product(&product).await.unwrap();
    product
}

fn searching(text: &str) -> ProductFilter {
    ProductFilter {
        available: None,
        name_contains: Some(ProductSearch::parse(text).unwrap()),
    }
}

fn names(products: &[Product]) -> Vec<&str> {
    products
        .iter()
        .map(|product| product.name.as_str())
        .collect()
}

/// A pending order of `client` for two lines, placed at `t0`.
fn order_of(client: UserId) -> Order {
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

async fn a_stored_order<S: Store>(store: &S, client: UserId) -> Order {
    let order = order_of(client);
    store.insert_order(&order).await.unwrap();
    order
}

/// `order` moved to `to` by a manager an hour after `t0`, one version later.
fn moved(order: &Order, to: OrderStatus) -> Order {
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

fn order_ids(orders: &[Order]) -> Vec<OrderId> {
    orders.iter().map(|order| order.id).collect()
}

/// Runs `attempt` `contenders` times at once — released together by a barrier — and returns
/// every outcome, in no particular order. `attempt` receives its contender's index.
async fn race<S, T, Fut>(
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

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

mod contract {
    use super::*;

    // --- UserStore ---------------------------------------------------------------------------

    pub async fn an_inserted_user_reads_back_with_every_field_by_id_and_by_email<S: Store>(
        store: Arc<S>,
    ) {
        let user = user_with_email("amina@example.com");

        store.insert_user(&user).await.unwrap();

        assert_eq!(store.user_by_id(user.id).await.unwrap(), Some(user.clone()));
        assert_eq!(store.user_by_email(&user.email).await.unwrap(), Some(user));
    }

    pub async fn a_user_without_optional_details_reads_back_without_them<S: Store>(store: Arc<S>) {
        let user = User {
            phone: None,
            address: None,
            email_verified_at: None,
            role: Role::Client,
            status: AccountStatus::Active,
            ..user_with_email("amina@example.com")
        };

        store.insert_user(&user).await.unwrap();

        assert_eq!(store.user_by_id(user.id).await.unwrap(), Some(user));
    }

    pub async fn unknown_users_are_absent<S: Store>(store: Arc<S>) {
        a_stored_user(&*store, "amina@example.com").await;
        let stranger = Email::parse("nobody@example.com").unwrap();

        let by_id = store.user_by_id(UserId::new()).await.unwrap();
        let by_email = store.user_by_email(&stranger).await.unwrap();

        assert_eq!(by_id, None);
        assert_eq!(by_email, None);
    }

    pub async fn inserting_a_second_user_with_the_same_email_fails_with_email_taken<S: Store>(
        store: Arc<S>,
    ) {
        let first = a_stored_user(&*store, "amina@example.com").await;
        let second = User {
            name: Name::parse("Someone Else").unwrap(),
            ..user_with_email("amina@example.com")
        };

        let outcome = store.insert_user(&second).await;

        assert!(
            matches!(outcome, Err(InsertUserError::EmailTaken)),
            "{outcome:?}"
        );
        assert_eq!(
            store.user_by_email(&first.email).await.unwrap(),
            Some(first)
        );
        assert_eq!(store.user_by_id(second.id).await.unwrap(), None);
    }

    pub async fn of_sixteen_concurrent_inserts_with_one_email_exactly_one_succeeds<S: Store>(
        store: Arc<S>,
    ) {
        let contenders: Vec<User> = (0..16)
            .map(|_| user_with_email("amina@example.com"))
            .collect();
        let shared = Arc::new(contenders.clone());

        let outcomes = race(&store, 16, move |store, index| {
            let user = shared[index].clone();
            async move { (user.id, store.insert_user(&user).await) }
        })
        .await;

        let winners: Vec<UserId> = outcomes
            .iter()
            .filter(|(_, outcome)| outcome.is_ok())
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|(_, outcome)| matches!(outcome, Ok(()) | Err(InsertUserError::EmailTaken))),
            "{outcomes:?}"
        );
        let stored = store
            .user_by_email(&contenders[0].email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.id, winners[0]);
    }

    pub async fn marking_an_email_verified_keeps_the_first_time<S: Store>(store: Arc<S>) {
        let user = User {
            email_verified_at: None,
            ..user_with_email("amina@example.com")
        };
        store.insert_user(&user).await.unwrap();
        let first = t0() + Duration::hours(1);

        store.mark_email_verified(user.id, first).await.unwrap();
        store
            .mark_email_verified(user.id, first + Duration::hours(1))
            .await
            .unwrap();

        let stored = store.user_by_id(user.id).await.unwrap().unwrap();
        assert_eq!(stored.email_verified_at, Some(first));
    }

    pub async fn marking_an_unknown_user_verified_is_not_an_error<S: Store>(store: Arc<S>) {
        let outcome = store.mark_email_verified(UserId::new(), t0()).await;

        assert!(outcome.is_ok(), "{outcome:?}");
    }

    pub async fn updating_a_profile_changes_only_the_present_fields<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let changes = ProfileChanges {
            name: Some(Name::parse("Amina B.").unwrap()),
            ..ProfileChanges::default()
        };
        let at = t0() + Duration::days(1);

        let updated = store.update_profile(user.id, &changes, at).await.unwrap();

        let expected = User {
            name: Name::parse("Amina B.").unwrap(),
            updated_at: at,
            ..user.clone()
        };
        assert_eq!(updated, Some(expected.clone()));
        assert_eq!(store.user_by_id(user.id).await.unwrap(), Some(expected));
    }

    pub async fn updating_a_profile_with_a_present_none_clears_the_field<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let new_address = Address::parse("3 avenue Hassan II\nRabat").unwrap();
        let changes = ProfileChanges {
            name: None,
            phone: Some(None),
            address: Some(Some(new_address.clone())),
        };
        let at = t0() + Duration::days(1);

        let updated = store.update_profile(user.id, &changes, at).await.unwrap();

        let expected = User {
            phone: None,
            address: Some(new_address),
            updated_at: at,
            ..user.clone()
        };
        assert_eq!(updated, Some(expected.clone()));
        assert_eq!(store.user_by_id(user.id).await.unwrap(), Some(expected));
    }

    pub async fn updating_an_unknown_user_returns_none<S: Store>(store: Arc<S>) {
        let changes = ProfileChanges {
            name: Some(Name::parse("Ghost").unwrap()),
            ..ProfileChanges::default()
        };

        let updated = store
            .update_profile(UserId::new(), &changes, t0())
            .await
            .unwrap();

        assert_eq!(updated, None);
    }

    // --- UserStore: managers' administration -------------------------------------------------

    pub async fn listing_users_is_newest_first_one_page_after_another<S: Store>(store: Arc<S>) {
        let a = a_stored_user(&*store, "a@example.com").await;
        let b = a_stored_user(&*store, "b@example.com").await;
        let c = a_stored_user(&*store, "c@example.com").await;
        let all = newest_first(&[&a, &b, &c]);
        let everyone = UserFilter::default();

        let first = store
            .list_users(&everyone, PageRequest::first(1))
            .await
            .unwrap();
        let after_first = PageRequest {
            limit: 1,
            before: Some(all[0].as_uuid()),
        };
        let rest = store.list_users(&everyone, after_first).await.unwrap();

        // A page fetches one more than its limit, to know whether another follows.
        assert_eq!(ids(&first), all[..2]);
        assert_eq!(ids(&rest), all[1..]);
        assert_eq!(first[0], store.user_by_id(all[0]).await.unwrap().unwrap());
    }

    pub async fn listing_users_keeps_only_those_matching_every_filter<S: Store>(store: Arc<S>) {
        let pending = a_stored_account(
            &*store,
            "pending@example.com",
            Role::Courier,
            AccountStatus::PendingApproval,
        )
        .await;
        let active_courier = a_stored_account(
            &*store,
            "rider@example.com",
            Role::Courier,
            AccountStatus::Active,
        )
        .await;
        let suspended_client = a_stored_account(
            &*store,
            "client@example.com",
            Role::Client,
            AccountStatus::Suspended,
        )
        .await;
        let list = |filter: UserFilter| {
            let store = Arc::clone(&store);
            async move {
                ids(&store
                    .list_users(&filter, PageRequest::first(10))
                    .await
                    .unwrap())
            }
        };

        let couriers = list(UserFilter {
            role: Some(Role::Courier),
            ..UserFilter::default()
        })
        .await;
        let waiting_couriers = list(UserFilter {
            role: Some(Role::Courier),
            status: Some(AccountStatus::PendingApproval),
            ..UserFilter::default()
        })
        .await;
        let suspended = list(UserFilter {
            status: Some(AccountStatus::Suspended),
            ..UserFilter::default()
        })
        .await;
        let managers = list(UserFilter {
            role: Some(Role::Manager),
            ..UserFilter::default()
        })
        .await;

        assert_eq!(couriers, newest_first(&[&pending, &active_courier]));
        assert_eq!(waiting_couriers, vec![pending.id]);
        assert_eq!(suspended, vec![suspended_client.id]);
        assert!(managers.is_empty());
    }

    pub async fn searching_users_matches_part_of_a_name_in_any_case_or_of_an_email<S: Store>(
        store: Arc<S>,
    ) {
        let amina = User {
            name: Name::parse("Amina Alaoui").unwrap(),
            ..user_with_email("amina@example.com")
        };
        store.insert_user(&amina).await.unwrap();
        let omar = User {
            name: Name::parse("Omar Benali").unwrap(),
            ..user_with_email("o.benali@shop.ma")
        };
        store.insert_user(&omar).await.unwrap();
        let search = |text: &str| {
            let store = Arc::clone(&store);
            let filter = UserFilter {
                search: Some(text.to_owned()),
                ..UserFilter::default()
            };
            async move {
                ids(&store
                    .list_users(&filter, PageRequest::first(10))
                    .await
                    .unwrap())
            }
        };

        assert_eq!(search("alaoui").await, vec![amina.id]);
        assert_eq!(search("shop.ma").await, vec![omar.id]);
        assert_eq!(search("benali").await, vec![omar.id]);
        // Plain text, not a pattern: neither `.` nor `%` is a wildcard.
        assert_eq!(search("o.b").await, vec![omar.id]);
        assert!(search("%").await.is_empty());
        assert!(search("a.ina").await.is_empty());
    }

    pub async fn changing_access_sets_the_present_fields_and_returns_the_user<S: Store>(
        store: Arc<S>,
    ) {
        let courier = a_stored_user(&*store, "rider@example.com").await;
        let at = t0() + Duration::hours(3);
        let approve = AccessChange {
            status: Some(AccountStatus::Active),
            ..AccessChange::default()
        };

        let outcome = store.change_access(courier.id, approve, at).await.unwrap();

        let expected = User {
            status: AccountStatus::Active,
            updated_at: at,
            ..courier.clone()
        };
        assert_eq!(outcome, AccessChangeOutcome::Changed(expected.clone()));
        assert_eq!(store.user_by_id(courier.id).await.unwrap(), Some(expected));
    }

    pub async fn changing_the_access_of_an_unknown_user_is_not_found<S: Store>(store: Arc<S>) {
        let promote = AccessChange {
            role: Some(Role::Manager),
            ..AccessChange::default()
        };

        let outcome = store
            .change_access(UserId::new(), promote, t0())
            .await
            .unwrap();

        assert_eq!(outcome, AccessChangeOutcome::NotFound);
    }

    pub async fn the_only_active_manager_can_be_neither_demoted_nor_suspended<S: Store>(
        store: Arc<S>,
    ) {
        let boss = an_active_manager(&*store, "boss@example.com").await;
        a_stored_account(
            &*store,
            "former@example.com",
            Role::Manager,
            AccountStatus::Suspended,
        )
        .await;
        let later = t0() + Duration::hours(1);
        let changes = [
            AccessChange {
                role: Some(Role::Client),
                status: None,
            },
            AccessChange {
                role: None,
                status: Some(AccountStatus::Suspended),
            },
            AccessChange {
                role: None,
                status: Some(AccountStatus::PendingApproval),
            },
        ];

        for change in changes {
            let outcome = store.change_access(boss.id, change, later).await.unwrap();
            assert_eq!(
                outcome,
                AccessChangeOutcome::LastActiveManager,
                "{change:?}"
            );
        }
        let harmless = AccessChange {
            role: Some(Role::Manager),
            status: Some(AccountStatus::Active),
        };
        let kept = store.change_access(boss.id, harmless, later).await.unwrap();

        assert!(matches!(kept, AccessChangeOutcome::Changed(_)), "{kept:?}");
        let stored = store.user_by_id(boss.id).await.unwrap().unwrap();
        assert!(stored.is_active_manager());
    }

    pub async fn a_manager_can_be_demoted_while_another_one_is_active<S: Store>(store: Arc<S>) {
        let first = an_active_manager(&*store, "first@example.com").await;
        an_active_manager(&*store, "second@example.com").await;
        let demote = AccessChange {
            role: Some(Role::Courier),
            ..AccessChange::default()
        };

        let outcome = store.change_access(first.id, demote, t0()).await.unwrap();

        let AccessChangeOutcome::Changed(demoted) = outcome else {
            panic!("demotion refused: {outcome:?}");
        };
        assert_eq!(demoted.role, Role::Courier);
        assert_eq!(demoted.status, AccountStatus::Active);
    }

    pub async fn of_two_concurrent_demotions_of_the_only_two_managers_exactly_one_wins<S: Store>(
        store: Arc<S>,
    ) {
        let first = an_active_manager(&*store, "first@example.com").await;
        let second = an_active_manager(&*store, "second@example.com").await;
        let managers = [first.id, second.id];

        let outcomes = race(&store, 2, move |store, index| async move {
            let demote = AccessChange {
                role: Some(Role::Client),
                ..AccessChange::default()
            };
            store
                .change_access(managers[index], demote, t0())
                .await
                .unwrap()
        })
        .await;

        let won = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, AccessChangeOutcome::Changed(_)))
            .count();
        let refused = outcomes
            .iter()
            .filter(|outcome| **outcome == AccessChangeOutcome::LastActiveManager)
            .count();
        assert_eq!((won, refused), (1, 1), "{outcomes:?}");
        let managers_left = store
            .list_users(
                &UserFilter {
                    role: Some(Role::Manager),
                    status: Some(AccountStatus::Active),
                    ..UserFilter::default()
                },
                PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(managers_left.len(), 1);
    }

    pub async fn deleting_a_user_removes_their_tokens_challenges_sessions_and_second_factors<
        S: Store,
    >(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let omar = a_stored_user(&*store, "omar@example.com").await;
        let token = token_for(&amina, digest(9), t0() + Duration::days(1));
        store.insert_token(&token).await.unwrap();
        let challenge = a_stored_challenge(&*store, &amina, |_| {}).await;
        let session = a_stored_session(&*store, &amina).await;
        let omars_session = a_stored_session(&*store, &omar).await;
        let secret = SealedTotpSecret::from_bytes(vec![7; 49]);
        assert!(
            store
                .put_pending_totp(amina.id, &secret, t0())
                .await
                .unwrap()
        );
        store
            .replace_recovery_codes(amina.id, &[digest(3), digest(4)], t0())
            .await
            .unwrap();
        a_stored_device(&*store, &amina, 10).await;

        let outcome = store.delete_user(amina.id).await.unwrap();

        assert_eq!(outcome, DeleteUserOutcome::Deleted);
        assert_eq!(store.user_by_id(amina.id).await.unwrap(), None);
        assert_eq!(store.user_by_email(&amina.email).await.unwrap(), None);
        assert_eq!(store.session(session.id).await.unwrap(), None);
        assert_eq!(store.challenge(challenge.id).await.unwrap(), None);
        assert_eq!(store.totp_enrolment(amina.id).await.unwrap(), None);
        assert_eq!(store.unused_recovery_codes(amina.id).await.unwrap(), 0);
        assert_eq!(
            store.forget_devices(amina.id).await.unwrap(),
            0,
            "devices go too"
        );
        let consumed = store
            .consume_token(&token.digest, token.purpose, t0())
            .await
            .unwrap();
        assert_eq!(consumed, None);
        assert_eq!(
            store.session(omars_session.id).await.unwrap(),
            Some(omars_session)
        );
        // The address is free again.
        a_stored_user(&*store, "amina@example.com").await;
    }

    pub async fn deleting_an_unknown_user_is_not_found<S: Store>(store: Arc<S>) {
        a_stored_user(&*store, "amina@example.com").await;

        let outcome = store.delete_user(UserId::new()).await.unwrap();

        assert_eq!(outcome, DeleteUserOutcome::NotFound);
    }

    pub async fn the_only_active_manager_cannot_be_deleted<S: Store>(store: Arc<S>) {
        let boss = an_active_manager(&*store, "boss@example.com").await;
        let session = a_stored_session(&*store, &boss).await;

        let outcome = store.delete_user(boss.id).await.unwrap();

        assert_eq!(outcome, DeleteUserOutcome::LastActiveManager);
        assert_eq!(store.user_by_id(boss.id).await.unwrap(), Some(boss));
        assert_eq!(store.session(session.id).await.unwrap(), Some(session));
    }

    pub async fn of_two_concurrent_deletions_of_the_only_two_managers_exactly_one_wins<S: Store>(
        store: Arc<S>,
    ) {
        let first = an_active_manager(&*store, "first@example.com").await;
        let second = an_active_manager(&*store, "second@example.com").await;
        let managers = [first.id, second.id];

        let outcomes = race(&store, 2, move |store, index| async move {
            store.delete_user(managers[index]).await.unwrap()
        })
        .await;

        let mut outcomes = outcomes;
        outcomes.sort_by_key(|outcome| *outcome == DeleteUserOutcome::Deleted);
        assert_eq!(
            outcomes,
            vec![
                DeleteUserOutcome::LastActiveManager,
                DeleteUserOutcome::Deleted
            ]
        );
        let left = store
            .list_users(&UserFilter::default(), PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(left.len(), 1);
        assert!(left[0].is_active_manager());
    }

    // --- OneTimeTokenStore -------------------------------------------------------------------

    pub async fn setting_a_password_hash_replaces_it_and_stamps_the_update<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "omar@example.com").await;
        let hash = PasswordHash::from_phc("$argon2id$v=19$m=64,t=1,p=1$bmV3$bmV3aGFzaA".into());
        let at = t0() + Duration::hours(2);

        let set = store.set_password_hash(user.id, &hash, at).await.unwrap();

        assert!(set);
        let stored = store.user_by_id(user.id).await.unwrap().unwrap();
        assert_eq!(stored.password_hash, hash);
        assert_eq!(stored.updated_at, at);
        assert_eq!(store.user_by_id(other.id).await.unwrap().unwrap(), other);
    }

    pub async fn setting_the_password_hash_of_an_unknown_user_returns_false<S: Store>(
        store: Arc<S>,
    ) {
        let hash = PasswordHash::from_phc("$argon2id$v=19$m=64,t=1,p=1$bmV3$bmV3aGFzaA".into());

        let set = store.set_password_hash(UserId::new(), &hash, t0()).await;

        assert!(!set.unwrap());
    }

    pub async fn consuming_a_token_twice_fails_the_second_time<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let token = token_for(&user, digest(7), t0() + Duration::hours(24));
        store.insert_token(&token).await.unwrap();
        let now = t0() + Duration::hours(1);

        let first = store
            .consume_token(&digest(7), TokenPurpose::VerifyEmail, now)
            .await;
        let second = store
            .consume_token(&digest(7), TokenPurpose::VerifyEmail, now)
            .await;

        assert_eq!(first.unwrap(), Some(user.id));
        assert_eq!(second.unwrap(), None);
    }

    pub async fn a_token_is_refused_from_its_expiry_on<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let expires_at = t0() + Duration::hours(24);
        store
            .insert_token(&token_for(&user, digest(7), expires_at))
            .await
            .unwrap();
        let purpose = TokenPurpose::VerifyEmail;

        let at_expiry = store.consume_token(&digest(7), purpose, expires_at).await;
        let after_expiry = store
            .consume_token(&digest(7), purpose, expires_at + Duration::days(1))
            .await;
        let just_before = store
            .consume_token(&digest(7), purpose, expires_at - Duration::milliseconds(1))
            .await;

        assert_eq!(at_expiry.unwrap(), None);
        assert_eq!(after_expiry.unwrap(), None);
        // The refusals did not use it up.
        assert_eq!(just_before.unwrap(), Some(user.id));
    }

    pub async fn an_unknown_token_is_not_consumed<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        store
            .insert_token(&token_for(&user, digest(7), t0() + Duration::hours(24)))
            .await
            .unwrap();

        let consumed = store
            .consume_token(&digest(8), TokenPurpose::VerifyEmail, t0())
            .await;

        assert_eq!(consumed.unwrap(), None);
    }

    pub async fn of_sixteen_concurrent_consumptions_of_one_token_exactly_one_succeeds<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        store
            .insert_token(&token_for(&user, digest(7), t0() + Duration::hours(24)))
            .await
            .unwrap();

        let outcomes = race(&store, 16, |store, _| async move {
            store
                .consume_token(&digest(7), TokenPurpose::VerifyEmail, t0())
                .await
                .unwrap()
        })
        .await;

        let winners: Vec<_> = outcomes.iter().flatten().collect();
        assert_eq!(winners, vec![&user.id], "{outcomes:?}");
    }

    pub async fn peeking_at_a_token_names_its_user_and_leaves_it_usable<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let mut token = token_for(&user, digest(7), t0() + Duration::hours(1));
        token.purpose = TokenPurpose::ResetPassword;
        store.insert_token(&token).await.unwrap();
        let purpose = TokenPurpose::ResetPassword;

        let first_peek = store.peek_token(&digest(7), purpose, t0()).await;
        let second_peek = store.peek_token(&digest(7), purpose, t0()).await;
        let consumed = store.consume_token(&digest(7), purpose, t0()).await;
        let peek_after_use = store.peek_token(&digest(7), purpose, t0()).await;

        assert_eq!(first_peek.unwrap(), Some(user.id));
        assert_eq!(second_peek.unwrap(), Some(user.id));
        assert_eq!(consumed.unwrap(), Some(user.id));
        assert_eq!(peek_after_use.unwrap(), None);
    }

    pub async fn peeking_refuses_what_consuming_refuses<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let expires_at = t0() + Duration::hours(1);
        store
            .insert_token(&token_for(&user, digest(7), expires_at))
            .await
            .unwrap();

        let other_purpose = store
            .peek_token(&digest(7), TokenPurpose::ResetPassword, t0())
            .await;
        let unknown = store
            .peek_token(&digest(8), TokenPurpose::VerifyEmail, t0())
            .await;
        let at_expiry = store
            .peek_token(&digest(7), TokenPurpose::VerifyEmail, expires_at)
            .await;
        let just_before = store
            .peek_token(
                &digest(7),
                TokenPurpose::VerifyEmail,
                expires_at - Duration::milliseconds(1),
            )
            .await;

        assert_eq!(other_purpose.unwrap(), None);
        assert_eq!(unknown.unwrap(), None);
        assert_eq!(at_expiry.unwrap(), None);
        assert_eq!(just_before.unwrap(), Some(user.id));
    }

    // --- ChallengeStore ----------------------------------------------------------------------

    pub async fn an_inserted_challenge_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let open = LoginChallenge {
            attempts: 2,
            code_digest: digest(9),
            ..challenge_for(&user)
        };
        let completed = LoginChallenge {
            completed_at: Some(t0() + Duration::seconds(42)),
            ..challenge_for(&user)
        };

        store.insert_challenge(&open).await.unwrap();
        store.insert_challenge(&completed).await.unwrap();

        assert_eq!(store.challenge(open.id).await.unwrap(), Some(open));
        assert_eq!(
            store.challenge(completed.id).await.unwrap(),
            Some(completed)
        );
        assert_eq!(store.challenge(ChallengeId::new()).await.unwrap(), None);
    }

    pub async fn attempts_are_counted_up_to_the_maximum_then_exhausted<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge = a_stored_challenge(&*store, &user, |_| {}).await;
        let now = t0() + Duration::minutes(1);

        let mut outcomes = Vec::new();
        for _ in 0..4 {
            outcomes.push(store.count_attempt(challenge.id, 3, now).await.unwrap());
        }

        let counted = |attempts| {
            AttemptOutcome::Counted(LoginChallenge {
                attempts,
                ..challenge.clone()
            })
        };
        assert_eq!(
            outcomes,
            vec![
                counted(1),
                counted(2),
                counted(3),
                AttemptOutcome::Exhausted
            ]
        );
        let stored = store.challenge(challenge.id).await.unwrap().unwrap();
        assert_eq!(stored.attempts, 3);
    }

    pub async fn attempts_on_an_expired_challenge_are_closed<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge = a_stored_challenge(&*store, &user, |_| {}).await;

        let at_expiry = store
            .count_attempt(challenge.id, 5, challenge.expires_at)
            .await
            .unwrap();

        assert_eq!(at_expiry, AttemptOutcome::Closed);
        assert_eq!(
            store.challenge(challenge.id).await.unwrap(),
            Some(challenge)
        );
    }

    pub async fn attempts_on_a_completed_challenge_are_closed<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge = a_stored_challenge(&*store, &user, |challenge| {
            challenge.attempts = 1;
            challenge.completed_at = Some(t0() + Duration::minutes(1));
        })
        .await;

        let outcome = store
            .count_attempt(challenge.id, 5, t0() + Duration::minutes(2))
            .await
            .unwrap();

        assert_eq!(outcome, AttemptOutcome::Closed);
        assert_eq!(
            store.challenge(challenge.id).await.unwrap(),
            Some(challenge)
        );
    }

    pub async fn attempts_on_an_unknown_challenge_are_closed<S: Store>(store: Arc<S>) {
        let outcome = store
            .count_attempt(ChallengeId::new(), 5, t0())
            .await
            .unwrap();

        assert_eq!(outcome, AttemptOutcome::Closed);
    }

    pub async fn an_exhausted_challenge_that_expired_is_closed<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge =
            a_stored_challenge(&*store, &user, |challenge| challenge.attempts = 5).await;

        let before_expiry = store.count_attempt(challenge.id, 5, t0()).await.unwrap();
        let after_expiry = store
            .count_attempt(challenge.id, 5, challenge.expires_at)
            .await
            .unwrap();

        assert_eq!(before_expiry, AttemptOutcome::Exhausted);
        assert_eq!(after_expiry, AttemptOutcome::Closed);
    }

    pub async fn of_twenty_concurrent_attempts_with_five_left_exactly_five_are_counted<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge =
            a_stored_challenge(&*store, &user, |challenge| challenge.attempts = 3).await;
        let id = challenge.id;

        let outcomes = race(&store, 20, move |store, _| async move {
            store.count_attempt(id, 8, t0()).await.unwrap()
        })
        .await;

        let mut counted: Vec<u32> = outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                AttemptOutcome::Counted(challenge) => Some(challenge.attempts),
                _ => None,
            })
            .collect();
        counted.sort_unstable();
        assert_eq!(counted, vec![4, 5, 6, 7, 8], "{outcomes:?}");
        let exhausted = outcomes
            .iter()
            .filter(|outcome| **outcome == AttemptOutcome::Exhausted)
            .count();
        assert_eq!(exhausted, 15, "{outcomes:?}");
        assert_eq!(store.challenge(id).await.unwrap().unwrap().attempts, 8);
    }

    pub async fn completing_a_challenge_succeeds_once<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge = a_stored_challenge(&*store, &user, |_| {}).await;
        let first = t0() + Duration::minutes(1);

        let won = store.complete_challenge(challenge.id, first).await.unwrap();
        let won_again = store
            .complete_challenge(challenge.id, first + Duration::seconds(1))
            .await
            .unwrap();

        assert!(won);
        assert!(!won_again);
        let stored = store.challenge(challenge.id).await.unwrap().unwrap();
        assert_eq!(stored.completed_at, Some(first));
    }

    pub async fn completing_an_unknown_challenge_fails<S: Store>(store: Arc<S>) {
        let won = store
            .complete_challenge(ChallengeId::new(), t0())
            .await
            .unwrap();

        assert!(!won);
    }

    pub async fn of_sixteen_concurrent_completions_exactly_one_succeeds<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let id = a_stored_challenge(&*store, &user, |_| {}).await.id;

        let outcomes = race(&store, 16, move |store, _| async move {
            store.complete_challenge(id, t0()).await.unwrap()
        })
        .await;

        let winners = outcomes.iter().filter(|won| **won).count();
        assert_eq!(winners, 1, "{outcomes:?}");
    }

    pub async fn a_code_is_replaced_once_the_cooldown_has_passed<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge =
            a_stored_challenge(&*store, &user, |challenge| challenge.attempts = 2).await;
        let cooldown = Duration::seconds(30);
        let now = t0() + cooldown;

        let outcome = store
            .replace_code(challenge.id, &digest(2), 5, cooldown, now)
            .await
            .unwrap();

        assert_eq!(outcome, ReplaceCodeOutcome::Replaced);
        let expected = LoginChallenge {
            code_digest: digest(2),
            code_sent_at: now,
            ..challenge.clone()
        };
        assert_eq!(store.challenge(challenge.id).await.unwrap(), Some(expected));
    }

    pub async fn a_code_is_not_replaced_within_the_cooldown<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge = a_stored_challenge(&*store, &user, |_| {}).await;
        let cooldown = Duration::seconds(30);
        let now = t0() + cooldown - Duration::milliseconds(1);

        let outcome = store
            .replace_code(challenge.id, &digest(2), 5, cooldown, now)
            .await
            .unwrap();

        assert_eq!(outcome, ReplaceCodeOutcome::TooSoon { sent_at: t0() });
        assert_eq!(
            store.challenge(challenge.id).await.unwrap(),
            Some(challenge)
        );
    }

    pub async fn replacing_the_code_of_a_completed_or_expired_challenge_is_refused<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let completed = a_stored_challenge(&*store, &user, |challenge| {
            challenge.completed_at = Some(t0() + Duration::minutes(1));
        })
        .await;
        let expiring = a_stored_challenge(&*store, &user, |_| {}).await;
        let cooldown = Duration::seconds(30);

        let for_completed = store
            .replace_code(
                completed.id,
                &digest(2),
                5,
                cooldown,
                t0() + Duration::minutes(2),
            )
            .await
            .unwrap();
        let for_expired = store
            .replace_code(expiring.id, &digest(2), 5, cooldown, expiring.expires_at)
            .await
            .unwrap();

        assert_eq!(for_completed, ReplaceCodeOutcome::Closed);
        assert_eq!(for_expired, ReplaceCodeOutcome::Closed);
        assert_eq!(
            store.challenge(completed.id).await.unwrap(),
            Some(completed)
        );
        assert_eq!(store.challenge(expiring.id).await.unwrap(), Some(expiring));
    }

    pub async fn replacing_the_code_of_an_exhausted_challenge_is_refused<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let challenge =
            a_stored_challenge(&*store, &user, |challenge| challenge.attempts = 5).await;

        let outcome = store
            .replace_code(
                challenge.id,
                &digest(2),
                5,
                Duration::seconds(30),
                t0() + Duration::minutes(1),
            )
            .await
            .unwrap();

        assert_eq!(outcome, ReplaceCodeOutcome::Closed);
        assert_eq!(
            store.challenge(challenge.id).await.unwrap(),
            Some(challenge)
        );
    }

    pub async fn replacing_the_code_of_an_unknown_challenge_is_refused<S: Store>(store: Arc<S>) {
        let outcome = store
            .replace_code(
                ChallengeId::new(),
                &digest(2),
                5,
                Duration::seconds(30),
                t0(),
            )
            .await
            .unwrap();

        assert_eq!(outcome, ReplaceCodeOutcome::Closed);
    }

    pub async fn of_sixteen_concurrent_code_replacements_exactly_one_succeeds<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let id = a_stored_challenge(&*store, &user, |_| {}).await.id;
        let now = t0() + Duration::minutes(1);

        let outcomes = race(&store, 16, move |store, index| async move {
            let code = digest(100 + index as u8);
            let outcome = store
                .replace_code(id, &code, 5, Duration::seconds(30), now)
                .await
                .unwrap();
            (code, outcome)
        })
        .await;

        let winners: Vec<SecretDigest> = outcomes
            .iter()
            .filter(|(_, outcome)| *outcome == ReplaceCodeOutcome::Replaced)
            .map(|(code, _)| *code)
            .collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        let losers_told_too_soon = outcomes
            .iter()
            .filter(|(_, outcome)| *outcome == ReplaceCodeOutcome::TooSoon { sent_at: now })
            .count();
        assert_eq!(losers_told_too_soon, 15, "{outcomes:?}");
        let stored = store.challenge(id).await.unwrap().unwrap();
        assert_eq!(stored.code_digest, winners[0]);
        assert_eq!(stored.code_sent_at, now);
    }

    // --- SessionStore ------------------------------------------------------------------------

    pub async fn an_inserted_session_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let rotated = Session {
            refresh_generation: 3,
            rotated_at: Some(t0() + Duration::hours(2)),
            last_used_at: t0() + Duration::hours(2),
            revoked_at: Some(t0() + Duration::hours(3)),
            ..session_for(&user)
        };
        let anonymous = Session {
            client: ClientInfo::default(),
            ..session_for(&user)
        };

        store.insert_session(&rotated).await.unwrap();
        store.insert_session(&anonymous).await.unwrap();

        assert_eq!(store.session(rotated.id).await.unwrap(), Some(rotated));
        assert_eq!(store.session(anonymous.id).await.unwrap(), Some(anonymous));
        assert_eq!(store.session(SessionId::new()).await.unwrap(), None);
    }

    pub async fn advancing_the_refresh_generation_needs_the_current_generation<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let session = a_stored_session(&*store, &user).await;
        let first = t0() + Duration::hours(1);
        let second = t0() + Duration::hours(2);

        let from_zero = store
            .advance_refresh_generation(session.id, 0, first)
            .await
            .unwrap();
        let from_zero_again = store
            .advance_refresh_generation(session.id, 0, second)
            .await
            .unwrap();
        let after_first = store.session(session.id).await.unwrap().unwrap();
        let from_one = store
            .advance_refresh_generation(session.id, 1, second)
            .await
            .unwrap();

        assert!(from_zero);
        assert!(!from_zero_again);
        assert!(from_one);
        let expected_after_first = Session {
            refresh_generation: 1,
            rotated_at: Some(first),
            last_used_at: first,
            ..session.clone()
        };
        assert_eq!(after_first, expected_after_first);
        let expected_after_second = Session {
            refresh_generation: 2,
            rotated_at: Some(second),
            last_used_at: second,
            ..session.clone()
        };
        assert_eq!(
            store.session(session.id).await.unwrap(),
            Some(expected_after_second)
        );
    }

    pub async fn a_revoked_session_does_not_advance<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let session = a_stored_session(&*store, &user).await;
        store.revoke_session(session.id, t0()).await.unwrap();

        let advanced = store
            .advance_refresh_generation(session.id, 0, t0() + Duration::hours(1))
            .await
            .unwrap();

        assert!(!advanced);
        let stored = store.session(session.id).await.unwrap().unwrap();
        assert_eq!(stored.refresh_generation, 0);
    }

    pub async fn an_unknown_session_does_not_advance<S: Store>(store: Arc<S>) {
        let advanced = store
            .advance_refresh_generation(SessionId::new(), 0, t0())
            .await
            .unwrap();

        assert!(!advanced);
    }

    /// Wrapping to generation 0 would make the session's first refresh token valid again.
    pub async fn a_session_at_the_last_generation_does_not_wrap_around<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let session = Session {
            refresh_generation: u32::MAX,
            ..session_for(&user)
        };
        store.insert_session(&session).await.unwrap();

        let advanced = store
            .advance_refresh_generation(session.id, u32::MAX, t0() + Duration::hours(1))
            .await
            .unwrap();

        assert!(!advanced);
        assert_eq!(store.session(session.id).await.unwrap(), Some(session));
    }

    pub async fn of_sixteen_concurrent_rotations_from_one_generation_exactly_one_succeeds<
        S: Store,
    >(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let id = a_stored_session(&*store, &user).await.id;

        let outcomes = race(&store, 16, move |store, _| async move {
            store.advance_refresh_generation(id, 0, t0()).await.unwrap()
        })
        .await;

        let winners = outcomes.iter().filter(|won| **won).count();
        assert_eq!(winners, 1, "{outcomes:?}");
        let stored = store.session(id).await.unwrap().unwrap();
        assert_eq!(stored.refresh_generation, 1);
    }

    pub async fn revoking_a_session_succeeds_once<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let session = a_stored_session(&*store, &user).await;
        let first = t0() + Duration::hours(1);

        let revoked = store.revoke_session(session.id, first).await.unwrap();
        let revoked_again = store
            .revoke_session(session.id, first + Duration::hours(1))
            .await
            .unwrap();

        assert!(revoked);
        assert!(!revoked_again);
        let stored = store.session(session.id).await.unwrap().unwrap();
        assert_eq!(stored.revoked_at, Some(first));
    }

    pub async fn revoking_an_unknown_session_fails<S: Store>(store: Arc<S>) {
        let revoked = store.revoke_session(SessionId::new(), t0()).await.unwrap();

        assert!(!revoked);
    }

    pub async fn revoking_a_users_sessions_counts_them_and_spares_other_users<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let omar = a_stored_user(&*store, "omar@example.com").await;
        let laptop = a_stored_session(&*store, &amina).await;
        let phone = a_stored_session(&*store, &amina).await;
        let old_tablet = a_stored_session(&*store, &amina).await;
        let earlier = t0() + Duration::minutes(1);
        store.revoke_session(old_tablet.id, earlier).await.unwrap();
        let omars_session = a_stored_session(&*store, &omar).await;
        let now = t0() + Duration::hours(1);

        let revoked = store.revoke_user_sessions(amina.id, now).await.unwrap();
        let revoked_again = store
            .revoke_user_sessions(amina.id, now + Duration::hours(1))
            .await
            .unwrap();

        assert_eq!(revoked, 2);
        assert_eq!(revoked_again, 0);
        let revoked_at = |id| {
            let store = Arc::clone(&store);
            async move { store.session(id).await.unwrap().unwrap().revoked_at }
        };
        assert_eq!(revoked_at(laptop.id).await, Some(now));
        assert_eq!(revoked_at(phone.id).await, Some(now));
        assert_eq!(revoked_at(old_tablet.id).await, Some(earlier));
        assert_eq!(
            store.session(omars_session.id).await.unwrap(),
            Some(omars_session)
        );
    }

    pub async fn revoking_a_users_other_sessions_keeps_the_one_named<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let omar = a_stored_user(&*store, "omar@example.com").await;
        let current = a_stored_session(&*store, &amina).await;
        let laptop = a_stored_session(&*store, &amina).await;
        let phone = a_stored_session(&*store, &amina).await;
        let omars_session = a_stored_session(&*store, &omar).await;
        let now = t0() + Duration::hours(1);

        let revoked = store
            .revoke_other_user_sessions(amina.id, current.id, now)
            .await
            .unwrap();

        assert_eq!(revoked, 2);
        let revoked_at = |id| {
            let store = Arc::clone(&store);
            async move { store.session(id).await.unwrap().unwrap().revoked_at }
        };
        assert_eq!(revoked_at(current.id).await, None);
        assert_eq!(revoked_at(laptop.id).await, Some(now));
        assert_eq!(revoked_at(phone.id).await, Some(now));
        assert_eq!(revoked_at(omars_session.id).await, None);
    }

    pub async fn a_users_live_sessions_are_listed_newest_first_without_others<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let omar = a_stored_user(&*store, "omar@example.com").await;
        let oldest = a_stored_session(&*store, &amina).await;
        let revoked = a_stored_session(&*store, &amina).await;
        store.revoke_session(revoked.id, t0()).await.unwrap();
        let expired = Session {
            expires_at: t0() + Duration::minutes(30),
            ..session_for(&amina)
        };
        store.insert_session(&expired).await.unwrap();
        a_stored_session(&*store, &omar).await;
        let newest = a_stored_session(&*store, &amina).await;

        let listed = store
            .live_user_sessions(
                amina.id,
                t0() + Duration::minutes(30),
                PageRequest::first(20),
            )
            .await
            .unwrap();

        assert_eq!(listed, vec![newest, oldest]);
    }

    pub async fn a_users_live_sessions_are_paged_by_id<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let mut sessions = Vec::new();
        for _ in 0..5 {
            sessions.push(a_stored_session(&*store, &amina).await);
        }
        sessions.reverse();
        let page = PageRequest {
            limit: 2,
            before: Some(sessions[1].id.as_uuid()),
        };

        let listed = store
            .live_user_sessions(amina.id, t0(), page)
            .await
            .unwrap();

        assert_eq!(
            listed,
            sessions[2..5].to_vec(),
            "fetch_limit is one more than the page"
        );
    }

    // --- AttemptThrottleStore ----------------------------------------------------------------

    fn a_rule() -> LockoutRule {
        LockoutRule {
            max_attempts: 3,
            first_lock: Duration::minutes(1),
            max_lock: Duration::minutes(5),
            forget_after: Duration::hours(24),
        }
    }

    fn a_key(byte: u8) -> SecretDigest {
        SecretDigest::from_bytes([byte; 32])
    }

    async fn reserve_times<S: Store>(
        store: &S,
        key: &SecretDigest,
        times: usize,
        now: DateTime<Utc>,
    ) -> Vec<ReserveOutcome> {
        let mut outcomes = Vec::new();
        for _ in 0..times {
            outcomes.push(store.reserve_attempt(key, &a_rule(), now).await.unwrap());
        }
        outcomes
    }

    pub async fn attempts_are_reserved_until_the_limit_locks_the_key<S: Store>(store: Arc<S>) {
        let key = a_key(1);

        let outcomes = reserve_times(&*store, &key, 4, t0()).await;

        assert_eq!(
            outcomes,
            vec![
                ReserveOutcome::Reserved,
                ReserveOutcome::Reserved,
                ReserveOutcome::Reserved,
                ReserveOutcome::Locked {
                    until: t0() + Duration::minutes(1)
                },
            ]
        );
    }

    pub async fn a_locked_key_reports_when_its_lock_ends_and_counts_nothing<S: Store>(
        store: Arc<S>,
    ) {
        let key = a_key(2);
        reserve_times(&*store, &key, 3, t0()).await;
        let lock_end = t0() + Duration::minutes(1);

        let during = reserve_times(&*store, &key, 5, t0() + Duration::seconds(59)).await;
        let after = store.reserve_attempt(&key, &a_rule(), lock_end).await;

        assert!(
            during
                .iter()
                .all(|outcome| *outcome == ReserveOutcome::Locked { until: lock_end }),
            "{during:?}"
        );
        // Locked attempts were not counted: the lock after this one is the second (2 min).
        assert_eq!(after.unwrap(), ReserveOutcome::Reserved);
        assert_eq!(
            store
                .reserve_attempt(&key, &a_rule(), lock_end)
                .await
                .unwrap(),
            ReserveOutcome::Locked {
                until: lock_end + Duration::minutes(2)
            }
        );
    }

    pub async fn each_attempt_after_a_lock_locks_again_for_twice_as_long_up_to_the_cap<S: Store>(
        store: Arc<S>,
    ) {
        let key = a_key(3);
        reserve_times(&*store, &key, 3, t0()).await;
        let mut now = t0();
        let mut locks = Vec::new();

        for _ in 0..4 {
            let ReserveOutcome::Locked { until } =
                store.reserve_attempt(&key, &a_rule(), now).await.unwrap()
            else {
                panic!("the key should be locked at {now}");
            };
            locks.push((until - now).num_minutes());
            now = until;
            let judged = store.reserve_attempt(&key, &a_rule(), now).await.unwrap();
            assert_eq!(judged, ReserveOutcome::Reserved, "at {now}");
        }

        assert_eq!(locks, vec![1, 2, 4, 5]);
    }

    pub async fn clearing_a_key_lets_it_start_afresh<S: Store>(store: Arc<S>) {
        let key = a_key(4);
        reserve_times(&*store, &key, 3, t0()).await;

        store.clear_attempts(&key).await.unwrap();
        let outcomes = reserve_times(&*store, &key, 4, t0()).await;

        assert_eq!(&outcomes[..3], &[ReserveOutcome::Reserved; 3]);
        assert_eq!(
            outcomes[3],
            ReserveOutcome::Locked {
                until: t0() + Duration::minutes(1)
            },
            "the back-off starts again from the first lock"
        );
    }

    pub async fn a_key_left_alone_long_enough_is_forgotten<S: Store>(store: Arc<S>) {
        let key = a_key(5);
        reserve_times(&*store, &key, 2, t0()).await;
        let just_before = t0() + Duration::hours(24) - Duration::milliseconds(1);

        let remembered = reserve_times(&*store, &key, 2, just_before).await;
        let afresh = reserve_times(&*store, &key, 3, just_before + Duration::hours(24)).await;

        assert_eq!(
            remembered,
            vec![
                ReserveOutcome::Reserved,
                ReserveOutcome::Locked {
                    until: just_before + Duration::minutes(1)
                },
            ],
            "the attempts of a day ago still counted"
        );
        assert_eq!(afresh, vec![ReserveOutcome::Reserved; 3]);
    }

    pub async fn keys_are_throttled_independently<S: Store>(store: Arc<S>) {
        let (locked, other) = (a_key(6), a_key(7));
        reserve_times(&*store, &locked, 3, t0()).await;

        let outcome = store.reserve_attempt(&other, &a_rule(), t0()).await;

        assert_eq!(outcome.unwrap(), ReserveOutcome::Reserved);
        store.clear_attempts(&other).await.unwrap();
        assert!(matches!(
            store
                .reserve_attempt(&locked, &a_rule(), t0())
                .await
                .unwrap(),
            ReserveOutcome::Locked { .. }
        ));
    }

    pub async fn of_two_hundred_concurrent_reservations_exactly_the_limit_are_reserved<S: Store>(
        store: Arc<S>,
    ) {
        let rule = LockoutRule {
            max_attempts: 10,
            ..a_rule()
        };

        let outcomes = race(&store, 200, move |store, _| async move {
            store.reserve_attempt(&a_key(8), &rule, t0()).await.unwrap()
        })
        .await;

        let reserved = outcomes
            .iter()
            .filter(|outcome| **outcome == ReserveOutcome::Reserved)
            .count();
        assert_eq!(reserved, 10, "{outcomes:?}");
    }

    // --- SecondFactorStore -------------------------------------------------------------------

    fn sealed(byte: u8) -> SealedTotpSecret {
        SealedTotpSecret::from_bytes(vec![byte; 49])
    }

    /// A user with TOTP on, last used step 1000, and recovery codes `digest(1..=3)`.
    async fn a_user_with_totp<S: Store>(store: &S, email: &str) -> User {
        let user = a_stored_user(store, email).await;
        assert!(
            store
                .put_pending_totp(user.id, &sealed(1), t0())
                .await
                .unwrap()
        );
        assert!(
            store
                .enable_totp(user.id, &sealed(1), 1000, t0())
                .await
                .unwrap()
        );
        store
            .replace_recovery_codes(user.id, &[digest(1), digest(2), digest(3)], t0())
            .await
            .unwrap();
        user
    }

    pub async fn a_pending_totp_enrolment_reads_back_and_a_new_setup_replaces_it<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        assert_eq!(store.totp_enrolment(user.id).await.unwrap(), None);

        assert!(
            store
                .put_pending_totp(user.id, &sealed(1), t0())
                .await
                .unwrap()
        );
        let later = t0() + Duration::minutes(3);
        assert!(
            store
                .put_pending_totp(user.id, &sealed(2), later)
                .await
                .unwrap()
        );

        assert_eq!(
            store.totp_enrolment(user.id).await.unwrap(),
            Some(TotpEnrolment {
                user_id: user.id,
                secret: sealed(2),
                created_at: later,
                enabled_at: None,
                last_used_step: None,
            })
        );
    }

    pub async fn a_pending_totp_is_not_put_over_an_enabled_one<S: Store>(store: Arc<S>) {
        let user = a_user_with_totp(&*store, "amina@example.com").await;

        let put = store
            .put_pending_totp(user.id, &sealed(9), t0())
            .await
            .unwrap();

        assert!(!put);
        let kept = store.totp_enrolment(user.id).await.unwrap().unwrap();
        assert_eq!(kept.secret, sealed(1));
        assert_eq!(kept.enabled_at, Some(t0()));
        assert_eq!(kept.last_used_step, Some(1000));
    }

    pub async fn enabling_totp_needs_the_pending_secret_and_succeeds_once<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        assert!(
            !store
                .enable_totp(user.id, &sealed(1), 5, t0())
                .await
                .unwrap()
        );
        store
            .put_pending_totp(user.id, &sealed(1), t0())
            .await
            .unwrap();

        let with_another_secret = store
            .enable_totp(user.id, &sealed(2), 5, t0())
            .await
            .unwrap();
        let with_the_pending_one = store
            .enable_totp(user.id, &sealed(1), 5, t0())
            .await
            .unwrap();
        let again = store
            .enable_totp(user.id, &sealed(1), 6, t0())
            .await
            .unwrap();

        assert_eq!(
            (with_another_secret, with_the_pending_one, again),
            (false, true, false)
        );
        let enabled = store.totp_enrolment(user.id).await.unwrap().unwrap();
        assert_eq!(
            (enabled.enabled_at, enabled.last_used_step),
            (Some(t0()), Some(5))
        );
    }

    pub async fn of_sixteen_concurrent_enablings_exactly_one_succeeds<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        store
            .put_pending_totp(user.id, &sealed(1), t0())
            .await
            .unwrap();
        let id = user.id;

        let outcomes = race(&store, 16, move |store, index| async move {
            store
                .enable_totp(id, &sealed(1), 100 + index as u64, t0())
                .await
                .unwrap()
        })
        .await;

        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "{outcomes:?}"
        );
    }

    pub async fn a_totp_step_is_accepted_only_above_the_last_used_one<S: Store>(store: Arc<S>) {
        let user = a_user_with_totp(&*store, "amina@example.com").await;

        let outcomes = [
            store.use_totp_step(user.id, 999).await.unwrap(),
            store.use_totp_step(user.id, 1000).await.unwrap(),
            store.use_totp_step(user.id, 1001).await.unwrap(),
            store.use_totp_step(user.id, 1001).await.unwrap(),
            store.use_totp_step(user.id, 1003).await.unwrap(),
            store.use_totp_step(user.id, 1002).await.unwrap(),
        ];

        assert_eq!(outcomes, [false, false, true, false, true, false]);
        let enrolment = store.totp_enrolment(user.id).await.unwrap().unwrap();
        assert_eq!(enrolment.last_used_step, Some(1003));
    }

    pub async fn a_totp_step_is_not_used_while_the_enrolment_is_pending<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        store
            .put_pending_totp(user.id, &sealed(1), t0())
            .await
            .unwrap();

        assert!(!store.use_totp_step(user.id, 5).await.unwrap());
        assert!(!store.use_totp_step(UserId::new(), 5).await.unwrap());
    }

    pub async fn of_sixteen_concurrent_uses_of_one_totp_step_exactly_one_succeeds<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_user_with_totp(&*store, "amina@example.com").await;
        let id = user.id;

        let outcomes = race(&store, 16, move |store, _| async move {
            store.use_totp_step(id, 1001).await.unwrap()
        })
        .await;

        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "{outcomes:?}"
        );
    }

    pub async fn removing_totp_removes_its_recovery_codes_and_spares_other_users<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_user_with_totp(&*store, "amina@example.com").await;
        let karim = a_user_with_totp(&*store, "karim@example.com").await;

        assert!(store.remove_totp(amina.id).await.unwrap());
        assert!(!store.remove_totp(amina.id).await.unwrap());

        assert_eq!(store.totp_enrolment(amina.id).await.unwrap(), None);
        assert_eq!(store.unused_recovery_codes(amina.id).await.unwrap(), 0);
        assert!(
            !store
                .consume_recovery_code(amina.id, &digest(1), t0())
                .await
                .unwrap()
        );
        assert!(store.totp_enrolment(karim.id).await.unwrap().is_some());
        assert_eq!(store.unused_recovery_codes(karim.id).await.unwrap(), 3);
        // A new setup after removal starts pending again.
        assert!(
            store
                .put_pending_totp(amina.id, &sealed(4), t0())
                .await
                .unwrap()
        );
    }

    pub async fn a_recovery_code_is_consumed_once_and_only_for_its_user<S: Store>(store: Arc<S>) {
        let amina = a_user_with_totp(&*store, "amina@example.com").await;
        let karim = a_stored_user(&*store, "karim@example.com").await;

        let by_another_user = store
            .consume_recovery_code(karim.id, &digest(2), t0())
            .await;
        let first = store
            .consume_recovery_code(amina.id, &digest(2), t0())
            .await;
        let second = store
            .consume_recovery_code(amina.id, &digest(2), t0())
            .await;
        let unknown = store
            .consume_recovery_code(amina.id, &digest(9), t0())
            .await;

        assert!(!by_another_user.unwrap());
        assert!(first.unwrap());
        assert!(!second.unwrap());
        assert!(!unknown.unwrap());
        assert_eq!(store.unused_recovery_codes(amina.id).await.unwrap(), 2);
    }

    pub async fn replacing_recovery_codes_kills_the_old_ones<S: Store>(store: Arc<S>) {
        let user = a_user_with_totp(&*store, "amina@example.com").await;
        store
            .consume_recovery_code(user.id, &digest(1), t0())
            .await
            .unwrap();

        store
            .replace_recovery_codes(user.id, &[digest(7), digest(8)], t0())
            .await
            .unwrap();

        assert_eq!(store.unused_recovery_codes(user.id).await.unwrap(), 2);
        assert!(
            !store
                .consume_recovery_code(user.id, &digest(2), t0())
                .await
                .unwrap()
        );
        assert!(
            store
                .consume_recovery_code(user.id, &digest(8), t0())
                .await
                .unwrap()
        );
        // The enrolment itself is untouched.
        assert!(
            store
                .totp_enrolment(user.id)
                .await
                .unwrap()
                .unwrap()
                .is_enabled()
        );
    }

    pub async fn of_sixteen_concurrent_uses_of_one_recovery_code_exactly_one_succeeds<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_user_with_totp(&*store, "amina@example.com").await;
        let id = user.id;

        let outcomes = race(&store, 16, move |store, _| async move {
            store
                .consume_recovery_code(id, &digest(3), t0())
                .await
                .unwrap()
        })
        .await;

        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "{outcomes:?}"
        );
        assert_eq!(store.unused_recovery_codes(id).await.unwrap(), 2);
    }

    // --- DeviceStore -------------------------------------------------------------------------

    /// A device of `user` remembered at `t0`, valid thirty days, its token digest `digest(n)`.
    fn device_for(user: &User, n: u8) -> RememberedDevice {
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

    async fn a_stored_device<S: Store>(store: &S, user: &User, n: u8) -> RememberedDevice {
        let device = device_for(user, n);
        store.insert_device(&device).await.unwrap();
        device
    }

    async fn listed<S: Store>(store: &S, user: &User, page: PageRequest) -> Vec<DeviceId> {
        let devices = store.devices_of(user.id, page, t0()).await.unwrap();
        devices.iter().map(|device| device.id).collect()
    }

    pub async fn a_remembered_device_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let device = a_stored_device(&*store, &user, 1).await;

        let read = store
            .devices_of(user.id, PageRequest::first(20), t0())
            .await
            .unwrap();

        assert_eq!(read, vec![device]);
    }

    pub async fn a_device_is_used_only_before_its_expiry<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let device = a_stored_device(&*store, &user, 1).await;
        let just_before = device.expires_at - Duration::milliseconds(1);

        let before = store.use_device(user.id, &digest(1), just_before).await;
        let at_expiry = store
            .use_device(user.id, &digest(1), device.expires_at)
            .await;
        let unknown = store.use_device(user.id, &digest(9), t0()).await;

        assert!(before.unwrap());
        assert!(!at_expiry.unwrap());
        assert!(!unknown.unwrap());
        let read = store
            .devices_of(user.id, PageRequest::first(20), t0())
            .await
            .unwrap();
        assert_eq!(read[0].last_used_at, Some(just_before));
    }

    pub async fn a_device_is_not_used_for_another_user<S: Store>(store: Arc<S>) {
        let owner = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        a_stored_device(&*store, &owner, 1).await;

        let used = store.use_device(other.id, &digest(1), t0()).await;

        assert!(!used.unwrap());
        let read = store
            .devices_of(owner.id, PageRequest::first(20), t0())
            .await
            .unwrap();
        assert_eq!(read[0].last_used_at, None);
    }

    pub async fn devices_are_listed_newest_first_page_by_page_without_expired_ones<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        let oldest = a_stored_device(&*store, &user, 1).await;
        let middle = a_stored_device(&*store, &user, 2).await;
        let newest = a_stored_device(&*store, &user, 3).await;
        let mut expired = device_for(&user, 4);
        expired.expires_at = t0();
        store.insert_device(&expired).await.unwrap();
        a_stored_device(&*store, &other, 5).await;

        let first = listed(&*store, &user, PageRequest::first(2)).await;
        let after_newest = PageRequest {
            limit: 2,
            before: Some(newest.id.as_uuid()),
        };
        let rest = listed(&*store, &user, after_newest).await;

        // `first(2)` fetches one more than the page, to tell whether another follows.
        assert_eq!(first, vec![newest.id, middle.id, oldest.id]);
        assert_eq!(rest, vec![middle.id, oldest.id]);
    }

    pub async fn a_device_is_deleted_only_by_its_user<S: Store>(store: Arc<S>) {
        let owner = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        let device = a_stored_device(&*store, &owner, 1).await;

        let by_other = store.delete_device(other.id, device.id).await.unwrap();
        let by_owner = store.delete_device(owner.id, device.id).await.unwrap();
        let again = store.delete_device(owner.id, device.id).await.unwrap();

        assert!(!by_other);
        assert!(by_owner);
        assert!(!again);
        assert!(!store.use_device(owner.id, &digest(1), t0()).await.unwrap());
    }

    pub async fn forgetting_devices_counts_them_and_spares_other_users<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        a_stored_device(&*store, &user, 1).await;
        a_stored_device(&*store, &user, 2).await;
        let spared = a_stored_device(&*store, &other, 3).await;

        let forgotten = store.forget_devices(user.id).await.unwrap();

        assert_eq!(forgotten, 2);
        assert!(
            listed(&*store, &user, PageRequest::first(20))
                .await
                .is_empty()
        );
        assert!(!store.use_device(user.id, &digest(1), t0()).await.unwrap());
        assert_eq!(
            listed(&*store, &other, PageRequest::first(20)).await,
            vec![spared.id]
        );
        assert_eq!(store.forget_devices(user.id).await.unwrap(), 0);
    }

    // --- AuditLog ----------------------------------------------------------------------------

    /// An event of `kind` about `user` (none for an unknown email), at `t0`, with every other
    /// detail filled in and each distinct, so that a swapped column shows.
    fn event_about(user: Option<&User>, kind: AuditKind) -> AuditEvent {
        AuditEvent {
            id: AuditEventId::new(),
            kind,
            at: t0(),
            user_id: user.map(|user| user.id),
            actor_id: Some(UserId::new()),
            client: ClientInfo {
                ip: Some("198.51.100.23".into()),
                user_agent: Some("curl/8.5".into()),
            },
            detail: Some("method=totp".into()),
        }
    }

    async fn a_recorded_event<S: Store>(
        store: &S,
        user: Option<&User>,
        kind: AuditKind,
    ) -> AuditEvent {
        let event = event_about(user, kind);
        store.record(&event).await.unwrap();
        event
    }

    /// The ids of `events`, newest first — the order the log promises.
    fn newest_events_first(events: &[&AuditEvent]) -> Vec<AuditEventId> {
        let mut ids: Vec<AuditEventId> = events.iter().map(|event| event.id).collect();
        ids.sort_by_key(|id| std::cmp::Reverse(*id));
        ids
    }

    fn event_ids(events: &[AuditEvent]) -> Vec<AuditEventId> {
        events.iter().map(|event| event.id).collect()
    }

    async fn listed_events<S: Store>(
        store: &S,
        user_id: Option<UserId>,
        kind: Option<AuditKind>,
    ) -> Vec<AuditEventId> {
        let filter = AuditFilter { user_id, kind };
        let events = store
            .audit_events(&filter, PageRequest::first(100))
            .await
            .unwrap();
        event_ids(&events)
    }

    pub async fn an_audit_event_reads_back_with_every_field_and_every_absent_one<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let manager = an_active_manager(&*store, "manager@example.com").await;
        let full = AuditEvent {
            actor_id: Some(manager.id),
            at: t0() + Duration::milliseconds(417),
            ..event_about(Some(&amina), AuditKind::RoleChanged)
        };
        let bare = AuditEvent {
            id: AuditEventId::new(),
            kind: AuditKind::LoginFailed,
            at: t0(),
            user_id: None,
            actor_id: None,
            client: ClientInfo {
                ip: None,
                user_agent: None,
            },
            detail: None,
        };
        let half_known_client = AuditEvent {
            client: ClientInfo {
                ip: None,
                user_agent: Some("Firefox/140".into()),
            },
            detail: None,
            ..event_about(Some(&amina), AuditKind::SessionEnded)
        };
        for event in [&full, &bare, &half_known_client] {
            store.record(event).await.unwrap();
        }

        let read = store
            .audit_events(&AuditFilter::default(), PageRequest::first(20))
            .await
            .unwrap();

        assert_eq!(read, vec![half_known_client, bare, full]);
    }

    pub async fn every_kind_of_audit_event_reads_back_as_itself<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let mut recorded = Vec::new();
        for kind in AuditKind::ALL {
            recorded.push(a_recorded_event(&*store, Some(&amina), kind).await);
        }

        let mut read = store
            .audit_events(&AuditFilter::default(), PageRequest::first(100))
            .await
            .unwrap();

        read.reverse();
        assert_eq!(read, recorded);
    }

    pub async fn recording_an_event_id_twice_fails_and_keeps_the_first<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let first = a_recorded_event(&*store, Some(&amina), AuditKind::LoginFailed).await;
        let rewrite = AuditEvent {
            kind: AuditKind::LoginSucceeded,
            detail: None,
            ..first.clone()
        };

        let outcome = store.record(&rewrite).await;

        assert!(outcome.is_err(), "an event must never be overwritten");
        let read = store
            .audit_events(&AuditFilter::default(), PageRequest::first(20))
            .await
            .unwrap();
        assert_eq!(read, vec![first]);
    }

    pub async fn audit_events_are_listed_newest_first_by_id_one_page_after_another<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let mut events = Vec::new();
        for minutes in 0..5 {
            // Each event an earlier `at` than the one before: the order is the id's, never
            // the time's, so a store sorting by `at` would list them backwards.
            let event = AuditEvent {
                at: t0() - Duration::minutes(minutes),
                ..event_about(Some(&amina), AuditKind::LoginFailed)
            };
            store.record(&event).await.unwrap();
            events.push(event);
        }
        let expected = newest_events_first(&events.iter().collect::<Vec<_>>());
        let all = AuditFilter::default();
        let page_after = |last: AuditEventId| PageRequest {
            limit: 2,
            before: Some(last.as_uuid()),
        };

        let first = store.audit_events(&all, PageRequest::first(2)).await;
        let second = store.audit_events(&all, page_after(expected[1])).await;
        let third = store.audit_events(&all, page_after(expected[3])).await;
        let beyond = store.audit_events(&all, page_after(expected[4])).await;

        // Each page fetches one more than its limit, to tell whether another follows.
        assert_eq!(event_ids(&first.unwrap()), expected[0..3]);
        assert_eq!(event_ids(&second.unwrap()), expected[2..5]);
        assert_eq!(event_ids(&third.unwrap()), expected[4..5]);
        assert!(beyond.unwrap().is_empty());
    }

    pub async fn audit_events_are_filtered_by_user_by_kind_by_both_or_not_at_all<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let omar = a_stored_user(&*store, "omar@example.com").await;
        let aminas_failure = a_recorded_event(&*store, Some(&amina), AuditKind::LoginFailed).await;
        let aminas_login = a_recorded_event(&*store, Some(&amina), AuditKind::LoginSucceeded).await;
        let omars_failure = a_recorded_event(&*store, Some(&omar), AuditKind::LoginFailed).await;
        let strangers_failure = a_recorded_event(&*store, None, AuditKind::LoginFailed).await;
        // Omar acts on Amina's account: the event is about her, not him.
        let omar_promotes_amina = AuditEvent {
            actor_id: Some(omar.id),
            ..event_about(Some(&amina), AuditKind::RoleChanged)
        };
        store.record(&omar_promotes_amina).await.unwrap();
        let failed = Some(AuditKind::LoginFailed);

        let aminas = listed_events(&*store, Some(amina.id), None).await;
        let omars = listed_events(&*store, Some(omar.id), None).await;
        let failures = listed_events(&*store, None, failed).await;
        let aminas_failures = listed_events(&*store, Some(amina.id), failed).await;
        let omars_promotions = listed_events(&*store, Some(omar.id), Some(AuditKind::RoleChanged));
        let everything = listed_events(&*store, None, None).await;

        assert_eq!(
            aminas,
            newest_events_first(&[&aminas_failure, &aminas_login, &omar_promotes_amina])
        );
        assert_eq!(omars, vec![omars_failure.id]);
        assert_eq!(
            failures,
            newest_events_first(&[&aminas_failure, &omars_failure, &strangers_failure])
        );
        assert_eq!(aminas_failures, vec![aminas_failure.id]);
        assert!(omars_promotions.await.is_empty());
        assert_eq!(
            everything,
            newest_events_first(&[
                &aminas_failure,
                &aminas_login,
                &omars_failure,
                &strangers_failure,
                &omar_promotes_amina,
            ])
        );
    }

    pub async fn filtered_audit_events_are_paged_below_the_cursor<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let omar = a_stored_user(&*store, "omar@example.com").await;
        let mut aminas_failures = Vec::new();
        for _ in 0..3 {
            aminas_failures
                .push(a_recorded_event(&*store, Some(&amina), AuditKind::LoginFailed).await);
            // Interleaved: other users' and other kinds' events sit between hers.
            a_recorded_event(&*store, Some(&omar), AuditKind::LoginFailed).await;
            a_recorded_event(&*store, Some(&amina), AuditKind::LoginSucceeded).await;
        }
        let expected = newest_events_first(&aminas_failures.iter().collect::<Vec<_>>());
        let filter = AuditFilter {
            user_id: Some(amina.id),
            kind: Some(AuditKind::LoginFailed),
        };
        let by_user = AuditFilter {
            user_id: Some(amina.id),
            kind: None,
        };
        let after_newest = PageRequest {
            limit: 1,
            before: Some(expected[0].as_uuid()),
        };

        let first = store.audit_events(&filter, PageRequest::first(1)).await;
        let rest = store.audit_events(&filter, after_newest).await;
        let hers_after_newest = store.audit_events(&by_user, after_newest).await;

        assert_eq!(event_ids(&first.unwrap()), expected[0..2]);
        assert_eq!(event_ids(&rest.unwrap()), expected[1..3]);
        let hers = hers_after_newest.unwrap();
        assert_eq!(hers.len(), 2);
        assert!(
            hers.iter().all(|event| event.user_id == Some(amina.id)
                && event.id.as_uuid() < expected[0].as_uuid())
        );
    }

    pub async fn events_about_no_account_are_listed_only_without_a_user_filter<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let strangers = a_recorded_event(&*store, None, AuditKind::LoginFailed).await;

        let unfiltered = listed_events(&*store, None, None).await;
        let by_kind = listed_events(&*store, None, Some(AuditKind::LoginFailed)).await;
        let by_a_user = listed_events(&*store, Some(amina.id), None).await;
        let by_a_user_and_kind =
            listed_events(&*store, Some(amina.id), Some(AuditKind::LoginFailed)).await;
        let by_nobody_known = listed_events(&*store, Some(UserId::new()), None).await;

        assert_eq!(unfiltered, vec![strangers.id]);
        assert_eq!(by_kind, vec![strangers.id]);
        assert!(by_a_user.is_empty());
        assert!(by_a_user_and_kind.is_empty());
        assert!(by_nobody_known.is_empty());
    }

    pub async fn deleting_a_user_keeps_their_audit_events<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let manager = an_active_manager(&*store, "manager@example.com").await;
        let registered = a_recorded_event(&*store, Some(&amina), AuditKind::Registered).await;
        let deleted = AuditEvent {
            actor_id: Some(manager.id),
            ..event_about(Some(&amina), AuditKind::AccountDeleted)
        };
        store.record(&deleted).await.unwrap();
        // Amina as the actor on someone else's account: kept too.
        let her_act = AuditEvent {
            actor_id: Some(amina.id),
            ..event_about(Some(&manager), AuditKind::StatusChanged)
        };
        store.record(&her_act).await.unwrap();

        let outcome = store.delete_user(amina.id).await.unwrap();

        assert_eq!(outcome, DeleteUserOutcome::Deleted);
        let hers = store
            .audit_events(
                &AuditFilter {
                    user_id: Some(amina.id),
                    kind: None,
                },
                PageRequest::first(20),
            )
            .await
            .unwrap();
        assert_eq!(hers, vec![deleted, registered]);
        assert_eq!(
            listed_events(&*store, Some(manager.id), None).await,
            vec![her_act.id]
        );
    }

    pub async fn of_thirty_two_concurrent_records_every_one_is_listed<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let events: Vec<AuditEvent> = (0..32)
            .map(|_| event_about(Some(&amina), AuditKind::LoginFailed))
            .collect();
        let shared = Arc::new(events.clone());

        let outcomes = race(&store, 32, move |store, index| {
            let event = shared[index].clone();
            async move { store.record(&event).await }
        })
        .await;

        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let listed = store
            .audit_events(&AuditFilter::default(), PageRequest::first(100))
            .await
            .unwrap();
        let mut expected = events;
        expected.sort_by_key(|event| std::cmp::Reverse(event.id));
        assert_eq!(listed, expected);
    }

    // --- StoreHealth -------------------------------------------------------------------------

    pub async fn a_working_store_answers_the_ping<S: Store>(store: Arc<S>) {
        let outcome = store.ping().await;

        assert!(outcome.is_ok(), "{outcome:?}");
    }

    // --- ProductStore ------------------------------------------------------------------------

    pub async fn an_inserted_product_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let product = product_named("Tajine aux olives");

        store.insert_product(&product).await.unwrap();

        assert_eq!(store.product(product.id).await.unwrap(), Some(product));
    }

    pub async fn a_product_without_a_description_reads_back_without_it<S: Store>(store: Arc<S>) {
        let product = Product {
            description: None,
            available: false,
            ..product_named("Harira")
        };

        store.insert_product(&product).await.unwrap();

        assert_eq!(store.product(product.id).await.unwrap(), Some(product));
    }

    pub async fn unknown_products_are_absent<S: Store>(store: Arc<S>) {
        assert_eq!(store.product(ProductId::new()).await.unwrap(), None);
    }

    pub async fn products_are_listed_newest_first_a_page_at_a_time<S: Store>(store: Arc<S>) {
        let mut products = Vec::new();
        for name in ["Harira", "Pastilla", "Couscous"] {
            products.push(a_stored_product(&*store, name).await);
        }

        let first = store
            .list_products(&ProductFilter::default(), PageRequest::first(1))
            .await
            .unwrap();
        let rest = store
            .list_products(
                &ProductFilter::default(),
                PageRequest {
                    limit: 5,
                    before: Some(products[2].id.as_uuid()),
                },
            )
            .await
            .unwrap();

        // One more than the page, so the service knows another page follows.
        assert_eq!(names(&first), ["Couscous", "Pastilla"]);
        assert_eq!(names(&rest), ["Pastilla", "Harira"]);
    }

    pub async fn products_are_filtered_by_availability<S: Store>(store: Arc<S>) {
        a_stored_product(&*store, "Harira").await;
        let hidden = Product {
            available: false,
            ..product_named("Pastilla")
        };
        store.insert_product(&hidden).await.unwrap();
        let filter = |available| ProductFilter {
            available: Some(available),
            name_contains: None,
        };

        let available = store
            .list_products(&filter(true), PageRequest::first(10))
            .await
            .unwrap();
        let unavailable = store
            .list_products(&filter(false), PageRequest::first(10))
            .await
            .unwrap();

        assert_eq!(names(&available), ["Harira"]);
        assert_eq!(names(&unavailable), ["Pastilla"]);
    }

    pub async fn a_name_search_is_a_case_insensitive_substring<S: Store>(store: Arc<S>) {
        for name in ["Tajine poulet", "Poulet rôti", "Harira"] {
            a_stored_product(&*store, name).await;
        }

        let found = store
            .list_products(&searching("POULET"), PageRequest::first(10))
            .await
            .unwrap();

        assert_eq!(names(&found), ["Poulet rôti", "Tajine poulet"]);
    }

    pub async fn wildcards_and_regex_characters_in_a_search_match_only_themselves<S: Store>(
        store: Arc<S>,
    ) {
        for name in [
            "Jus 100% orange",
            "Jus 1000 orange",
            "Menu a_b",
            "Menu axb",
            "Thé (menthe)",
        ] {
            a_stored_product(&*store, name).await;
        }

        let percent = store
            .list_products(&searching("100%"), PageRequest::first(10))
            .await
            .unwrap();
        let underscore = store
            .list_products(&searching("a_b"), PageRequest::first(10))
            .await
            .unwrap();
        let regex = store
            .list_products(&searching(".*"), PageRequest::first(10))
            .await
            .unwrap();
        let parenthesis = store
            .list_products(&searching("(menthe"), PageRequest::first(10))
            .await
            .unwrap();

        assert_eq!(names(&percent), ["Jus 100% orange"]);
        assert_eq!(names(&underscore), ["Menu a_b"]);
        assert!(regex.is_empty(), "{:?}", names(&regex));
        assert_eq!(names(&parenthesis), ["Thé (menthe)"]);
    }

    pub async fn updating_a_product_changes_only_the_present_fields<S: Store>(store: Arc<S>) {
        let product = a_stored_product(&*store, "Harira").await;
        let changes = ProductChanges {
            price: Some(PriceCents::new(990).unwrap()),
            available: Some(false),
            ..ProductChanges::default()
        };
        let at = t0() + Duration::minutes(3);

        let updated = store
            .update_product(product.id, &changes, at)
            .await
            .unwrap();

        let expected = Product {
            price: PriceCents::new(990).unwrap(),
            available: false,
            updated_at: at,
            ..product.clone()
        };
        assert_eq!(updated, Some(expected.clone()));
        assert_eq!(store.product(product.id).await.unwrap(), Some(expected));
    }

    pub async fn updating_a_product_with_a_present_none_clears_its_description<S: Store>(
        store: Arc<S>,
    ) {
        let product = a_stored_product(&*store, "Harira").await;
        let changes = ProductChanges {
            name: Some(ProductName::parse("Harira maison").unwrap()),
            description: Some(None),
            ..ProductChanges::default()
        };

        let updated = store
            .update_product(product.id, &changes, t0())
            .await
            .unwrap()
            .unwrap();

        assert_eq!(updated.name.as_str(), "Harira maison");
        assert_eq!(updated.description, None);
    }

    pub async fn updating_an_unknown_product_returns_none<S: Store>(store: Arc<S>) {
        let changes = ProductChanges {
            available: Some(true),
            ..ProductChanges::default()
        };

        let updated = store
            .update_product(ProductId::new(), &changes, t0())
            .await
            .unwrap();

        assert_eq!(updated, None);
    }

    pub async fn deleting_a_product_succeeds_once<S: Store>(store: Arc<S>) {
        let product = a_stored_product(&*store, "Harira").await;

        let first = store.delete_product(product.id).await.unwrap();
        let second = store.delete_product(product.id).await.unwrap();

        assert!(first);
        assert!(!second);
        assert_eq!(store.product(product.id).await.unwrap(), None);
    }
    // --- OrderStore --------------------------------------------------------------------------

    pub async fn an_inserted_order_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let mut order = moved(&order_of(UserId::new()), OrderStatus::Confirmed);
        order.courier_id = Some(UserId::new());
        order.note = Some(OrderNote::parse("Sans oignons").unwrap());

        store.insert_order(&order).await.unwrap();

        assert_eq!(store.order(order.id).await.unwrap(), Some(order));
    }

    pub async fn an_order_without_courier_note_or_history_reads_back_without_them<S: Store>(
        store: Arc<S>,
    ) {
        let order = order_of(UserId::new());

        store.insert_order(&order).await.unwrap();

        assert_eq!(store.order(order.id).await.unwrap(), Some(order));
    }

    pub async fn unknown_orders_are_absent<S: Store>(store: Arc<S>) {
        assert_eq!(store.order(OrderId::new()).await.unwrap(), None);
    }

    pub async fn orders_are_listed_newest_first_a_page_at_a_time<S: Store>(store: Arc<S>) {
        let client = UserId::new();
        let first = a_stored_order(&*store, client).await;
        let second = a_stored_order(&*store, client).await;
        let third = a_stored_order(&*store, client).await;
        let all = OrderFilter::default();

        let page_one = store
            .list_orders(&all, PageRequest::first(1))
            .await
            .unwrap();
        let page_two = store
            .list_orders(
                &all,
                PageRequest {
                    limit: 1,
                    before: Some(second.id.as_uuid()),
                },
            )
            .await
            .unwrap();

        assert_eq!(order_ids(&page_one), [third.id, second.id]);
        assert_eq!(order_ids(&page_two), [first.id]);
    }

    pub async fn orders_are_filtered_by_client_courier_and_status<S: Store>(store: Arc<S>) {
        let (amina, karim, courier) = (UserId::new(), UserId::new(), UserId::new());
        let aminas = a_stored_order(&*store, amina).await;
        let mut assigned = moved(&order_of(karim), OrderStatus::Confirmed);
        assigned.courier_id = Some(courier);
        store.insert_order(&assigned).await.unwrap();
        let list = |filter: OrderFilter| {
            let store = Arc::clone(&store);
            async move {
                order_ids(
                    &store
                        .list_orders(&filter, PageRequest::first(10))
                        .await
                        .unwrap(),
                )
            }
        };

        let of_amina = list(OrderFilter {
            client_id: Some(amina),
            ..OrderFilter::default()
        })
        .await;
        let of_courier = list(OrderFilter {
            courier_id: Some(courier),
            ..OrderFilter::default()
        })
        .await;
        let pending = list(OrderFilter {
            status: Some(OrderStatus::Pending),
            ..OrderFilter::default()
        })
        .await;
        let karims_pending = list(OrderFilter {
            client_id: Some(karim),
            status: Some(OrderStatus::Pending),
            ..OrderFilter::default()
        })
        .await;

        assert_eq!(of_amina, [aminas.id]);
        assert_eq!(of_courier, [assigned.id]);
        assert_eq!(pending, [aminas.id]);
        assert_eq!(karims_pending, []);
    }

    pub async fn updating_an_order_needs_the_version_it_was_read_at<S: Store>(store: Arc<S>) {
        let order = a_stored_order(&*store, UserId::new()).await;
        let confirmed = moved(&order, OrderStatus::Confirmed);
        let cancelled = moved(&order, OrderStatus::Cancelled);

        let first = store.update_order(&confirmed, 0).await.unwrap();
        let stale = store.update_order(&cancelled, 0).await.unwrap();

        assert!(first);
        assert!(!stale);
        assert_eq!(store.order(order.id).await.unwrap(), Some(confirmed));
    }

    pub async fn updating_an_order_writes_only_the_workflow_fields<S: Store>(store: Arc<S>) {
        let order = a_stored_order(&*store, UserId::new()).await;
        let mut next = moved(&order, OrderStatus::Confirmed);
        next.courier_id = Some(UserId::new());
        let mut tampered = next.clone();
        tampered.total_cents = 1;
        tampered.delivery_code = DeliveryCode::parse("999999").unwrap();
        tampered.lines.clear();

        let updated = store.update_order(&tampered, 0).await.unwrap();

        assert!(updated);
        assert_eq!(store.order(order.id).await.unwrap(), Some(next));
    }

    pub async fn updating_an_unknown_order_fails<S: Store>(store: Arc<S>) {
        let order = moved(&order_of(UserId::new()), OrderStatus::Confirmed);

        let updated = store.update_order(&order, 0).await.unwrap();

        assert!(!updated);
        assert_eq!(store.order(order.id).await.unwrap(), None);
    }

    pub async fn of_sixteen_concurrent_updates_from_one_version_exactly_one_wins<S: Store>(
        store: Arc<S>,
    ) {
        let order = a_stored_order(&*store, UserId::new()).await;
        let contender = order.clone();

        let outcomes = race(&store, 16, move |store, index| {
            let mut next = moved(&contender, OrderStatus::Confirmed);
            next.courier_id = Some(UserId::from_uuid(uuid::Uuid::from_u128(index as u128 + 1)));
            async move { store.update_order(&next, 0).await.unwrap() }
        })
        .await;

        let winners = outcomes.iter().filter(|won| **won).count();
        assert_eq!(winners, 1, "{outcomes:?}");
        let stored = store.order(order.id).await.unwrap().unwrap();
        assert_eq!(stored.version, 1);
        assert_eq!(stored.history.len(), 1);
    }

    /// `order` placed at `at`, in `status`, delivered by `courier` when given.
    fn placed(at: DateTime<Utc>, status: OrderStatus, courier: Option<UserId>) -> Order {
        Order {
            created_at: at,
            updated_at: at,
            status,
            courier_id: courier,
            ..order_of(UserId::new())
        }
    }

    fn sorted<T: Ord, N: Ord>(mut pairs: Vec<(T, N)>) -> Vec<(T, N)> {
        pairs.sort();
        pairs
    }

    fn status_counts(totals: &OrderTotals) -> Vec<(&'static str, u64)> {
        sorted(
            totals
                .per_status
                .iter()
                .map(|(status, n)| (status.as_str(), *n))
                .collect(),
        )
    }

    pub async fn order_totals_count_statuses_revenue_and_deliveries_per_courier<S: Store>(
        store: Arc<S>,
    ) {
        let (karim, omar) = (UserId::new(), UserId::new());
        for order in [
            placed(t0(), OrderStatus::Delivered, Some(karim)),
            placed(t0(), OrderStatus::Delivered, Some(karim)),
            placed(t0(), OrderStatus::Delivered, Some(omar)),
            placed(t0(), OrderStatus::PickedUp, Some(omar)),
            placed(t0(), OrderStatus::Pending, None),
        ] {
            store.insert_order(&order).await.unwrap();
        }

        let totals = store.order_totals(PlacedBetween::default()).await.unwrap();

        assert_eq!(
            status_counts(&totals),
            [("delivered", 3), ("pending", 1), ("picked_up", 1)]
        );
        let each = order_of(UserId::new()).total_cents;
        assert_eq!(
            totals.delivered_revenue,
            [(Currency::parse("MAD").unwrap(), 3 * each)]
        );
        assert_eq!(
            sorted(totals.deliveries_per_courier),
            sorted(vec![(karim, 2), (omar, 1)])
        );
    }

    pub async fn order_totals_cover_only_orders_placed_within_the_period<S: Store>(store: Arc<S>) {
        let (before, inside, at_the_end) = (
            t0() - Duration::milliseconds(1),
            t0() + Duration::hours(1),
            t0() + Duration::days(1),
        );
        for at in [before, t0(), inside, at_the_end] {
            store
                .insert_order(&placed(at, OrderStatus::Pending, None))
                .await
                .unwrap();
        }

        let totals = store
            .order_totals(PlacedBetween {
                from: Some(t0()),
                to: Some(at_the_end),
            })
            .await
            .unwrap();
        let from_only = store
            .order_totals(PlacedBetween {
                from: Some(t0()),
                to: None,
            })
            .await
            .unwrap();

        assert_eq!(status_counts(&totals), [("pending", 2)]);
        assert_eq!(status_counts(&from_only), [("pending", 3)]);
    }

    pub async fn delivery_code_attempts_are_reserved_up_to_the_maximum<S: Store>(store: Arc<S>) {
        let order = a_stored_order(&*store, UserId::new()).await;

        let first = store
            .reserve_delivery_code_attempt(order.id, 2)
            .await
            .unwrap();
        let second = store
            .reserve_delivery_code_attempt(order.id, 2)
            .await
            .unwrap();
        let third = store
            .reserve_delivery_code_attempt(order.id, 2)
            .await
            .unwrap();
        let unknown = store
            .reserve_delivery_code_attempt(OrderId::new(), 2)
            .await
            .unwrap();

        assert_eq!((first, second, third, unknown), (true, true, false, false));
        let stored = store.order(order.id).await.unwrap().unwrap();
        assert_eq!(stored.delivery_code_attempts, 2);
        assert_eq!(stored.version, order.version);
    }

    pub async fn of_sixteen_concurrent_delivery_code_attempts_with_five_allowed_exactly_five_are_reserved<
        S: Store,
    >(
        store: Arc<S>,
    ) {
        let id = a_stored_order(&*store, UserId::new()).await.id;

        let outcomes = race(&store, 16, move |store, _| async move {
            store.reserve_delivery_code_attempt(id, 5).await.unwrap()
        })
        .await;

        assert_eq!(outcomes.iter().filter(|reserved| **reserved).count(), 5);
        let stored = store.order(id).await.unwrap().unwrap();
        assert_eq!(stored.delivery_code_attempts, 5);
    }

    pub async fn order_totals_of_no_orders_are_empty<S: Store>(store: Arc<S>) {
        let totals = store.order_totals(PlacedBetween::default()).await.unwrap();

        assert_eq!(totals, OrderTotals::default());
    }
}

// ---------------------------------------------------------------------------------------------
// What only the SQLite store promises: a file that outlives the process
// ---------------------------------------------------------------------------------------------

mod sqlite_file {
    use std::path::Path;

    use allomedia::adapters::sqlite::SqliteStore;
    use rusqlite::Connection;

    use super::*;

    fn schema_version(path: &Path) -> u32 {
        Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn data_survives_closing_and_reopening_the_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.db");
        let store = SqliteStore::open(&path).unwrap();
        let user = a_stored_user(&store, "amina@example.com").await;
        let session = a_stored_session(&store, &user).await;
        drop(store);

        let reopened = SqliteStore::open(&path).unwrap();

        assert_eq!(reopened.user_by_id(user.id).await.unwrap(), Some(user));
        assert_eq!(reopened.session(session.id).await.unwrap(), Some(session));
    }

    #[tokio::test]
    async fn opening_creates_the_missing_folders() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("data").join("nested").join("store.db");

        let store = SqliteStore::open(&path).unwrap();

        assert!(path.is_file());
        assert!(store.ping().await.is_ok());
    }

    #[tokio::test]
    async fn reopening_applies_no_migration_twice() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.db");
        drop(SqliteStore::open(&path).unwrap());
        let version_after_first_open = schema_version(&path);

        let reopened = SqliteStore::open(&path);

        assert!(reopened.is_ok(), "{:?}", reopened.err());
        assert!(version_after_first_open > 0);
        assert_eq!(schema_version(&path), version_after_first_open);
    }

    #[tokio::test]
    async fn a_database_from_a_newer_build_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.db");
        drop(SqliteStore::open(&path).unwrap());
        let newer = schema_version(&path) + 1;
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", newer)
            .unwrap();

        let reopened = SqliteStore::open(&path);

        assert!(reopened.is_err());
        assert_eq!(schema_version(&path), newer);
    }

    #[tokio::test]
    async fn the_file_is_in_write_ahead_log_mode() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.db");
        let _store = SqliteStore::open(&path).unwrap();

        let mode: String = Connection::open(&path)
            .unwrap()
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();

        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn a_corrupt_row_is_a_store_error_not_a_panic() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.db");
        let store = SqliteStore::open(&path).unwrap();
        let user = a_stored_user(&store, "amina@example.com").await;
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE users SET role = 'pirate'", [])
            .unwrap();

        let read = store.user_by_id(user.id).await;

        let error = anyhow::Error::from(read.expect_err("a corrupt role must not read back"));
        let chain = format!("{error:#}");
        assert!(chain.contains("column `role`"), "{chain}");
    }

    /// Two stores on one file stand for two processes: the guards hold in SQLite itself,
    /// not in anything one process shares between its connections.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn guards_hold_across_two_stores_on_one_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.db");
        let first = Arc::new(SqliteStore::open(&path).unwrap());
        let second = Arc::new(SqliteStore::open(&path).unwrap());
        let user = a_stored_user(&*first, "amina@example.com").await;
        let challenge =
            a_stored_challenge(&*first, &user, |challenge| challenge.attempts = 3).await;
        let id = challenge.id;

        let attempt = move |store: Arc<SqliteStore>, _| async move {
            store.count_attempt(id, 8, t0()).await.unwrap()
        };

        let (from_first, from_second) =
            tokio::join!(race(&first, 10, attempt), race(&second, 10, attempt));

        let counted = from_first
            .iter()
            .chain(&from_second)
            .filter(|outcome| matches!(outcome, AttemptOutcome::Counted(_)))
            .count();
        assert_eq!(counted, 5);
        assert_eq!(first.challenge(id).await.unwrap().unwrap().attempts, 8);
    }
}

// ---------------------------------------------------------------------------------------------
// Where the MongoDB backend finds a server
// ---------------------------------------------------------------------------------------------

/// The MongoDB tests run against `MONGODB_TEST_URI` if it is set, else in a `mongo` container
/// when a Docker engine answers, else not at all — each test then prints a `skipped:` line.
/// Nothing here imitates a server.
mod mongo_server {
    use std::future::IntoFuture;

    use allomedia::adapters::mongo::MongoStore;
    use mongodb::options::ClientOptions;
    use mongodb::{Client, Database};
    use testcontainers_modules::mongo::Mongo;
    use testcontainers_modules::testcontainers::ContainerAsync;
    use testcontainers_modules::testcontainers::core::client::docker_client_instance;
    use testcontainers_modules::testcontainers::runners::AsyncRunner;
    use tokio::runtime::Handle;
    use tokio::sync::OnceCell;

    use super::Unavailable;

    /// A server for the suite (`mongodb://…`); each test gets a database of its own on it.
    const URI_VARIABLE: &str = "MONGODB_TEST_URI";

    /// Set where a MongoDB must be found (a CI job with Docker, say): a missing server then
    /// fails the tests instead of skipping them.
    const REQUIRED_VARIABLE: &str = "MONGODB_TEST_REQUIRED";

    enum Server {
        Named(String),
        Docker,
        Missing,
    }

    /// Found once per test binary: the answer does not change while it runs.
    static SERVER: OnceCell<Server> = OnceCell::const_new();

    async fn find_server() -> Server {
        if let Some(uri) = std::env::var(URI_VARIABLE)
            .ok()
            .filter(|uri| !uri.trim().is_empty())
        {
            return Server::Named(uri);
        }
        // Without an engine this fails in about a millisecond (no socket); it honours
        // DOCKER_HOST.
        let docker_answers = match docker_client_instance().await {
            Ok(docker) => docker.ping().await.is_ok(),
            Err(_) => false,
        };
        if docker_answers {
            Server::Docker
        } else {
            Server::Missing
        }
    }

    /// One test's own database: uniquely named on the named server, and dropped when the test
    /// ends; or on a container of its own, removed when the test ends.
    pub struct TestDatabase {
        /// Driver options naming the test's database, for `MongoStore::connect_with_options`.
        pub options: ClientOptions,
        /// Direct access, for what only a test does: looking at or damaging raw documents.
        pub raw: Database,
        container: Option<ContainerAsync<Mongo>>,
    }

    pub async fn fresh_database() -> Result<TestDatabase, Unavailable> {
        let (uri, container) = match SERVER.get_or_init(find_server).await {
            Server::Named(uri) => (uri.clone(), None),
            Server::Docker => {
                // A one-node replica set: managers' guarded changes run in transactions,
                // which a standalone server refuses.
                let container = Mongo::repl_set()
                    .start()
                    .await
                    .expect("starting a MongoDB container");
                let host = container.get_host().await.unwrap();
                let port = container.get_host_port_ipv4(27017).await.unwrap();
                (
                    format!("mongodb://{host}:{port}/?directConnection=true"),
                    Some(container),
                )
            }
            Server::Missing => {
                assert!(
                    std::env::var_os(REQUIRED_VARIABLE).is_none(),
                    "{REQUIRED_VARIABLE} is set, but there is no MongoDB: set {URI_VARIABLE} \
                     or start Docker"
                );
                return Err(Unavailable(
                    "no MongoDB (set MONGODB_TEST_URI or start Docker)",
                ));
            }
        };
        let mut options = ClientOptions::parse(&uri)
            .await
            .expect("MONGODB_TEST_URI must be a mongodb:// or mongodb+srv:// URL");
        let name = format!("allomedia_contract_{}", uuid::Uuid::now_v7().simple());
        options.default_database = Some(name.clone());
        let raw = Client::with_options(options.clone())
            .unwrap()
            .database(&name);
        Ok(TestDatabase {
            options,
            raw,
            container,
        })
    }

    pub async fn fresh_store() -> Result<(MongoStore, TestDatabase), Unavailable> {
        let database = fresh_database().await?;
        let store = MongoStore::connect_with_options(database.options.clone())
            .await
            .unwrap();
        Ok((store, database))
    }

    impl Drop for TestDatabase {
        fn drop(&mut self) {
            // A container takes its data with it. On a named server, drop the test's
            // database. `Drop` cannot await, so this thread blocks — allowed because every
            // MongoDB test runs on a multi-threaded runtime. Best effort: a leftover
            // `allomedia_contract_*` database costs disk space, nothing else.
            if self.container.is_none() {
                let database = self.raw.clone();
                let _ = tokio::task::block_in_place(|| {
                    Handle::current().block_on(database.drop().into_future())
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What only the MongoDB store promises: its indexes and its documents
// ---------------------------------------------------------------------------------------------

mod mongo_database {
    use allomedia::adapters::mongo::MongoStore;
    use mongodb::bson::{Bson, Document, doc, spec::BinarySubtype};
    use mongodb::{Collection, IndexModel};

    use super::mongo_server::{TestDatabase, fresh_database, fresh_store};
    use super::*;

    /// The test's own database, or `None` once the skip has been reported.
    async fn database_or_skip(test: &str) -> Option<TestDatabase> {
        fresh_database()
            .await
            .map_err(|unavailable| unavailable.report(test))
            .ok()
    }

    /// The test's own database and the store on it, or `None` once the skip has been reported.
    async fn store_or_skip(test: &str) -> Option<(MongoStore, TestDatabase)> {
        fresh_store()
            .await
            .map_err(|unavailable| unavailable.report(test))
            .ok()
    }

    async fn indexes(database: &TestDatabase, collection: &str) -> Vec<IndexModel> {
        let mut cursor = database
            .raw
            .collection::<Document>(collection)
            .list_indexes()
            .await
            .unwrap();
        let mut indexes = Vec::new();
        while cursor.advance().await.unwrap() {
            indexes.push(cursor.deserialize_current().unwrap());
        }
        indexes
    }

    fn index<'a>(indexes: &'a [IndexModel], name: &str) -> &'a IndexModel {
        indexes
            .iter()
            .find(|index| index.options.as_ref().and_then(|o| o.name.as_deref()) == Some(name))
            .unwrap_or_else(|| panic!("no index named {name} in {indexes:?}"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connecting_creates_the_indexes_and_connecting_again_keeps_them() {
        let test = "mongo_database::connecting_creates_the_indexes_and_connecting_again_keeps_them";
        let Some(database) = database_or_skip(test).await else {
            return;
        };
        let first = MongoStore::connect_with_options(database.options.clone()).await;

        let second = MongoStore::connect_with_options(database.options.clone()).await;

        assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
        let users = indexes(&database, "users").await;
        let email = index(&users, "email_unique");
        assert_eq!(email.keys, doc! { "email": 1 });
        assert_eq!(email.options.as_ref().unwrap().unique, Some(true));
        assert_eq!(
            index(&users, "role_status_id").keys,
            doc! { "role": 1, "status": 1, "_id": 1 }
        );
        assert_eq!(
            index(&users, "status_id").keys,
            doc! { "status": 1, "_id": 1 }
        );
        let sessions = indexes(&database, "sessions").await;
        assert_eq!(index(&sessions, "user_id").keys, doc! { "user_id": 1 });
        for collection in ["one_time_tokens", "login_challenges"] {
            let all = indexes(&database, collection).await;
            assert_eq!(index(&all, "user_id").keys, doc! { "user_id": 1 });
        }
        for collection in ["one_time_tokens", "login_challenges", "sessions"] {
            let all = indexes(&database, collection).await;
            let ttl = index(&all, "expires_at_ttl");
            assert_eq!(ttl.keys, doc! { "expires_at": 1 }, "{collection}");
            assert_eq!(
                ttl.options.as_ref().unwrap().expire_after,
                Some(std::time::Duration::from_secs(24 * 60 * 60)),
                "{collection}"
            );
        }
        let audit = indexes(&database, "audit_events").await;
        assert_eq!(
            index(&audit, "user_newest_first").keys,
            doc! { "user_id": 1, "_id": -1 }
        );
        assert_eq!(
            index(&audit, "kind_newest_first").keys,
            doc! { "kind": 1, "_id": -1 }
        );
        // The log is kept: no index of it expires anything.
        assert!(
            audit.iter().all(|index| index
                .options
                .as_ref()
                .is_none_or(|o| o.expire_after.is_none())),
            "{audit:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn documents_hold_binary_uuids_and_bson_dates() {
        let test = "mongo_database::documents_hold_binary_uuids_and_bson_dates";
        let Some((store, database)) = store_or_skip(test).await else {
            return;
        };
        let user = a_stored_user(&store, "amina@example.com").await;

        let raw: Collection<Document> = database.raw.collection("users");
        let stored = raw.find_one(doc! {}).await.unwrap().unwrap();

        match stored.get("_id") {
            Some(Bson::Binary(id)) => {
                assert_eq!(id.subtype, BinarySubtype::Uuid);
                assert_eq!(id.bytes, user.id.as_uuid().as_bytes().to_vec());
            }
            other => panic!("_id should be a binary UUID, is {other:?}"),
        }
        assert_eq!(
            stored.get("created_at"),
            Some(&Bson::DateTime(mongodb::bson::DateTime::from_millis(
                user.created_at.timestamp_millis()
            )))
        );
        assert_eq!(stored.get_str("email").unwrap(), "amina@example.com");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_corrupt_document_is_a_store_error_not_a_panic() {
        let test = "mongo_database::a_corrupt_document_is_a_store_error_not_a_panic";
        let Some((store, database)) = store_or_skip(test).await else {
            return;
        };
        let user = a_stored_user(&store, "amina@example.com").await;
        database
            .raw
            .collection::<Document>("users")
            .update_many(doc! {}, doc! { "$set": { "role": "pirate" } })
            .await
            .unwrap();

        let read = store.user_by_id(user.id).await;

        let error = anyhow::Error::from(read.expect_err("a corrupt role must not read back"));
        let chain = format!("{error:#}");
        assert!(chain.contains("field `role`"), "{chain}");
    }

    /// Two stores stand for two service instances, each with its own connection pool: the
    /// guards hold in the server, not in anything one process shares.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn guards_hold_across_two_stores_on_one_database() {
        let test = "mongo_database::guards_hold_across_two_stores_on_one_database";
        let Some((first, database)) = store_or_skip(test).await else {
            return;
        };
        let second = MongoStore::connect_with_options(database.options.clone())
            .await
            .unwrap();
        let (first, second) = (Arc::new(first), Arc::new(second));
        let user = a_stored_user(&*first, "amina@example.com").await;
        let challenge =
            a_stored_challenge(&*first, &user, |challenge| challenge.attempts = 3).await;
        let id = challenge.id;

        let attempt = move |store: Arc<MongoStore>, _| async move {
            store.count_attempt(id, 8, t0()).await.unwrap()
        };
        let (from_first, from_second) =
            tokio::join!(race(&first, 10, attempt), race(&second, 10, attempt));

        let counted = from_first
            .iter()
            .chain(&from_second)
            .filter(|outcome| matches!(outcome, AttemptOutcome::Counted(_)))
            .count();
        assert_eq!(counted, 5);
        assert_eq!(first.challenge(id).await.unwrap().unwrap().attempts, 8);
    }
}
