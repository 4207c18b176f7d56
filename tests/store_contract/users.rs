//! Tests: the store contract of `UserStore`, run against every store adapter.

use crate::builders::*;

store_contract! {
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
            locale: Locale::default(),
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
            locale: Default::default(),
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
            locale: None,
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

    pub async fn updating_a_profile_changes_the_language_of_the_account<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        assert_eq!(user.locale, Locale::En);
        let changes = ProfileChanges {
            locale: Some(Locale::Fr),
            ..ProfileChanges::default()
        };
        let at = t0() + Duration::days(1);

        let updated = store.update_profile(user.id, &changes, at).await.unwrap();

        let expected = User {
            locale: Locale::Fr,
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

    /// A NUL byte is a character like any other: no user's name or email holds one, so the
    /// search finds nobody — and never fails (MongoDB refuses a `$regex` containing NUL).
    pub async fn a_search_with_a_nul_byte_finds_nobody_and_does_not_fail<S: Store>(
        store: Arc<S>,
    ) {
        a_stored_user(&*store, "amina@example.com").await;

        let found = store
            .list_users(
                &UserFilter {
                    search: Some("amina\0".to_owned()),
                    ..UserFilter::default()
                },
                PageRequest::first(10),
            )
            .await;

        assert_eq!(found.map(|users| users.len()).map_err(|e| format!("{:#}", anyhow::Error::from(e))), Ok(0));
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
}
