//! Resetting a forgotten password with a mailed token: the core use case (manual clock,
//! in-memory store) and `POST /api/v1/auth/password/{forgot,reset}` with their problems.

use testkit::client;

use chrono::Duration;
use poem::http::StatusCode;
use serde_json::json;

use allomedia::core::auth::{
    AuthenticateError, LoginError, LoginOutcome, LoginRequest, ResetPasswordError,
    ResetPasswordRequest, VerifyCodeRequest,
};
use std::sync::Arc;

use allomedia::core::model::{Mail, MailMessage};
use allomedia::core::ports::{MailError, Mailer};
use testkit::http::{Api, send};
use testkit::{ExpectChallenge, PASSWORD, World};

const EMAIL: &str = "amina@example.com";
const NEW_PASSWORD: &str = "citron-falaise-tambour";

fn reset(token: &str, new_password: &str) -> ResetPasswordRequest {
    ResetPasswordRequest {
        token: token.into(),
        new_password: new_password.into(),
        client: client(),
    }
}

/// A verified account that asked for a reset; the mailed token.
async fn reset_requested(world: &World) -> String {
    world.verified_client(EMAIL).await;
    world
        .password_recovery
        .forgot_password(EMAIL, &client())
        .await
        .unwrap();
    world.mailer.reset_token(EMAIL)
}

// ---- core ----

#[tokio::test]
async fn forgetting_mails_a_token_valid_sixty_minutes() {
    let world = World::new();
    world.verified_client(EMAIL).await;

    world
        .password_recovery
        .forgot_password(EMAIL, &client())
        .await
        .unwrap();

    let mailed = world.mailer.sent_to(EMAIL).pop();
    assert!(
        matches!(
            mailed,
            Some(MailMessage::PasswordReset {
                valid_minutes: 60,
                ..
            })
        ),
        "{mailed:?}"
    );
}

#[tokio::test]
async fn forgetting_for_an_unknown_or_invalid_address_mails_nothing_and_succeeds() {
    let world = World::new();

    let unknown = world
        .password_recovery
        .forgot_password("nobody@example.com", &client())
        .await;
    let invalid = world
        .password_recovery
        .forgot_password("not an address", &client())
        .await;

    assert!(unknown.is_ok() && invalid.is_ok());
    assert!(world.mailer.sent().is_empty());
}

#[tokio::test]
async fn a_reset_password_signs_in_and_the_old_one_no_longer_does() {
    let world = World::new();
    let token = reset_requested(&world).await;

    world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await
        .unwrap();

    let old = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await;
    let new = world
        .sign_in
        .login(World::login_request(EMAIL, NEW_PASSWORD))
        .await;
    assert!(
        matches!(old, Err(LoginError::InvalidCredentials)),
        "{old:?}"
    );
    assert!(new.is_ok(), "{new:?}");
}

#[tokio::test]
async fn the_next_login_after_a_reset_still_asks_for_the_second_factor() {
    let world = World::new();
    let token = reset_requested(&world).await;
    world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await
        .unwrap();

    let challenge = world
        .sign_in
        .login(World::login_request(EMAIL, NEW_PASSWORD))
        .await
        .unwrap()
        .challenge();

    // A challenge, not a session: the reset proved the mailbox, not the second factor.
    assert!(!challenge.methods.is_empty(), "{challenge:?}");
    assert!(matches!(
        world.mailer.sent_to(EMAIL).pop(),
        Some(MailMessage::LoginCode { .. })
    ));
}

#[tokio::test]
async fn a_device_remembered_before_a_reset_no_longer_skips_the_second_factor() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let challenge = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await
        .unwrap()
        .challenge();
    let remembered = world
        .sign_in
        .verify_code(VerifyCodeRequest {
            challenge_id: challenge.challenge_id.to_string(),
            code: world.mailer.login_code(EMAIL),
            remember_device: true,
            ..VerifyCodeRequest::default()
        })
        .await
        .unwrap();
    let device_token = remembered.device_token.expect("a remembered device");
    world
        .password_recovery
        .forgot_password(EMAIL, &client())
        .await
        .unwrap();
    let token = world.mailer.reset_token(EMAIL);

    world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await
        .unwrap();

    let next = world
        .sign_in
        .login(LoginRequest {
            device_token: Some(device_token),
            ..World::login_request(EMAIL, NEW_PASSWORD)
        })
        .await
        .unwrap();
    assert!(matches!(next, LoginOutcome::Challenge(_)), "{next:?}");
}

#[tokio::test]
async fn a_reset_ends_every_session_of_the_account() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let laptop = world.signed_in(EMAIL).await;
    let phone = world.signed_in(EMAIL).await;
    world
        .password_recovery
        .forgot_password(EMAIL, &client())
        .await
        .unwrap();
    let token = world.mailer.reset_token(EMAIL);

    world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await
        .unwrap();

    for ended in [&laptop.access_token, &phone.access_token] {
        assert!(matches!(
            world.sessions.authenticate(ended).await,
            Err(AuthenticateError::Unauthenticated)
        ));
    }
}

#[tokio::test]
async fn a_reset_token_works_once() {
    let world = World::new();
    let token = reset_requested(&world).await;
    world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await
        .unwrap();

    let again = world
        .password_recovery
        .reset_password(reset(&token, "autre-falaise-tambour"))
        .await;

    assert!(
        matches!(again, Err(ResetPasswordError::InvalidToken)),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_reset_token_works_until_one_hour_and_not_from_then_on() {
    let world = World::new();
    let token = reset_requested(&world).await;
    world.clock.advance(Duration::hours(1));

    let at_expiry = world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await;

    assert!(
        matches!(at_expiry, Err(ResetPasswordError::InvalidToken)),
        "{at_expiry:?}"
    );
    let fresh = {
        world
            .password_recovery
            .forgot_password(EMAIL, &client())
            .await
            .unwrap();
        world.mailer.reset_token(EMAIL)
    };
    world.clock.advance(Duration::minutes(59));
    let just_before = world
        .password_recovery
        .reset_password(reset(&fresh, NEW_PASSWORD))
        .await;
    assert!(just_before.is_ok(), "{just_before:?}");
}

#[tokio::test]
async fn a_weak_password_is_refused_and_the_token_stays_usable() {
    let world = World::new();
    let token = reset_requested(&world).await;

    let weak = world
        .password_recovery
        .reset_password(reset(&token, "password"))
        .await;
    let like_the_address = world
        .password_recovery
        .reset_password(reset(&token, "amina@example.com"))
        .await;
    let strong = world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await;

    assert!(
        matches!(weak, Err(ResetPasswordError::Invalid(_))),
        "{weak:?}"
    );
    assert!(
        matches!(like_the_address, Err(ResetPasswordError::Invalid(_))),
        "{like_the_address:?}"
    );
    assert!(strong.is_ok(), "{strong:?}");
}

#[tokio::test]
async fn a_verification_token_does_not_reset_a_password() {
    let world = World::new();
    world
        .registration
        .register(World::registration("Amina", EMAIL))
        .await
        .unwrap();
    let verification = world.mailer.verification_token(EMAIL);

    let outcome = world
        .password_recovery
        .reset_password(reset(&verification, NEW_PASSWORD))
        .await;

    assert!(
        matches!(outcome, Err(ResetPasswordError::InvalidToken)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_reset_clears_the_password_throttle_of_the_account() {
    let world = World::new();
    let token = reset_requested(&world).await;
    for _ in 0..10 {
        let _ = world
            .sign_in
            .login(World::login_request(EMAIL, "not my password"))
            .await;
    }
    let locked = world
        .sign_in
        .login(World::login_request(EMAIL, PASSWORD))
        .await;

    world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await
        .unwrap();
    let after_reset = world
        .sign_in
        .login(World::login_request(EMAIL, NEW_PASSWORD))
        .await;

    assert!(
        matches!(locked, Err(LoginError::Throttled { .. })),
        "{locked:?}"
    );
    assert!(after_reset.is_ok(), "{after_reset:?}");
}

#[tokio::test]
async fn the_owner_is_told_when_the_password_is_reset() {
    let world = World::new();
    let token = reset_requested(&world).await;

    world
        .password_recovery
        .reset_password(reset(&token, NEW_PASSWORD))
        .await
        .unwrap();

    assert_eq!(
        world.mailer.sent_to(EMAIL).pop(),
        Some(MailMessage::PasswordChanged)
    );
}

// ---- HTTP ----

#[tokio::test]
async fn forgot_answers_202_for_known_and_unknown_addresses_alike() {
    let api = Api::new();
    api.verified_account(EMAIL).await;

    let known = api
        .post("/api/v1/auth/password/forgot", json!({"email": EMAIL}))
        .await;
    let unknown = api
        .post(
            "/api/v1/auth/password/forgot",
            json!({"email": "nobody@example.com"}),
        )
        .await;

    assert_eq!(known.status, StatusCode::ACCEPTED, "{}", known.body);
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.body, known.body);
}

#[tokio::test]
async fn resetting_answers_204_and_signs_every_device_out() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    let tokens = api.sign_in(EMAIL).await;
    api.post("/api/v1/auth/password/forgot", json!({"email": EMAIL}))
        .await;
    let token = api.world.mailer.reset_token(EMAIL);

    let reply = api
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    api.get_as("/api/v1/me", &tokens.access)
        .await
        .assert_problem(401, "unauthenticated");
    let login = api.login(EMAIL, NEW_PASSWORD).await;
    assert_eq!(login.status, StatusCode::ACCEPTED, "{}", login.body);
}

#[tokio::test]
async fn reset_problems_are_problem_documents() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    api.post("/api/v1/auth/password/forgot", json!({"email": EMAIL}))
        .await;
    let token = api.world.mailer.reset_token(EMAIL);

    let weak = api
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": token, "new_password": "password"}),
        )
        .await;
    let unknown_token = api
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": "forged", "new_password": NEW_PASSWORD}),
        )
        .await;
    let unknown_field = api
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": token, "new_password": NEW_PASSWORD, "email": EMAIL}),
        )
        .await;
    let forgot_unknown_field = api
        .post(
            "/api/v1/auth/password/forgot",
            json!({"email": EMAIL, "admin": true}),
        )
        .await;
    let after_refusals = api
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    let replayed = api
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;

    let problem = weak.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "new_password");
    unknown_token.assert_problem(400, "invalid_token");
    unknown_field.assert_problem(400, "malformed_request");
    forgot_unknown_field.assert_problem(400, "malformed_request");
    assert_eq!(after_refusals.status, StatusCode::NO_CONTENT);
    replayed.assert_problem(400, "invalid_token");
}

/// A mailer that holds every mail until the test opens the gate.
struct GatedMailer {
    gate: tokio::sync::Semaphore,
    inbox: Arc<testkit::CapturingMailer>,
}

#[async_trait::async_trait]
impl Mailer for GatedMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let _pass = self.gate.acquire().await.expect("the gate is never closed");
        self.inbox.send(mail).await
    }
}

#[tokio::test]
async fn forgot_password_answers_before_its_store_write_and_mail_so_timing_tells_nothing() {
    let inbox = Arc::new(testkit::CapturingMailer::default());
    let mailer = Arc::new(GatedMailer {
        gate: tokio::sync::Semaphore::new(0),
        inbox: inbox.clone(),
    });
    let world = testkit::World::with_mailer(mailer.clone(), inbox.clone());
    mailer.gate.add_permits(1); // registration's verification link
    world.verified_client(EMAIL).await;
    let api = Api::over(world);

    // The mail of a known address cannot leave while the gate is shut: if the answer waited
    // for it, this would never return (the guard turns a hang into a failure).
    let known = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        send(
            api.client
                .post("/api/v1/auth/password/forgot")
                .body_json(&json!({"email": EMAIL})),
        ),
    )
    .await
    .expect("the answer must not wait for the reset mail");

    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert!(
        inbox
            .sent_to(EMAIL)
            .iter()
            .all(|m| !matches!(m, MailMessage::PasswordReset { .. }))
    );
    mailer.gate.add_permits(1);
    api.world.after_response.idle().await;
    assert!(!api.world.mailer.reset_token(EMAIL).is_empty());
}
