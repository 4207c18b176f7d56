//! Changing one's password while signed in: the core use case (manual clock, in-memory
//! store) and `POST /api/v1/auth/password/change` with its problem responses.

use testkit::client;

use poem::http::StatusCode;
use serde_json::json;

use allomedia::core::auth::{
    AuthenticateError, ChangePasswordError, ChangePasswordRequest, LoginError,
};
use testkit::http::{Api, Reply, bearer, send};
use testkit::{PASSWORD, World};

const EMAIL: &str = "amina@example.com";
const NEW_PASSWORD: &str = "citron-falaise-tambour";

fn change(current: &str, new: &str) -> ChangePasswordRequest {
    ChangePasswordRequest {
        current_password: current.into(),
        new_password: new.into(),
        client: client(),
    }
}

// ---- core ----

#[tokio::test]
async fn a_changed_password_signs_in_and_the_old_one_no_longer_does() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let tokens = world.signed_in(EMAIL).await;
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();

    world
        .password_change
        .change_password(principal, change(PASSWORD, NEW_PASSWORD))
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
async fn a_password_change_ends_the_other_sessions_and_keeps_this_one() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let laptop = world.signed_in(EMAIL).await;
    let phone = world.signed_in(EMAIL).await;
    let principal = world
        .sessions
        .authenticate(&phone.access_token)
        .await
        .unwrap();

    world
        .password_change
        .change_password(principal, change(PASSWORD, NEW_PASSWORD))
        .await
        .unwrap();

    assert!(
        world
            .sessions
            .authenticate(&phone.access_token)
            .await
            .is_ok()
    );
    assert!(matches!(
        world.sessions.authenticate(&laptop.access_token).await,
        Err(AuthenticateError::Unauthenticated)
    ));
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let tokens = world.signed_in(EMAIL).await;
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();

    let outcome = world
        .password_change
        .change_password(principal, change("not my password", NEW_PASSWORD))
        .await;

    assert!(
        matches!(outcome, Err(ChangePasswordError::WrongPassword)),
        "{outcome:?}"
    );
    assert!(
        world
            .sign_in
            .login(World::login_request(EMAIL, PASSWORD))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_weak_new_password_is_refused_before_the_current_one_is_checked() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let tokens = world.signed_in(EMAIL).await;
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();

    let outcome = world
        .password_change
        .change_password(principal, change("not my password", "password"))
        .await;

    let Err(ChangePasswordError::Invalid(errors)) = outcome else {
        panic!("expected a validation error, got {outcome:?}");
    };
    assert_eq!(errors.fields()[0].field, "new_password");
}

#[tokio::test]
async fn wrong_current_passwords_count_towards_the_account_throttle() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let tokens = world.signed_in(EMAIL).await;
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();
    for _ in 0..10 {
        let _ = world
            .password_change
            .change_password(principal, change("not my password", NEW_PASSWORD))
            .await;
    }

    let outcome = world
        .password_change
        .change_password(principal, change(PASSWORD, NEW_PASSWORD))
        .await;

    assert!(
        matches!(
            outcome,
            Err(ChangePasswordError::Throttled {
                retry_after_seconds: 60
            })
        ),
        "{outcome:?}"
    );
}

// ---- HTTP ----

async fn change_as(api: &Api, access: &str, body: serde_json::Value) -> Reply {
    send(
        api.client
            .post("/api/v1/auth/password/change")
            .header("authorization", bearer(access))
            .body_json(&body),
    )
    .await
}

#[tokio::test]
async fn changing_the_password_answers_204_and_signs_other_devices_out() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    let laptop = api.sign_in(EMAIL).await;
    let phone = api.sign_in(EMAIL).await;

    let reply = change_as(
        &api,
        &phone.access,
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    api.get_as("/api/v1/me", &laptop.access)
        .await
        .assert_problem(401, "unauthenticated");
    assert_eq!(
        api.get_as("/api/v1/me", &phone.access).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn password_change_problems_are_problem_documents() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    let tokens = api.sign_in(EMAIL).await;

    let anonymous = api
        .post(
            "/api/v1/auth/password/change",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    let wrong = change_as(
        &api,
        &tokens.access,
        json!({"current_password": "nope", "new_password": NEW_PASSWORD}),
    )
    .await;
    let weak = change_as(
        &api,
        &tokens.access,
        json!({"current_password": PASSWORD, "new_password": "password"}),
    )
    .await;
    let unknown_field = change_as(
        &api,
        &tokens.access,
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "role": "manager"}),
    )
    .await;

    anonymous.assert_problem(401, "unauthenticated");
    wrong.assert_problem(403, "wrong_password");
    let problem = weak.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "new_password");
    unknown_field.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn ten_wrong_current_passwords_answer_429_with_retry_after() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    let tokens = api.sign_in(EMAIL).await;
    for _ in 0..10 {
        change_as(
            &api,
            &tokens.access,
            json!({"current_password": "nope", "new_password": NEW_PASSWORD}),
        )
        .await
        .assert_problem(403, "wrong_password");
    }

    let reply = change_as(
        &api,
        &tokens.access,
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await;

    reply.assert_problem(429, "login_throttled");
    assert_eq!(reply.header("retry-after"), Some("60"));
}

#[tokio::test]
async fn the_owner_is_told_when_the_password_is_changed() {
    let world = World::new();
    world.verified_client(EMAIL).await;
    let tokens = world.signed_in(EMAIL).await;
    let principal = world
        .sessions
        .authenticate(&tokens.access_token)
        .await
        .unwrap();

    world
        .password_change
        .change_password(principal, change(PASSWORD, NEW_PASSWORD))
        .await
        .unwrap();

    assert_eq!(
        world.mailer.sent_to(EMAIL).pop(),
        Some(allomedia::core::model::MailMessage::PasswordChanged)
    );
}
