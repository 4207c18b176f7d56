//! Tests: the store contract of `OneTimeTokenStore`, run against every store adapter.

use crate::builders::*;

store_contract! {
    pub async fn spending_a_users_tokens_spends_every_usable_one_of_that_purpose_only<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        let reset = |digest, expires_at| OneTimeToken {
            purpose: TokenPurpose::ResetPassword,
            ..token_for(&user, digest, expires_at)
        };
        let later = t0() + Duration::hours(1);
        store.insert_token(&reset(digest(1), later)).await.unwrap();
        store.insert_token(&reset(digest(2), later)).await.unwrap();
        // Already expired at `now`: not counted.
        store
            .insert_token(&reset(digest(3), t0() + Duration::minutes(1)))
            .await
            .unwrap();
        let verification = token_for(&user, digest(4), later);
        store.insert_token(&verification).await.unwrap();
        let others_reset = OneTimeToken {
            purpose: TokenPurpose::ResetPassword,
            ..token_for(&other, digest(5), later)
        };
        store.insert_token(&others_reset).await.unwrap();
        let now = t0() + Duration::minutes(30);

        let spent = store
            .spend_user_tokens(user.id, TokenPurpose::ResetPassword, now)
            .await
            .unwrap();

        assert_eq!(spent, 2);
        let purpose = TokenPurpose::ResetPassword;
        assert_eq!(store.consume_token(&digest(1), purpose, now).await.unwrap(), None);
        assert_eq!(store.consume_token(&digest(2), purpose, now).await.unwrap(), None);
        assert_eq!(store.peek_token(&digest(1), purpose, now).await.unwrap(), None);
        // Another purpose and another user keep theirs.
        assert_eq!(
            store
                .consume_token(&digest(4), TokenPurpose::VerifyEmail, now)
                .await
                .unwrap(),
            Some(user.id)
        );
        assert_eq!(
            store.consume_token(&digest(5), purpose, now).await.unwrap(),
            Some(other.id)
        );
        // Nothing left to spend.
        assert_eq!(
            store.spend_user_tokens(user.id, purpose, now).await.unwrap(),
            0
        );
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
}
