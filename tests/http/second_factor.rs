//! HTTP tests of the second factors beyond email: `/me/2fa/*` and `2fa/verify` with `totp`
//! and `recovery_code`, through the real app in process.

use chrono::Duration;
use poem::http::StatusCode;
use serde_json::{Value, json};

use allomedia::core::ports::Clock;
use testkit::PASSWORD;
use testkit::authenticator::code_at;
use testkit::http::{Api, Reply, bearer, send, tokens};

const EMAIL: &str = "amina@example.com";

async fn post_json_as(api: &Api, path: &str, access: &str, body: Value) -> Reply {
    send(
        api.client
            .post(path)
            .header("authorization", bearer(access))
            .body_json(&body),
    )
    .await
}

async fn delete_json_as(api: &Api, path: &str, access: &str, body: Value) -> Reply {
    send(
        api.client
            .delete(path)
            .header("authorization", bearer(access))
            .body_json(&body),
    )
    .await
}

/// A signed-in account with TOTP on: its access token, base32 secret and recovery codes. The
/// clock then moves one step on, past the step the confirmation used.
async fn with_totp(api: &Api) -> (String, String, Vec<String>) {
    api.verified_account(EMAIL).await;
    let access = api.sign_in(EMAIL).await.access;
    let setup = api
        .post_json_as(
            "/api/v1/me/2fa/totp/setup",
            &access,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    let secret = setup.json()["secret"].as_str().unwrap().to_owned();
    let code = code_at(&secret, api.world.clock.now());
    let confirm = post_json_as(
        api,
        "/api/v1/me/2fa/totp/confirm",
        &access,
        json!({"code": code}),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let codes = confirm.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    api.world.clock.advance(Duration::seconds(30));
    (access, secret, codes)
}

async fn verify_with(api: &Api, challenge_id: &str, method: &str, code: &str) -> Reply {
    api.post(
        "/api/v1/auth/2fa/verify",
        json!({"challenge_id": challenge_id, "code": code, "method": method}),
    )
    .await
}

#[tokio::test]
async fn a_user_turns_totp_on_signs_out_and_signs_in_with_the_authenticator_app() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    let access = api.sign_in(EMAIL).await.access;

    let setup = api
        .post_json_as(
            "/api/v1/me/2fa/totp/setup",
            &access,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    let setup = setup.json();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert!(
        setup["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/allomedia:")
    );
    assert!(!setup["qr_png_base64"].as_str().unwrap().is_empty());

    let code = code_at(&secret, api.world.clock.now());
    let confirm = post_json_as(
        &api,
        "/api/v1/me/2fa/totp/confirm",
        &access,
        json!({"code": code}),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert_eq!(
        confirm.json()["recovery_codes"].as_array().unwrap().len(),
        10
    );

    let me = api.get_as("/api/v1/me", &access).await;
    assert!(
        !me.body.contains(&secret),
        "the secret is never shown again"
    );
    let logout = api.post_as("/api/v1/auth/logout", &access).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT, "{}", logout.body);

    api.world.clock.advance(Duration::seconds(30));
    let login = api.login(EMAIL, PASSWORD).await;
    assert_eq!(login.status, StatusCode::ACCEPTED);
    let login = login.json();
    assert_eq!(login["methods"], json!(["totp", "recovery_code"]));
    let challenge_id = login["challenge_id"].as_str().unwrap();
    let code = code_at(&secret, api.world.clock.now());
    let signed_in = verify_with(&api, challenge_id, "totp", &code).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    let access = tokens(&signed_in).access;
    assert_eq!(
        api.get_as("/api/v1/me", &access).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn setting_up_needs_a_session_and_is_refused_while_totp_is_on() {
    let api = Api::new();
    let (access, _, _) = with_totp(&api).await;

    let anonymous = api.post("/api/v1/me/2fa/totp/setup", json!({})).await;
    let again = api
        .post_json_as(
            "/api/v1/me/2fa/totp/setup",
            &access,
            json!({"password": PASSWORD}),
        )
        .await;

    anonymous.assert_problem(401, "unauthenticated");
    again.assert_problem(409, "totp_already_enabled");
}

#[tokio::test]
async fn confirming_without_a_setup_a_wrong_code_or_an_unknown_field_is_refused() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    let access = api.sign_in(EMAIL).await.access;
    let path = "/api/v1/me/2fa/totp/confirm";

    let without_setup = post_json_as(&api, path, &access, json!({"code": "123456"})).await;
    api.post_json_as(
        "/api/v1/me/2fa/totp/setup",
        &access,
        json!({"password": PASSWORD}),
    )
    .await;
    let wrong = post_json_as(&api, path, &access, json!({"code": "abcdef"})).await;
    let smuggled = post_json_as(&api, path, &access, json!({"code": "1", "secret": "x"})).await;

    without_setup.assert_problem(409, "totp_not_set_up");
    let problem = wrong.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "code");
    smuggled.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn turning_totp_off_needs_the_password_and_a_current_code() {
    let api = Api::new();
    let (access, secret, _) = with_totp(&api).await;
    let path = "/api/v1/me/2fa/totp";
    let code = code_at(&secret, api.world.clock.now());

    let wrong_password = delete_json_as(
        &api,
        path,
        &access,
        json!({"password": "nope-nope-nope", "code": code}),
    )
    .await;
    let wrong_code = delete_json_as(
        &api,
        path,
        &access,
        json!({"password": PASSWORD, "code": "000000"}),
    )
    .await;
    let done = delete_json_as(
        &api,
        path,
        &access,
        json!({"password": PASSWORD, "code": code}),
    )
    .await;
    let again = delete_json_as(
        &api,
        path,
        &access,
        json!({"password": PASSWORD, "code": code}),
    )
    .await;

    wrong_password.assert_problem(403, "wrong_password");
    assert_eq!(
        wrong_code.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "code"
    );
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    again.assert_problem(409, "totp_not_enabled");
    let login = api.login(EMAIL, PASSWORD).await.json();
    assert_eq!(login["methods"], json!(["email"]));
}

#[tokio::test]
async fn new_recovery_codes_need_the_password_and_totp() {
    let api = Api::new();
    api.verified_account("karim@example.com").await;
    let without_totp = api.sign_in("karim@example.com").await.access;
    let (access, _, old) = with_totp(&api).await;
    let path = "/api/v1/me/2fa/recovery-codes";

    let no_totp = post_json_as(&api, path, &without_totp, json!({"password": PASSWORD})).await;
    let wrong = post_json_as(&api, path, &access, json!({"password": "nope-nope-nope"})).await;
    let replaced = post_json_as(&api, path, &access, json!({"password": PASSWORD})).await;

    no_totp.assert_problem(409, "totp_not_enabled");
    wrong.assert_problem(403, "wrong_password");
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let new = replaced.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(new.len(), 10);
    let challenge_id = api.challenge(EMAIL).await;
    verify_with(&api, &challenge_id, "recovery_code", &old[0])
        .await
        .assert_problem(401, "invalid_code");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let api = Api::new();
    let (_, _, codes) = with_totp(&api).await;

    let first = api.challenge(EMAIL).await;
    let used = verify_with(&api, &first, "recovery_code", &codes[0]).await;
    let second = api.challenge(EMAIL).await;
    let reused = verify_with(&api, &second, "recovery_code", &codes[0]).await;

    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    reused.assert_problem(401, "invalid_code");
}

#[tokio::test]
async fn a_wrong_or_replayed_totp_code_is_an_invalid_code() {
    let api = Api::new();
    let (_, secret, _) = with_totp(&api).await;
    let code = code_at(&secret, api.world.clock.now());

    let first = api.challenge(EMAIL).await;
    let wrong = verify_with(&api, &first, "totp", "000000").await;
    let right = verify_with(&api, &first, "totp", &code).await;
    let second = api.challenge(EMAIL).await;
    let replayed = verify_with(&api, &second, "totp", &code).await;
    let unknown_method = verify_with(&api, &second, "sms", &code).await;

    wrong.assert_problem(401, "invalid_code");
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    replayed.assert_problem(401, "invalid_code");
    unknown_method.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn new_recovery_codes_and_turning_totp_off_answer_429_after_ten_wrong_passwords() {
    let api = Api::new();
    let (access, secret, _) = with_totp(&api).await;
    let regenerate = async |password: &str| {
        post_json_as(
            &api,
            "/api/v1/me/2fa/recovery-codes",
            &access,
            json!({ "password": password }),
        )
        .await
    };
    for _ in 0..10 {
        regenerate("not-her-password")
            .await
            .assert_problem(403, "wrong_password");
    }

    let regenerating = regenerate(PASSWORD).await;
    let code = code_at(&secret, api.world.clock.now());
    let disabling = delete_json_as(
        &api,
        "/api/v1/me/2fa/totp",
        &access,
        json!({"password": PASSWORD, "code": code}),
    )
    .await;

    regenerating.assert_problem(429, "login_throttled");
    disabling.assert_problem(429, "login_throttled");
    assert!(disabling.header("retry-after").is_some());
}

#[tokio::test]
async fn turning_totp_off_and_new_recovery_codes_refuse_an_unknown_field() {
    let api = Api::new();
    let (access, secret, _) = with_totp(&api).await;
    let code = code_at(&secret, api.world.clock.now());

    let disabling = delete_json_as(
        &api,
        "/api/v1/me/2fa/totp",
        &access,
        json!({"password": PASSWORD, "code": code, "keep_codes": true}),
    )
    .await;
    let regenerating = post_json_as(
        &api,
        "/api/v1/me/2fa/recovery-codes",
        &access,
        json!({"password": PASSWORD, "keep_codes": true}),
    )
    .await;

    for reply in [disabling, regenerating] {
        let problem = reply.assert_problem(400, "malformed_request");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("keep_codes"), "{}", reply.body);
    }
}

#[tokio::test]
async fn setting_up_with_a_wrong_or_missing_password_is_refused() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    let access = api.sign_in(EMAIL).await.access;
    let path = "/api/v1/me/2fa/totp/setup";

    let wrong = api
        .post_json_as(path, &access, json!({"password": "not my password"}))
        .await;
    let missing = api.post_json_as(path, &access, json!({})).await;

    wrong.assert_problem(403, "wrong_password");
    missing.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn with_totp_on_the_login_offers_the_app_and_recovery_codes_and_resend_is_refused() {
    let api = Api::new();
    with_totp(&api).await;

    let login = api.login(EMAIL, PASSWORD).await;
    assert_eq!(login.status, StatusCode::ACCEPTED, "{}", login.body);
    let challenge_id = login.json()["challenge_id"].as_str().unwrap().to_owned();
    let resend = api
        .post(
            "/api/v1/auth/2fa/resend",
            json!({"challenge_id": challenge_id}),
        )
        .await;

    assert_eq!(login.json()["methods"], json!(["totp", "recovery_code"]));
    resend.assert_problem(401, "invalid_code");
}

#[tokio::test]
async fn this_wasnt_me_turns_the_app_off_with_the_mailed_token_and_a_new_password() {
    let api = Api::new();
    let (access, _, _) = with_totp(&api).await;
    let token = api.world.mailer.disown_token(EMAIL);
    let path = "/api/v1/auth/2fa/totp/disown";

    let weak = api
        .post(path, json!({"token": token, "new_password": "123"}))
        .await;
    let disowned = api
        .post(
            path,
            json!({"token": token, "new_password": "the owner takes it back"}),
        )
        .await;
    let again = api
        .post(
            path,
            json!({"token": token, "new_password": "the owner takes it back"}),
        )
        .await;

    weak.assert_problem(422, "validation_failed");
    assert_eq!(disowned.status, StatusCode::NO_CONTENT, "{}", disowned.body);
    again.assert_problem(400, "invalid_token");
    api.get_as("/api/v1/me", &access)
        .await
        .assert_problem(401, "unauthenticated");
    let login = api.login(EMAIL, "the owner takes it back").await;
    assert_eq!(login.json()["methods"], json!(["email"]));
}
