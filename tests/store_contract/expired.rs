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
}
