//! HTTP tests of remembered devices: `remember_device` at `/auth/2fa/verify`, `device_token`
//! at `/auth/login`, and `/me/devices`.

use poem::http::StatusCode;
use serde_json::{Value, json};

use testkit::PASSWORD;
use testkit::http::{Api, Tokens, tokens};

const AMINA: &str = "amina@example.com";
const YOUSSEF: &str = "youssef@example.com";

/// Signs `email` in asking to remember the device; the session's tokens and the device token.
async fn sign_in_remembering(api: &Api, email: &str) -> (Tokens, String) {
    let challenge = api.challenge(email).await;
    let code = api.world.mailer.login_code(email);
    let reply = api
        .post(
            "/api/v1/auth/2fa/verify",
            json!({"challenge_id": challenge, "code": code, "remember_device": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let device_token = reply.json()["device_token"].as_str().unwrap().to_owned();
    (tokens(&reply), device_token)
}

async fn login_with_device(api: &Api, email: &str, password: &str, device_token: &str) -> Value {
    let reply = api
        .post(
            "/api/v1/auth/login",
            json!({"email": email, "password": password, "device_token": device_token}),
        )
        .await;
    json!({"status": reply.status.as_u16(), "body": reply.json()})
}

#[tokio::test]
async fn a_login_with_a_remembered_device_token_answers_200_with_tokens() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let (_, device_token) = sign_in_remembering(&api, AMINA).await;

    let login = login_with_device(&api, AMINA, PASSWORD, &device_token).await;

    assert_eq!(login["status"], 200, "{login}");
    assert_eq!(login["body"]["token_type"], "Bearer");
    assert!(login["body"].get("device_token").is_none());
    let access = login["body"]["access_token"].as_str().unwrap();
    assert_eq!(
        api.get_as("/api/v1/me", access).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_plain_second_factor_answers_without_a_device_token() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let challenge = api.challenge(AMINA).await;
    let code = api.world.mailer.login_code(AMINA);

    let reply = api.verify_code(&challenge, &code).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.json().get("device_token").is_none(), "{}", reply.body);
}

#[tokio::test]
async fn another_users_or_an_unknown_device_token_gets_the_normal_challenge() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    api.verified_account(YOUSSEF).await;
    let (_, aminas_token) = sign_in_remembering(&api, AMINA).await;

    let other_user = login_with_device(&api, YOUSSEF, PASSWORD, &aminas_token).await;
    let unknown = login_with_device(&api, AMINA, PASSWORD, "made-up-token").await;

    for login in [other_user, unknown] {
        assert_eq!(login["status"], 202, "{login}");
        assert!(login["body"]["challenge_id"].is_string(), "{login}");
    }
}

#[tokio::test]
async fn a_wrong_password_with_a_valid_device_token_is_401() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let (_, device_token) = sign_in_remembering(&api, AMINA).await;

    let reply = api
        .post(
            "/api/v1/auth/login",
            json!({"email": AMINA, "password": "wrong password", "device_token": device_token}),
        )
        .await;

    reply.assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn my_devices_are_listed_without_their_token_and_can_be_forgotten() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let (session, device_token) = sign_in_remembering(&api, AMINA).await;

    let list = api.get_as("/api/v1/me/devices", &session.access).await;

    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let page = list.json();
    assert_eq!(page["next_cursor"], Value::Null);
    let device = &page["items"][0];
    for field in ["id", "created_at", "expires_at"] {
        assert!(device[field].is_string(), "{field}: {device}");
    }
    assert_eq!(device["last_used_at"], Value::Null);
    assert!(!list.body.contains(&device_token));
    let path = format!("/api/v1/me/devices/{}", device["id"].as_str().unwrap());

    let forgotten = api.delete_as(&path, &session.access).await;
    let again = api.delete_as(&path, &session.access).await;

    assert_eq!(
        forgotten.status,
        StatusCode::NO_CONTENT,
        "{}",
        forgotten.body
    );
    again.assert_problem(404, "not_found");
    let login = login_with_device(&api, AMINA, PASSWORD, &device_token).await;
    assert_eq!(login["status"], 202, "{login}");
}

#[tokio::test]
async fn devices_are_paginated_with_a_cursor() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let (session, _) = sign_in_remembering(&api, AMINA).await;
    sign_in_remembering(&api, AMINA).await;

    let first = api
        .get_as("/api/v1/me/devices?limit=1", &session.access)
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = api
        .get_as(
            &format!("/api/v1/me/devices?limit=1&cursor={cursor}"),
            &session.access,
        )
        .await
        .json();

    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert_eq!(second["next_cursor"], Value::Null);
}

#[tokio::test]
async fn another_users_device_is_404_and_stays_remembered() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    api.verified_account(YOUSSEF).await;
    let (amina, device_token) = sign_in_remembering(&api, AMINA).await;
    let youssef = api.sign_in(YOUSSEF).await;
    let aminas_device =
        api.get_as("/api/v1/me/devices", &amina.access).await.json()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

    let by_youssef = api
        .delete_as(
            &format!("/api/v1/me/devices/{aminas_device}"),
            &youssef.access,
        )
        .await;
    let youssefs_list = api
        .get_as("/api/v1/me/devices", &youssef.access)
        .await
        .json();

    by_youssef.assert_problem(404, "not_found");
    assert_eq!(youssefs_list["items"], json!([]));
    let login = login_with_device(&api, AMINA, PASSWORD, &device_token).await;
    assert_eq!(login["status"], 200, "{login}");
}

#[tokio::test]
async fn devices_need_a_session_and_a_valid_page() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let session = api.sign_in(AMINA).await;

    let anonymous = api.get("/api/v1/me/devices").await;
    let bad_limit = api
        .get_as("/api/v1/me/devices?limit=0", &session.access)
        .await;
    let not_a_number = api
        .get_as("/api/v1/me/devices?limit=many", &session.access)
        .await;
    let bad_cursor = api
        .get_as("/api/v1/me/devices?cursor=garbage", &session.access)
        .await;
    let unknown_id = api
        .delete_as("/api/v1/me/devices/not-an-id", &session.access)
        .await;

    anonymous.assert_problem(401, "unauthenticated");
    bad_limit.assert_problem(422, "validation_failed");
    not_a_number.assert_problem(422, "validation_failed");
    bad_cursor.assert_problem(422, "validation_failed");
    unknown_id.assert_problem(404, "not_found");
}

#[tokio::test]
async fn remember_device_must_be_a_boolean() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let challenge = api.challenge(AMINA).await;

    let reply = api
        .post(
            "/api/v1/auth/2fa/verify",
            json!({"challenge_id": challenge, "code": "123456", "remember_device": "yes"}),
        )
        .await;

    reply.assert_problem(400, "malformed_request");
}

/// `/auth/login` publishes one schema (a `oneOf`) for its 200 and 202 so that every client
/// generator accepts it; on the wire each status still carries its own body, unwrapped: no
/// wrapper, no discriminator, the same fields as before.
#[tokio::test]
async fn both_login_answers_carry_their_own_body_unwrapped() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let (_, device_token) = sign_in_remembering(&api, AMINA).await;

    let challenge = api.login(AMINA, PASSWORD).await;
    let signed_in = api
        .post(
            "/api/v1/auth/login",
            json!({"email": AMINA, "password": PASSWORD, "device_token": device_token}),
        )
        .await;

    assert_eq!(challenge.status, StatusCode::ACCEPTED, "{}", challenge.body);
    assert_eq!(
        fields(&challenge.json()),
        ["challenge_id", "expires_at", "methods"]
    );
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(
        fields(&signed_in.json()),
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    for reply in [challenge, signed_in] {
        assert_eq!(
            reply.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
}

/// The names of a JSON object's fields, sorted.
fn fields(body: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}
