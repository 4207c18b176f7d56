//! Tests: the store contract of `SecondFactorStore`, run against every store adapter.

use crate::builders::*;

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

store_contract! {
    /// Two first setups at once, for users with no second-factor record yet: nothing is
    /// enabled, so both store their pending enrolment (the later one wins) — neither is told
    /// "already enabled". Twelve users race, so that an interleaving that breaks it shows.
    pub async fn concurrent_first_setups_both_store_a_pending_enrolment<S: Store>(
        store: Arc<S>,
    ) {
        for n in 0..12_u8 {
            let user = a_stored_user(&*store, &format!("user{n}@example.com")).await;
            let id = user.id;

            let outcomes = race(&store, 2, move |store, index| async move {
                let secret = sealed(u8::try_from(index).unwrap() + 1);
                store.put_pending_totp(id, &secret, t0()).await.unwrap()
            })
            .await;

            assert_eq!(outcomes, vec![true, true], "user {n}");
            let pending = store.totp_enrolment(id).await.unwrap().unwrap();
            assert_eq!(pending.enabled_at, None);
        }
    }

    /// Recovery codes never outlive the removal, even where no enrolment exists (codes stored
    /// without one, a half-finished earlier removal).
    pub async fn removing_totp_removes_recovery_codes_even_without_an_enrolment<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        store
            .replace_recovery_codes(user.id, &[digest(1), digest(2)], t0())
            .await
            .unwrap();

        let removed = store.remove_totp(user.id).await.unwrap();

        assert!(!removed, "there was no enrolment");
        assert_eq!(store.unused_recovery_codes(user.id).await.unwrap(), 0);
        assert!(
            !store
                .consume_recovery_code(user.id, &digest(1), t0())
                .await
                .unwrap()
        );
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
}
