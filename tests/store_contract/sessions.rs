//! Tests: the store contract of `SessionStore`, run against every store adapter.

use crate::builders::*;

store_contract! {
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

    pub async fn a_session_reads_back_with_its_users_account_as_it_is_now<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let session = a_stored_session(&*store, &user).await;
        let renamed = ProfileChanges {
            name: Some(Name::parse("Amina B.").unwrap()),
            ..ProfileChanges::default()
        };
        store
            .update_profile(user.id, &renamed, t0() + Duration::hours(1))
            .await
            .unwrap();

        let (read_session, account) = store.session_and_user(session.id).await.unwrap().unwrap();

        assert_eq!(read_session, session);
        assert_eq!(account, store.user_by_id(user.id).await.unwrap());
        assert_eq!(account.unwrap().name.as_str(), "Amina B.");
        assert_eq!(store.session_and_user(SessionId::new()).await.unwrap(), None);
    }

    pub async fn a_deleted_users_session_reads_back_without_an_account<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let session = a_stored_session(&*store, &user).await;

        store.delete_user(user.id).await.unwrap();

        // A store may delete the session with its user, or keep it: never with an account.
        let read = store.session_and_user(session.id).await.unwrap();
        assert!(read.as_ref().is_none_or(|(_, account)| account.is_none()), "{read:?}");
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
}
