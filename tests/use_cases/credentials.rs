//! Core: what a credential change voids, and how long a session may sit unused. A password
//! reset or change spends every outstanding reset link and closes every open login
//! challenge; a change and "log out everywhere" forget remembered devices (a reset already
//! did); a refresh token unused past the inactivity limit ends its session.

use chrono::Duration;

use allomedia::core::auth::{
    ChangePasswordRequest, LoginOutcome, LoginRequest, RefreshError, ResetPasswordError,
    ResetPasswordRequest, VerifyCodeError, VerifyCodeRequest,
};
use allomedia::core::model::Principal;
use allomedia::core::policy::AuthPolicy;
use testkit::{ExpectChallenge, PASSWORD, World, client};

const EMAIL: &str = "amina@example.com";
const NEW_PASSWORD: &str = "citron-falaise-tambour";

async fn principal(world: &World) -> (Principal, String) {
    let tokens = world.signed_in(EMAIL).await;
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();
    (principal, tokens.refresh_token)
}

async fn reset_token(world: &World) -> String {
    world
        .password_recovery
        .forgot_password(EMAIL, &client())
        .await
        .unwrap();
    world.mailer.reset_token(EMAIL)
}

fn reset(token: &str, new_password: &str) -> ResetPasswordRequest {
    ResetPasswordRequest {
        token: token.into(),
        new_password: new_password.into(),
        client: client(),
    }
}

fn change(new_password: &str) -> ChangePasswordRequest {
    ChangePasswordRequest {
        current_password: PASSWORD.into(),
        new_password: new_password.into(),
        client: client(),
    }
}

/// An open challenge and its mailed code.
async fn open_challenge(world: &World, password: &str) -> (String, String) {
    let challenge = world
        .sign_in
        .login(World::login_request(EMAIL, password))
        .await
        .unwrap()
        .challenge();
    (
        challenge.challenge_id.to_string(),
        world.mailer.login_code(EMAIL),
    )
}

async fn finish(
    world: &World,
    (challenge_id, code): (String, String),
) -> Result<(), VerifyCodeError> {
    world
        .sign_in
        .verify_code(VerifyCodeRequest {
            challenge_id,
            code,
            client: client(),
            ..VerifyCodeRequest::default()
        })
        .await
        .map(|_| ())
}

/// A remembered device of the account.
async fn remembered_device(world: &World) -> String {
    let (challenge_id, code) = open_challenge(world, PASSWORD).await;
    world
        .sign_in
        .verify_code(VerifyCodeRequest {
            challenge_id,
            code,
            remember_device: true,
            client: client(),
            ..VerifyCodeRequest::default()
        })
        .await
        .unwrap()
        .device_token
        .unwrap()
}

async fn device_skips_second_factor(world: &World, password: &str, device: &str) -> bool {
    let outcome = world
        .sign_in
        .login(LoginRequest {
            device_token: Some(device.to_owned()),
            ..World::login_request(EMAIL, password)
        })
        .await
        .unwrap();
    matches!(outcome, LoginOutcome::SignedIn(_))
}

#[tokio::test]
async fn a_reset_spends_every_other_reset_token_of_the_account() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let older = reset_token(&world).await;
    let newer = reset_token(&world).await;

    world
        .password_recovery
        .reset_password(reset(&newer, NEW_PASSWORD))
        .await
        .unwrap();
    let with_older = world
        .password_recovery
        .reset_password(reset(&older, "yet another passphrase"))
        .await;

    assert!(
        matches!(with_older, Err(ResetPasswordError::InvalidToken)),
        "{with_older:?}"
    );
}

#[tokio::test]
async fn a_password_change_spends_outstanding_reset_tokens() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let token = reset_token(&world).await;
    let (principal, _) = principal(&world).await;

    world
        .password_change
        .change_password(principal, change(NEW_PASSWORD))
        .await
        .unwrap();
    let with_token = world
        .password_recovery
        .reset_password(reset(&token, "yet another passphrase"))
        .await;

    assert!(
        matches!(with_token, Err(ResetPasswordError::InvalidToken)),
        "{with_token:?}"
    );
}

#[tokio::test]
async fn a_reset_closes_a_sign_in_begun_with_the_old_password() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let begun = open_challenge(&world, PASSWORD).await;
    let token = reset_token(&world).await;

    world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await
        .unwrap();

    assert!(matches!(
        finish(&world, begun).await,
        Err(VerifyCodeError::InvalidCode)
    ));
}

#[tokio::test]
async fn a_password_change_closes_a_sign_in_begun_with_the_old_password() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let (principal, _) = principal(&world).await;
    let begun = open_challenge(&world, PASSWORD).await;

    world
        .password_change
        .change_password(principal, change(NEW_PASSWORD))
        .await
        .unwrap();

    assert!(matches!(
        finish(&world, begun).await,
        Err(VerifyCodeError::InvalidCode)
    ));
}

#[tokio::test]
async fn a_password_change_forgets_remembered_devices() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let device = remembered_device(&world).await;
    let (principal, _) = principal(&world).await;

    world
        .password_change
        .change_password(principal, change(NEW_PASSWORD))
        .await
        .unwrap();

    assert!(!device_skips_second_factor(&world, NEW_PASSWORD, &device).await);
}

#[tokio::test]
async fn logging_out_everywhere_forgets_remembered_devices() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let device = remembered_device(&world).await;
    assert!(device_skips_second_factor(&world, PASSWORD, &device).await);
    let (principal, _) = principal(&world).await;

    world
        .sessions
        .logout_all(principal, &client())
        .await
        .unwrap();

    assert!(!device_skips_second_factor(&world, PASSWORD, &device).await);
}

#[tokio::test]
async fn a_refresh_token_unused_past_the_inactivity_limit_is_refused_and_its_session_ended() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let tokens = world.signed_in(EMAIL).await;
    let idle = AuthPolicy::default().session_idle_limit;
    assert_eq!(idle, Duration::days(7));

    world.clock.advance(idle + Duration::seconds(1));
    let late = world
        .sessions
        .refresh(&tokens.refresh_token, &client())
        .await;

    assert!(matches!(late, Err(RefreshError::InvalidToken)), "{late:?}");
    assert!(
        world
            .sessions
            .authenticate(&tokens.access_token)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_session_refreshed_within_the_limit_lives_on_until_its_absolute_end() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let mut refresh = world.signed_in(EMAIL).await.refresh_token;
    let idle = AuthPolicy::default().session_idle_limit;

    // Refreshed every six days for four weeks: never idle for seven.
    for _ in 0..4 {
        world.clock.advance(idle - Duration::days(1));
        refresh = world
            .sessions
            .refresh(&refresh, &client())
            .await
            .unwrap()
            .refresh_token;
    }

    assert!(world.sessions.refresh(&refresh, &client()).await.is_ok());
}
