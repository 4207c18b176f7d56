//! Core: per-account throttling of wrong passwords and wrong second-factor codes, against
//! in-memory adapters and a manual clock — every back-off step, and parallel guesses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::Duration;

use allomedia::core::auth::{LoginError, VerifyCodeError};
use allomedia::core::model::{Password, PasswordHash};
use allomedia::core::ports::{HashingError, PasswordHashing};
use testkit::{ExpectChallenge, PASSWORD, World, code_request, other_code};

const EMAIL: &str = "amina@example.com";
const WRONG: &str = "not the password at all";

/// Password hashing that counts how many verifications were judged.
struct CountingHashing {
    inner: Arc<dyn PasswordHashing>,
    verifications: AtomicUsize,
}

#[async_trait]
impl PasswordHashing for CountingHashing {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashingError> {
        self.inner.hash(password).await
    }

    async fn verify(&self, candidate: &str, hash: &PasswordHash) -> Result<bool, HashingError> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(candidate, hash).await
    }

    fn dummy_hash(&self) -> &PasswordHash {
        self.inner.dummy_hash()
    }
}

/// A world whose password hashing counts the verifications it judges.
fn world_counting_verifications() -> (World, Arc<CountingHashing>) {
    let mut counting = None;
    let world = World::with_crypto(|crypto| {
        let hashing = Arc::new(CountingHashing {
            inner: crypto.passwords.clone(),
            verifications: AtomicUsize::new(0),
        });
        crypto.passwords = hashing.clone();
        counting = Some(hashing);
    });
    (
        world,
        counting.expect("the world was built with counting hashing"),
    )
}

async fn wrong_passwords(world: &World, email: &str, times: usize) {
    for attempt in 1..=times {
        let outcome = world
            .sign_in
            .login(World::login_request(email, WRONG))
            .await;
        assert!(
            matches!(outcome, Err(LoginError::InvalidCredentials)),
            "attempt {attempt}: {outcome:?}"
        );
    }
}

async fn login_wait(world: &World, email: &str, password: &str) -> Option<u64> {
    match world
        .sign_in
        .login(World::login_request(email, password))
        .await
    {
        Err(LoginError::Throttled {
            retry_after_seconds,
        }) => Some(retry_after_seconds),
        Ok(_) => None,
        Err(other) => panic!("neither throttled nor signed in: {other:?}"),
    }
}

// ---- wrong passwords ----

#[tokio::test]
async fn ten_wrong_passwords_lock_the_account_even_for_the_right_password() {
    let world = World::new();
    world.verified_client(EMAIL).await;

    wrong_passwords(&world, EMAIL, 10).await;
    let wait = login_wait(&world, EMAIL, PASSWORD).await;

    assert_eq!(wait, Some(60));
}

#[tokio::test]
async fn the_lock_doubles_with_each_wrong_password_after_it_up_to_fifteen_minutes() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    wrong_passwords(&world, EMAIL, 10).await;
    let mut locks = Vec::new();

    for _ in 0..6 {
        let wait = login_wait(&world, EMAIL, PASSWORD).await.unwrap();
        locks.push(wait / 60);
        world.clock.advance(Duration::seconds(wait as i64));
        wrong_passwords(&world, EMAIL, 1).await;
    }

    assert_eq!(locks, vec![1, 2, 4, 8, 15, 15]);
}

#[tokio::test]
async fn the_lock_ends_exactly_when_retry_after_says() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    wrong_passwords(&world, EMAIL, 10).await;

    world.clock.advance(Duration::seconds(59));
    let still_locked = login_wait(&world, EMAIL, PASSWORD).await;
    world.clock.advance(Duration::seconds(1));
    let open = login_wait(&world, EMAIL, PASSWORD).await;

    assert_eq!(still_locked, Some(1));
    assert_eq!(open, None);
}

#[tokio::test]
async fn a_right_password_resets_the_count_and_the_back_off() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    wrong_passwords(&world, EMAIL, 10).await;
    world.clock.advance(Duration::minutes(1));
    assert_eq!(login_wait(&world, EMAIL, PASSWORD).await, None);

    wrong_passwords(&world, EMAIL, 9).await;
    let ninth_is_not_the_limit = login_wait(&world, EMAIL, PASSWORD).await;
    wrong_passwords(&world, EMAIL, 10).await;
    let first_lock_again = login_wait(&world, EMAIL, PASSWORD).await;

    assert_eq!(ninth_is_not_the_limit, None);
    assert_eq!(first_lock_again, Some(60));
}

#[tokio::test]
async fn failures_older_than_a_day_are_forgotten() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    wrong_passwords(&world, EMAIL, 9).await;

    world.clock.advance(Duration::hours(24));
    wrong_passwords(&world, EMAIL, 9).await;
    let wait = login_wait(&world, EMAIL, PASSWORD).await;

    assert_eq!(wait, None);
}

#[tokio::test]
async fn unknown_emails_lock_exactly_like_accounts_whatever_their_spelling() {
    let world = World::new();
    world.verified_client(EMAIL).await;

    wrong_passwords(&world, "nobody@example.com", 5).await;
    wrong_passwords(&world, "  NoBody@Example.com ", 5).await;
    let unknown = login_wait(&world, "nobody@example.com", PASSWORD).await;
    wrong_passwords(&world, EMAIL, 10).await;
    let known = login_wait(&world, EMAIL, PASSWORD).await;

    assert_eq!(unknown, Some(60));
    assert_eq!(known, unknown);
}

#[tokio::test]
async fn a_locked_account_does_not_lock_another() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    world.verified_client("karim@example.com").await;

    wrong_passwords(&world, EMAIL, 10).await;
    let other = login_wait(&world, "karim@example.com", PASSWORD).await;

    assert_eq!(other, None);
}

#[tokio::test]
async fn a_locked_login_verifies_no_password() {
    let (world, hashing) = world_counting_verifications();
    world.verified_client(EMAIL).await;
    for _ in 0..10 {
        let _ = world
            .sign_in
            .login(World::login_request(EMAIL, WRONG))
            .await;
    }

    let outcome = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await;

    assert!(
        matches!(outcome, Err(LoginError::Throttled { .. })),
        "{outcome:?}"
    );
    assert_eq!(hashing.verifications.load(Ordering::SeqCst), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_hundred_parallel_wrong_passwords_at_most_ten_are_judged() {
    let (world, hashing) = world_counting_verifications();
    world.verified_client(EMAIL).await;

    let attempts: Vec<_> = (0..200)
        .map(|_| {
            let sign_in = world.sign_in.clone();
            tokio::spawn(async move { sign_in.login(World::login_request(EMAIL, WRONG)).await })
        })
        .collect();
    let (mut judged, mut throttled) = (0, 0);
    for attempt in attempts {
        match attempt.await.unwrap() {
            Err(LoginError::InvalidCredentials) => judged += 1,
            Err(LoginError::Throttled { .. }) => throttled += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }

    assert_eq!((judged, throttled), (10, 190));
    assert_eq!(hashing.verifications.load(Ordering::SeqCst), 10);
}

// ---- wrong second-factor codes ----

/// Opens a challenge with the right password and spends `wrong` wrong codes on it.
async fn challenge_with_wrong_codes(world: &World, wrong: usize) -> String {
    let challenge = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap()
        .challenge();
    let id = challenge.challenge_id.to_string();
    let bad = other_code(&world.mailer.login_code(EMAIL));
    for attempt in 1..=wrong {
        let outcome = world.sign_in.verify_code(code_request(&id, &bad)).await;
        assert!(
            matches!(outcome, Err(VerifyCodeError::InvalidCode)),
            "attempt {attempt}: {outcome:?}"
        );
    }
    id
}

#[tokio::test]
async fn ten_wrong_codes_across_challenges_lock_the_second_factor() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    challenge_with_wrong_codes(&world, 5).await;
    challenge_with_wrong_codes(&world, 5).await;

    let id = challenge_with_wrong_codes(&world, 0).await;
    let outcome = world
        .sign_in
        .verify_code(code_request(&id, &world.mailer.login_code(EMAIL)))
        .await;

    assert!(
        matches!(
            outcome,
            Err(VerifyCodeError::Throttled {
                retry_after_seconds: 60
            })
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn the_right_code_after_the_second_factor_lock_signs_in_and_clears_it() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    challenge_with_wrong_codes(&world, 5).await;
    challenge_with_wrong_codes(&world, 5).await;
    world.clock.advance(Duration::minutes(1));

    let id = challenge_with_wrong_codes(&world, 0).await;
    let signed_in = world
        .sign_in
        .verify_code(code_request(&id, &world.mailer.login_code(EMAIL)))
        .await;
    challenge_with_wrong_codes(&world, 5).await;
    let id = challenge_with_wrong_codes(&world, 4).await;
    let after_nine_fresh_failures = world
        .sign_in
        .verify_code(code_request(&id, &world.mailer.login_code(EMAIL)))
        .await;

    assert!(signed_in.is_ok(), "{signed_in:?}");
    assert!(
        after_nine_fresh_failures.is_ok(),
        "{after_nine_fresh_failures:?}"
    );
}
