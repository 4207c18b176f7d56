//! Tests: the store contract of `AttemptThrottleStore`, run against every store adapter — the
//! record and its compare-and-set, and the lockout back-off through the core's reservation
//! step (`reserve_attempt`) on each store, including 200 reservations at once.

use crate::builders::*;

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

/// A record with every field set, the lock included.
fn a_locked_record() -> ThrottleRecord {
    ThrottleRecord {
        attempts: 3,
        locked_until: Some(t0() + Duration::minutes(1)),
        next_lock: Duration::minutes(2),
        forgotten_at: t0() + Duration::hours(24),
    }
}

fn an_unlocked_record() -> ThrottleRecord {
    ThrottleRecord {
        attempts: 1,
        locked_until: None,
        next_lock: Duration::minutes(1),
        forgotten_at: t0() + Duration::hours(24),
    }
}

async fn reserve_times<S: Store>(
    store: &S,
    key: &SecretDigest,
    times: usize,
    now: DateTime<Utc>,
) -> Vec<ReserveOutcome> {
    let mut outcomes = Vec::new();
    for _ in 0..times {
        outcomes.push(reserve_attempt(store, key, &a_rule(), now).await.unwrap());
    }
    outcomes
}

store_contract! {
    pub async fn a_throttle_record_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let (locked, unlocked) = (a_key(11), a_key(12));

        let first = store
            .replace_throttle_record(&locked, None, &a_locked_record())
            .await
            .unwrap();
        let second = store
            .replace_throttle_record(&unlocked, None, &an_unlocked_record())
            .await
            .unwrap();

        assert!(first && second);
        assert_eq!(
            store.throttle_record(&locked).await.unwrap(),
            Some(a_locked_record())
        );
        assert_eq!(
            store.throttle_record(&unlocked).await.unwrap(),
            Some(an_unlocked_record())
        );
        assert_eq!(store.throttle_record(&a_key(13)).await.unwrap(), None);
    }

    pub async fn a_throttle_record_is_replaced_only_from_the_record_stored<S: Store>(
        store: Arc<S>,
    ) {
        let key = a_key(14);
        store
            .replace_throttle_record(&key, None, &an_unlocked_record())
            .await
            .unwrap();
        let stale = [
            None,
            Some(ThrottleRecord { attempts: 2, ..an_unlocked_record() }),
            Some(ThrottleRecord { locked_until: Some(t0()), ..an_unlocked_record() }),
            Some(ThrottleRecord { next_lock: Duration::minutes(2), ..an_unlocked_record() }),
            Some(ThrottleRecord { forgotten_at: t0(), ..an_unlocked_record() }),
        ];

        for expected in &stale {
            let replaced = store
                .replace_throttle_record(&key, expected.as_ref(), &a_locked_record())
                .await
                .unwrap();
            assert!(!replaced, "replaced from {expected:?}");
        }
        let replaced = store
            .replace_throttle_record(&key, Some(&an_unlocked_record()), &a_locked_record())
            .await
            .unwrap();

        assert!(replaced);
        assert_eq!(
            store.throttle_record(&key).await.unwrap(),
            Some(a_locked_record())
        );
    }

    pub async fn a_missing_throttle_record_is_not_replaced<S: Store>(store: Arc<S>) {
        let key = a_key(15);

        let replaced = store
            .replace_throttle_record(&key, Some(&an_unlocked_record()), &a_locked_record())
            .await
            .unwrap();

        assert!(!replaced);
        assert_eq!(store.throttle_record(&key).await.unwrap(), None);
    }

    pub async fn clearing_a_key_removes_its_record_and_spares_other_keys<S: Store>(
        store: Arc<S>,
    ) {
        let (cleared, other) = (a_key(16), a_key(17));
        for key in [&cleared, &other] {
            store
                .replace_throttle_record(key, None, &a_locked_record())
                .await
                .unwrap();
        }

        store.clear_attempts(&cleared).await.unwrap();

        assert_eq!(store.throttle_record(&cleared).await.unwrap(), None);
        assert_eq!(
            store.throttle_record(&other).await.unwrap(),
            Some(a_locked_record())
        );
    }

    pub async fn of_sixteen_concurrent_first_records_exactly_one_is_stored<S: Store>(
        store: Arc<S>,
    ) {
        let outcomes = race(&store, 16, move |store, index| async move {
            let record = ThrottleRecord {
                attempts: index as u32 + 1,
                ..an_unlocked_record()
            };
            store
                .replace_throttle_record(&a_key(18), None, &record)
                .await
                .unwrap()
        })
        .await;

        assert_eq!(outcomes.iter().filter(|won| **won).count(), 1);
    }

    pub async fn of_sixteen_concurrent_replacements_of_one_record_exactly_one_wins<S: Store>(
        store: Arc<S>,
    ) {
        let key = a_key(19);
        store
            .replace_throttle_record(&key, None, &an_unlocked_record())
            .await
            .unwrap();

        let outcomes = race(&store, 16, move |store, index| async move {
            let record = ThrottleRecord {
                attempts: index as u32 + 2,
                ..an_unlocked_record()
            };
            store
                .replace_throttle_record(&a_key(19), Some(&an_unlocked_record()), &record)
                .await
                .unwrap()
        })
        .await;

        assert_eq!(outcomes.iter().filter(|won| **won).count(), 1);
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
        let after = reserve_attempt(&*store, &key, &a_rule(), lock_end).await;

        assert!(
            during
                .iter()
                .all(|outcome| *outcome == ReserveOutcome::Locked { until: lock_end }),
            "{during:?}"
        );
        // Locked attempts were not counted: the lock after this one is the second (2 min).
        assert_eq!(after.unwrap(), ReserveOutcome::Reserved);
        assert_eq!(
            reserve_attempt(&*store, &key, &a_rule(), lock_end)
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
                reserve_attempt(&*store, &key, &a_rule(), now).await.unwrap()
            else {
                panic!("the key should be locked at {now}");
            };
            locks.push((until - now).num_minutes());
            now = until;
            let judged = reserve_attempt(&*store, &key, &a_rule(), now).await.unwrap();
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

        let outcome = reserve_attempt(&*store, &other, &a_rule(), t0()).await;

        assert_eq!(outcome.unwrap(), ReserveOutcome::Reserved);
        store.clear_attempts(&other).await.unwrap();
        assert!(matches!(
            reserve_attempt(&*store, &locked, &a_rule(), t0())
                .await
                .unwrap(),
            ReserveOutcome::Locked { .. }
        ));
    }

    /// The guarantee behind "of 200 parallel wrong passwords at most 10 are judged", with the
    /// core's compare-and-set retries against the store.
    pub async fn of_two_hundred_concurrent_reservations_exactly_the_limit_are_reserved<S: Store>(
        store: Arc<S>,
    ) {
        let rule = LockoutRule {
            max_attempts: 10,
            ..a_rule()
        };

        let outcomes = race(&store, 200, move |store, _| async move {
            reserve_attempt(&*store, &a_key(8), &rule, t0()).await.unwrap()
        })
        .await;

        let reserved = outcomes
            .iter()
            .filter(|outcome| **outcome == ReserveOutcome::Reserved)
            .count();
        assert_eq!(reserved, 10, "{outcomes:?}");
    }
}
