//! Tests: the store contract of `ChallengeStore`, run against every store adapter.

use crate::builders::*;

store_contract! {
    pub async fn closing_a_users_challenges_closes_every_open_one_and_no_one_elses<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        let open = a_stored_challenge(&*store, &user, |_| {}).await;
        let also_open = a_stored_challenge(&*store, &user, |c| c.attempts = 2).await;
        let completed_at = t0() + Duration::minutes(1);
        let completed =
            a_stored_challenge(&*store, &user, |c| c.completed_at = Some(completed_at)).await;
        let expired = a_stored_challenge(&*store, &user, |c| {
            c.expires_at = t0() + Duration::minutes(2);
        })
        .await;
        let others = a_stored_challenge(&*store, &other, |_| {}).await;
        let now = t0() + Duration::minutes(3);

        let closed = store.close_user_challenges(user.id, now).await.unwrap();

        assert_eq!(closed, 2);
        for id in [open.id, also_open.id] {
            assert_eq!(
                store.count_attempt(id, 5, now).await.unwrap(),
                AttemptOutcome::Closed
            );
            let stored = store.challenge(id).await.unwrap().unwrap();
            assert_eq!(stored.completed_at, Some(now));
        }
        // A finished challenge keeps its own completion time; an expired one is left as is.
        assert_eq!(store.challenge(completed.id).await.unwrap(), Some(completed));
        assert_eq!(store.challenge(expired.id).await.unwrap(), Some(expired));
        assert!(matches!(
            store.count_attempt(others.id, 5, now).await.unwrap(),
            AttemptOutcome::Counted(_)
        ));
    }

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
}
