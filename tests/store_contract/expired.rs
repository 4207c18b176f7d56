//! Tests: the store contract of `ExpiredRecordStore`, run against every store adapter.

use crate::builders::*;

/// The instant the purge is asked about; every record below expires just before it or at it.
fn cutoff() -> DateTime<Utc> {
    t0() + Duration::days(40)
}

fn throttle_forgotten_at(at: DateTime<Utc>) -> ThrottleRecord {
    ThrottleRecord {
        attempts: 1,
        locked_until: None,
        next_lock: Duration::minutes(1),
        forgotten_at: at,
    }
}

/// One token, challenge, session, device and throttle record of `user`, all expiring at `at`;
/// `n` tells their digests apart.
async fn records_expiring_at<S: Store>(
    store: &S,
    user: &User,
    n: u8,
    at: DateTime<Utc>,
) -> (ChallengeId, SessionId) {
    store
        .insert_token(&token_for(user, digest(n), at))
        .await
        .unwrap();
    let challenge = a_stored_challenge(store, user, |c| c.expires_at = at).await;
    let mut session = session_for(user);
    session.expires_at = at;
    store.insert_session(&session).await.unwrap();
    let mut device = device_for(user, n);
    device.expires_at = at;
    store.insert_device(&device).await.unwrap();
    let record = throttle_forgotten_at(at);
    assert!(
        store
            .replace_throttle_record(&digest(n), None, &record)
            .await
            .unwrap()
    );
    (challenge.id, session.id)
}

/// Which of the records of `records_expiring_at(…, n, …)` are still stored.
async fn still_stored<S: Store>(
    store: &S,
    user: &User,
    n: u8,
    (challenge, session): (ChallengeId, SessionId),
) -> [bool; 5] {
    // Asked at t0, long before any of them expires: only deletion makes them absent.
    [
        store
            .peek_token(&digest(n), TokenPurpose::VerifyEmail, t0())
            .await
            .unwrap()
            .is_some(),
        store.challenge(challenge).await.unwrap().is_some(),
        store.session(session).await.unwrap().is_some(),
        store.use_device(user.id, &digest(n), t0()).await.unwrap(),
        store.throttle_record(&digest(n)).await.unwrap().is_some(),
    ]
}

/// Accounts registered before this and never verified are deleted.
fn registered_before() -> DateTime<Utc> {
    t0() + Duration::days(7)
}

/// Stores a user with this email, created at `created_at`, verified at `verified_at` if
/// ever, with one email-verification token (digest `n`, live long after the purge) and a
/// session.
async fn an_account_registered_at<S: Store>(
    store: &S,
    email: &str,
    n: u8,
    created_at: DateTime<Utc>,
    verified_at: Option<DateTime<Utc>>,
) -> (User, SessionId) {
    let user = User {
        created_at,
        updated_at: created_at,
        email_verified_at: verified_at,
        locale: Default::default(),
        ..user_with_email(email)
    };
    store.insert_user(&user).await.unwrap();
    store
        .insert_token(&token_for(&user, digest(n), t0() + Duration::days(40)))
        .await
        .unwrap();
    let session = a_stored_session(store, &user).await;
    (user, session.id)
}

/// Whether the user, their token (digest `n`) and their session are still stored.
async fn account_stored<S: Store>(
    store: &S,
    (user, session): &(User, SessionId),
    n: u8,
) -> [bool; 3] {
    [
        store.user_by_id(user.id).await.unwrap().is_some(),
        store
            .peek_token(&digest(n), TokenPurpose::VerifyEmail, t0())
            .await
            .unwrap()
            .is_some(),
        store.session(*session).await.unwrap().is_some(),
    ]
}

/// An audit event about `user` at `at`.
fn event_at(user: Option<&User>, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        kind: AuditKind::LoginFailed,
        at,
        user_id: user.map(|user| user.id),
        actor_id: None,
        client: ClientInfo {
            ip: Some("198.51.100.23".into()),
            user_agent: None,
        },
        detail: None,
    }
}

async fn every_event_id<S: Store>(store: &S) -> Vec<AuditEventId> {
    let mut ids: Vec<AuditEventId> = store
        .audit_events(&AuditFilter::default(), PageRequest::first(100))
        .await
        .unwrap()
        .iter()
        .map(|event| event.id)
        .collect();
    ids.sort();
    ids
}

store_contract! {
    pub async fn records_expired_before_the_cutoff_go_and_the_others_stay<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let expired =
            records_expiring_at(&*store, &user, 1, cutoff() - Duration::milliseconds(1)).await;
        let at_cutoff = records_expiring_at(&*store, &user, 2, cutoff()).await;

        let purged = store.delete_expired(cutoff()).await.unwrap();

        assert_eq!(purged, 5);
        assert_eq!(still_stored(&*store, &user, 1, expired).await, [false; 5]);
        assert_eq!(still_stored(&*store, &user, 2, at_cutoff).await, [true; 5]);
    }

    pub async fn the_purge_keeps_users_orders_and_the_audit_log<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let order = a_stored_order(&*store, user.id).await;
        records_expiring_at(&*store, &user, 1, t0()).await;

        let purged = store.delete_expired(cutoff()).await.unwrap();
        let again = store.delete_expired(cutoff()).await.unwrap();

        assert_eq!(purged, 5);
        assert_eq!(again, 0);
        assert!(store.user_by_id(user.id).await.unwrap().is_some());
        assert!(store.order(order.id).await.unwrap().is_some());
    }

    pub async fn never_verified_accounts_registered_before_the_cutoff_go_with_what_they_own<
        S: Store,
    >(
        store: Arc<S>,
    ) {
        let just_before = registered_before() - Duration::milliseconds(1);
        let old_unverified =
            an_account_registered_at(&*store, "old@example.com", 1, just_before, None).await;
        let recent_unverified =
            an_account_registered_at(&*store, "recent@example.com", 2, registered_before(), None)
                .await;
        let old_verified = an_account_registered_at(
            &*store,
            "verified@example.com",
            3,
            t0(),
            Some(t0() + Duration::hours(1)),
        )
        .await;
        let verified_late =
            an_account_registered_at(&*store, "late@example.com", 4, t0(), None).await;
        store
            .mark_email_verified(verified_late.0.id, registered_before() + Duration::days(1))
            .await
            .unwrap();
        let about_the_deleted = event_at(Some(&old_unverified.0), t0());
        store.record(&about_the_deleted).await.unwrap();

        let purged = store.delete_unverified_users(registered_before()).await.unwrap();
        let again = store.delete_unverified_users(registered_before()).await.unwrap();

        assert_eq!(purged, 1);
        assert_eq!(again, 0);
        assert_eq!(account_stored(&*store, &old_unverified, 1).await, [false; 3]);
        assert_eq!(account_stored(&*store, &recent_unverified, 2).await, [true; 3]);
        assert_eq!(account_stored(&*store, &old_verified, 3).await, [true; 3]);
        assert_eq!(account_stored(&*store, &verified_late, 4).await, [true; 3]);
        assert_eq!(every_event_id(&*store).await, vec![about_the_deleted.id]);
    }

    pub async fn the_address_of_a_deleted_never_verified_account_can_register_again<S: Store>(
        store: Arc<S>,
    ) {
        let (abandoned, _) =
            an_account_registered_at(&*store, "amina@example.com", 1, t0(), None).await;
        store.delete_unverified_users(registered_before()).await.unwrap();

        let again = user_with_email("amina@example.com");
        let inserted = store.insert_user(&again).await;

        assert!(inserted.is_ok(), "{inserted:?}");
        let found = store.user_by_email(&again.email).await.unwrap().unwrap();
        assert_eq!(found.id, again.id);
        assert_ne!(found.id, abandoned.id);
    }

    pub async fn audit_events_before_the_cutoff_go_and_the_others_stay<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let old = event_at(Some(&user), cutoff() - Duration::milliseconds(1));
        let older_unknown_email = event_at(None, t0());
        let at_cutoff = event_at(None, cutoff());
        let newer = event_at(Some(&user), cutoff() + Duration::days(1));
        for event in [&old, &older_unknown_email, &at_cutoff, &newer] {
            store.record(event).await.unwrap();
        }

        let purged = store.delete_audit_events_before(cutoff()).await.unwrap();
        let again = store.delete_audit_events_before(cutoff()).await.unwrap();

        assert_eq!(purged, 2);
        assert_eq!(again, 0);
        let mut kept = vec![at_cutoff.id, newer.id];
        kept.sort();
        assert_eq!(every_event_id(&*store).await, kept);
        assert!(store.user_by_id(user.id).await.unwrap().is_some());
    }
}
