//! Core use cases of remembered devices — remembering one at the second factor, skipping that
//! factor at the next login, listing and forgetting them — against in-memory adapters and a
//! manual clock.

use chrono::Duration;

use allomedia::core::auth::{
    ForgetDeviceError, LoginError, LoginOutcome, LoginRequest, VerifyCodeRequest,
};
use allomedia::core::model::{ClientInfo, PageRequest};
use allomedia::core::ports::Clock;
use testkit::{ExpectChallenge, PASSWORD, World};

const AMINA: &str = "amina@example.com";
const YOUSSEF: &str = "youssef@example.com";

/// Signs `email` in with the mailed code, asking to remember the device; its token.
async fn remembered_device(world: &World, email: &str) -> String {
    let challenge = world
        .sign_in
        .login(World::login_request(email, PASSWORD))
        .await
        .unwrap()
        .challenge();
    let tokens = world
        .sign_in
        .verify_code(VerifyCodeRequest {
            challenge_id: challenge.challenge_id.to_string(),
            code: world.mailer.login_code(email),
            remember_device: true,
            client: ClientInfo {
                ip: Some("203.0.113.7".into()),
                user_agent: Some("Firefox/140".into()),
            },
            ..VerifyCodeRequest::default()
        })
        .await
        .unwrap();
    tokens
        .device_token
        .expect("a remembered device comes with its token")
}

fn login_with_device(email: &str, password: &str, device_token: &str) -> LoginRequest {
    LoginRequest {
        device_token: Some(device_token.to_owned()),
        ..World::login_request(email, password)
    }
}

fn is_challenge(outcome: &Result<LoginOutcome, LoginError>) -> bool {
    matches!(outcome, Ok(LoginOutcome::Challenge(_)))
}

#[tokio::test]
async fn a_second_factor_without_remember_device_gives_no_device_token() {
    let world = World::new();
    world.verified_client(AMINA).await;

    let tokens = world.signed_in(AMINA).await;

    assert_eq!(tokens.device_token, None);
}

#[tokio::test]
async fn a_device_token_carries_at_least_128_bits_and_is_stored_only_as_a_digest() {
    let world = World::new();
    world.verified_client(AMINA).await;

    let token = remembered_device(&world, AMINA).await;

    // base64url: 6 bits a character.
    assert!(token.len() * 6 >= 128, "{token}");
    let devices = world
        .devices
        .remembered_devices(world.user_id(AMINA).await, PageRequest::first(20))
        .await
        .unwrap();
    assert_eq!(devices.items.len(), 1);
    assert!(!format!("{:?}", devices.items[0]).contains(&token));
}

#[tokio::test]
async fn a_remembered_device_skips_the_second_factor_and_is_marked_used() {
    let world = World::new();
    world.verified_client(AMINA).await;
    let token = remembered_device(&world, AMINA).await;
    world.clock.advance(Duration::days(29));
    let mails_before = world.mailer.sent_to(AMINA).len();

    let outcome = world
        .sign_in
        .login(login_with_device(AMINA, PASSWORD, &token))
        .await;

    let Ok(LoginOutcome::SignedIn(tokens)) = outcome else {
        panic!("expected a session, got {outcome:?}");
    };
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();
    assert_eq!(principal.user_id, world.user_id(AMINA).await);
    assert_eq!(tokens.device_token, None);
    assert_eq!(
        world.mailer.sent_to(AMINA).len(),
        mails_before,
        "no code mailed"
    );
    let devices = world
        .devices
        .remembered_devices(principal.user_id, PageRequest::first(20))
        .await
        .unwrap();
    assert_eq!(devices.items[0].last_used_at, Some(world.clock.now()));
    assert_eq!(
        devices.items[0].client.user_agent.as_deref(),
        Some("Firefox/140")
    );
}

#[tokio::test]
async fn a_remembered_device_stops_skipping_the_second_factor_after_thirty_days() {
    let world = World::new();
    world.verified_client(AMINA).await;
    let token = remembered_device(&world, AMINA).await;
    world.clock.advance(Duration::days(30));

    let outcome = world
        .sign_in
        .login(login_with_device(AMINA, PASSWORD, &token))
        .await;

    assert!(is_challenge(&outcome), "{outcome:?}");
}

#[tokio::test]
async fn another_users_device_token_leads_to_the_normal_challenge() {
    let world = World::new();
    world.verified_client(AMINA).await;
    world.verified_client(YOUSSEF).await;
    let aminas_token = remembered_device(&world, AMINA).await;

    let outcome = world
        .sign_in
        .login(login_with_device(YOUSSEF, PASSWORD, &aminas_token))
        .await;

    assert!(is_challenge(&outcome), "{outcome:?}");
}

#[tokio::test]
async fn an_unknown_or_garbage_device_token_leads_to_the_normal_challenge() {
    let world = World::new();
    world.verified_client(AMINA).await;

    for token in ["", "not-a-token", &"x".repeat(10_000)] {
        let outcome = world
            .sign_in
            .login(login_with_device(AMINA, PASSWORD, token))
            .await;

        assert!(is_challenge(&outcome), "{token}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_forgotten_device_leads_to_the_normal_challenge() {
    let world = World::new();
    world.verified_client(AMINA).await;
    let token = remembered_device(&world, AMINA).await;
    let id = world.user_id(AMINA).await;
    let device = world
        .devices
        .remembered_devices(id, PageRequest::first(20))
        .await
        .unwrap()
        .items[0]
        .id;

    world
        .devices
        .forget_device(id, &device.to_string())
        .await
        .unwrap();
    let outcome = world
        .sign_in
        .login(login_with_device(AMINA, PASSWORD, &token))
        .await;

    assert!(is_challenge(&outcome), "{outcome:?}");
}

#[tokio::test]
async fn a_wrong_password_with_a_valid_device_token_is_refused_as_usual() {
    let world = World::new();
    world.verified_client(AMINA).await;
    let token = remembered_device(&world, AMINA).await;

    let outcome = world
        .sign_in
        .login(login_with_device(AMINA, "wrong password!", &token))
        .await;

    assert!(matches!(outcome, Err(LoginError::InvalidCredentials)));
}

#[tokio::test]
async fn a_user_cannot_forget_another_users_device() {
    let world = World::new();
    world.verified_client(AMINA).await;
    world.verified_client(YOUSSEF).await;
    let token = remembered_device(&world, AMINA).await;
    let amina = world.user_id(AMINA).await;
    let device = world
        .devices
        .remembered_devices(amina, PageRequest::first(20))
        .await
        .unwrap()
        .items[0]
        .id;

    let by_youssef = world
        .devices
        .forget_device(world.user_id(YOUSSEF).await, &device.to_string())
        .await;
    let malformed = world.devices.forget_device(amina, "not-an-id").await;

    assert!(matches!(by_youssef, Err(ForgetDeviceError::NotFound)));
    assert!(matches!(malformed, Err(ForgetDeviceError::NotFound)));
    let outcome = world
        .sign_in
        .login(login_with_device(AMINA, PASSWORD, &token))
        .await;
    assert!(matches!(outcome, Ok(LoginOutcome::SignedIn(_))));
}

#[tokio::test]
async fn forgetting_all_devices_makes_every_one_ask_for_the_second_factor_again() {
    let world = World::new();
    world.verified_client(AMINA).await;
    let first = remembered_device(&world, AMINA).await;
    let second = remembered_device(&world, AMINA).await;

    let forgotten = world
        .devices
        .forget_all_devices(world.user_id(AMINA).await)
        .await
        .unwrap();

    assert_eq!(forgotten, 2);
    for token in [first, second] {
        let outcome = world
            .sign_in
            .login(login_with_device(AMINA, PASSWORD, &token))
            .await;
        assert!(is_challenge(&outcome), "{outcome:?}");
    }
}
