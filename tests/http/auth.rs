//! The account journey over HTTP: the real `app`, in process, over in-memory stores, real
//! crypto, a manual clock and a mailer whose inbox the tests read.

use chrono::Duration;
use poem::Body;
use poem::http::StatusCode;
use serde_json::{Value, json};

use allomedia::adapters::http::HttpSettings;
use allomedia::core::model::AccountStatus;
use allomedia::core::ports::Clock;
use testkit::PASSWORD;
use testkit::http::{Api, send, tokens};
use testkit::other_code;

// ---- the journey ----

#[tokio::test]
async fn a_client_registers_verifies_signs_in_edits_refreshes_and_signs_out() {
    let api = Api::new();

    let registered = api.register("amina@example.com").await;
    assert_eq!(registered.status, StatusCode::ACCEPTED);
    assert!(registered.json()["message"].is_string());

    let token = api.world.mailer.verification_token("amina@example.com");
    let verified = api
        .get(&format!("/api/v1/auth/verify-email?token={token}"))
        .await;
    assert_eq!(verified.status, StatusCode::OK);
    assert!(verified.json()["message"].is_string());

    let login = api.login("amina@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::ACCEPTED);
    let challenge = login.json();
    assert_eq!(challenge["methods"], json!(["email"]));
    assert_eq!(
        challenge["expires_at"],
        (api.world.clock.now() + Duration::minutes(10)).to_rfc3339()
    );

    let code = api.world.mailer.login_code("amina@example.com");
    let signed_in = api
        .verify_code(challenge["challenge_id"].as_str().unwrap(), &code)
        .await;
    assert_eq!(signed_in.status, StatusCode::OK);
    let body = signed_in.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 15 * 60);
    let first = tokens(&signed_in);

    let me = api.get_as("/api/v1/me", &first.access).await;
    assert_eq!(me.status, StatusCode::OK);
    let me = me.json();
    assert_eq!(me["email"], "amina@example.com");
    assert_eq!(me["name"], "Amina");
    assert_eq!(me["role"], "client");
    assert_eq!(me["status"], "active");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["phone"], Value::Null);
    assert!(me.get("password_hash").is_none());

    let edited = api
        .patch_as(
            "/api/v1/me",
            &first.access,
            json!({"name": "Amina B.", "phone": "+212 6 12 34 56 78", "address": "12 rue Atlas\nCasablanca"}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.json()["name"], "Amina B.");
    assert_eq!(edited.json()["phone"], "+212 6 12 34 56 78");

    let cleared = api
        .patch_as("/api/v1/me", &first.access, json!({"phone": null}))
        .await;
    assert_eq!(cleared.json()["phone"], Value::Null);
    assert_eq!(cleared.json()["address"], "12 rue Atlas\nCasablanca");
    assert_eq!(cleared.json()["name"], "Amina B.");

    let refreshed = api
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    let second = tokens(&refreshed);
    assert_ne!(second.refresh, first.refresh);

    let logout = api.post_as("/api/v1/auth/logout", &second.access).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);

    let after = api.get_as("/api/v1/me", &second.access).await;
    after.assert_problem(401, "unauthenticated");
    assert_eq!(after.header("www-authenticate"), Some("Bearer"));
}

// ---- registration and verification ----

#[tokio::test]
async fn registering_an_address_that_has_an_account_answers_the_same() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;

    let again = api.register("Amina@Example.com").await;

    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body, api.register("new@example.com").await.body);
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let api = Api::new();

    let reply = api
        .post_raw("/api/v1/auth/register", "{\"name\": \"Amina\",")
        .await;

    reply.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_400_problem() {
    let api = Api::new();

    let reply = api
        .post(
            "/api/v1/auth/register",
            json!({"name": 42, "email": "amina@example.com", "password": PASSWORD}),
        )
        .await;

    reply.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn a_body_without_json_content_type_is_a_400_problem() {
    let api = Api::new();

    let reply = send(
        api.client
            .post("/api/v1/auth/login")
            .body("{\"email\":\"a@example.com\",\"password\":\"x\"}"),
    )
    .await;

    reply.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn fields_that_would_smuggle_privileges_are_refused_with_400() {
    let api = Api::new();
    for (field, value) in [
        ("status", json!("active")),
        ("email_verified", json!(true)),
        ("is_admin", json!(true)),
    ] {
        let mut body = json!({"name": "Amina", "email": "amina@example.com", "password": PASSWORD});
        body[field] = value;

        let reply = api.post("/api/v1/auth/register", body).await;

        let problem = reply.assert_problem(400, "malformed_request");
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{problem}"
        );
    }
    assert!(api.world.mailer.sent().is_empty(), "nothing was registered");
}

#[tokio::test]
async fn every_auth_request_body_refuses_an_unknown_field() {
    let api = Api::new();
    let challenge_id = "0190d6d2-7a3c-7cc0-8000-000000000000";
    let bodies = [
        (
            "/api/v1/auth/register",
            json!({"name": "A", "email": "a@example.com", "password": PASSWORD}),
        ),
        ("/api/v1/auth/verify-email", json!({"token": "t"})),
        (
            "/api/v1/auth/verify-email/resend",
            json!({"email": "a@example.com"}),
        ),
        (
            "/api/v1/auth/login",
            json!({"email": "a@example.com", "password": PASSWORD}),
        ),
        (
            "/api/v1/auth/2fa/verify",
            json!({"challenge_id": challenge_id, "code": "123456"}),
        ),
        (
            "/api/v1/auth/2fa/resend",
            json!({"challenge_id": challenge_id}),
        ),
        ("/api/v1/auth/refresh", json!({"refresh_token": "r"})),
    ];

    for (path, mut body) in bodies {
        body["skip_second_factor"] = json!(true);

        let reply = api.post(path, body).await;

        let problem = reply.assert_problem(400, "malformed_request");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("skip_second_factor"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn nobody_can_register_as_a_manager() {
    let api = Api::new();

    let reply = api
        .post(
            "/api/v1/auth/register",
            json!({"name": "Amina", "email": "amina@example.com", "password": PASSWORD, "role": "manager"}),
        )
        .await;

    reply.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn invalid_fields_are_a_422_problem_listing_each_of_them() {
    let api = Api::new();

    let reply = api
        .post(
            "/api/v1/auth/register",
            json!({"name": "Amina", "email": "not-an-address", "password": "password"}),
        )
        .await;

    let problem = reply.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password"]);
    assert!(problem["errors"][1]["message"].is_string());
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let api = Api::new();
    let oversized = format!("{{\"email\": \"{}\"}}", "a".repeat(70_000));

    let reply = send(
        api.client
            .post("/api/v1/auth/verify-email/resend")
            .content_type("application/json")
            .header("content-length", oversized.len())
            .body(oversized),
    )
    .await;

    reply.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn a_streamed_body_without_length_is_cut_at_the_limit_too() {
    let api = Api::new();
    let oversized = format!("{{\"email\": \"{}\"}}", "a".repeat(70_000)).into_bytes();

    let reply = send(
        api.client
            .post("/api/v1/auth/verify-email/resend")
            .content_type("application/json")
            .body(Body::from_async_read(std::io::Cursor::new(oversized))),
    )
    .await;

    reply.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let api = Api::with_settings(HttpSettings {
        body_limit_bytes: 16,
        ..HttpSettings::default()
    });

    let reply = api
        .post(
            "/api/v1/auth/verify-email/resend",
            json!({"email": "amina@example.com"}),
        )
        .await;

    reply.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn a_verification_link_works_once() {
    let api = Api::new();
    api.register("amina@example.com").await;
    let token = api.world.mailer.verification_token("amina@example.com");
    let first = api
        .post("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(first.status, StatusCode::NO_CONTENT);

    let again = api
        .get(&format!("/api/v1/auth/verify-email?token={token}"))
        .await;

    again.assert_problem(400, "invalid_token");
}

#[tokio::test]
async fn a_verification_link_expires_after_24_hours() {
    let api = Api::new();
    api.register("amina@example.com").await;
    let token = api.world.mailer.verification_token("amina@example.com");
    api.world
        .clock
        .advance(Duration::hours(24) + Duration::seconds(1));

    let reply = api
        .post("/api/v1/auth/verify-email", json!({"token": token}))
        .await;

    reply.assert_problem(400, "invalid_token");
}

#[tokio::test]
async fn a_verification_link_without_token_is_malformed() {
    let api = Api::new();

    let reply = api.get("/api/v1/auth/verify-email").await;

    reply.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn resending_verification_answers_202_for_any_address() {
    let api = Api::new();
    api.register("amina@example.com").await;

    let known = api
        .post(
            "/api/v1/auth/verify-email/resend",
            json!({"email": "amina@example.com"}),
        )
        .await;
    let unknown = api
        .post(
            "/api/v1/auth/verify-email/resend",
            json!({"email": "nobody@example.com"}),
        )
        .await;

    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(known.body, unknown.body);
    assert_eq!(api.world.mailer.sent_to("amina@example.com").len(), 2);
}

// ---- login ----

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;

    let unknown = api.login("nobody@example.com", PASSWORD).await;
    let wrong = api.login("amina@example.com", "wrong password").await;

    let unknown = unknown.assert_problem(401, "invalid_credentials");
    let wrong = wrong.assert_problem(401, "invalid_credentials");
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn an_unverified_address_answers_a_correct_password_with_the_same_401_as_a_wrong_one() {
    let api = Api::new();
    api.register("amina@example.com").await;

    let wrong = api
        .login("amina@example.com", "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    let right = api
        .login("amina@example.com", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");

    assert_eq!(wrong, right);
}

#[tokio::test]
async fn a_courier_waits_for_approval_with_403() {
    let api = Api::new();
    api.post(
        "/api/v1/auth/register",
        json!({"name": "Youssef", "email": "youssef@example.com", "password": PASSWORD, "role": "courier"}),
    )
    .await;
    let token = api.world.mailer.verification_token("youssef@example.com");
    api.post("/api/v1/auth/verify-email", json!({"token": token}))
        .await;

    let reply = api.login("youssef@example.com", PASSWORD).await;

    reply.assert_problem(403, "account_pending_approval");
}

#[tokio::test]
async fn a_suspended_account_is_refused_with_403_after_a_correct_password() {
    let api = Api::new();
    api.account_with_status("sam@example.com", AccountStatus::Suspended)
        .await;

    api.login("sam@example.com", "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    api.login("sam@example.com", PASSWORD)
        .await
        .assert_problem(403, "account_suspended");
}

#[tokio::test]
async fn a_wrong_code_is_a_401_and_the_sixth_attempt_a_429() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let challenge = api.challenge("amina@example.com").await;
    let code = api.world.mailer.login_code("amina@example.com");

    for _ in 0..5 {
        api.verify_code(&challenge, &other_code(&code))
            .await
            .assert_problem(401, "invalid_code");
    }
    let sixth = api.verify_code(&challenge, &code).await;

    sixth.assert_problem(429, "too_many_attempts");
    assert!(sixth.header("retry-after").is_some());
}

#[tokio::test]
async fn an_unknown_challenge_is_an_invalid_code() {
    let api = Api::new();

    let reply = api
        .verify_code("0190d6d2-7a3c-7cc0-8000-000000000000", "123456")
        .await;

    reply.assert_problem(401, "invalid_code");
}

#[tokio::test]
async fn a_challenge_id_that_is_not_a_uuid_is_malformed() {
    let api = Api::new();

    let reply = api.verify_code("not-a-uuid", "123456").await;

    reply.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn a_new_code_is_refused_during_the_cooldown_then_replaces_the_old_one() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let challenge = api.challenge("amina@example.com").await;
    let old_code = api.world.mailer.login_code("amina@example.com");

    let too_soon = api
        .post(
            "/api/v1/auth/2fa/resend",
            json!({"challenge_id": challenge}),
        )
        .await;
    too_soon.assert_problem(429, "resend_too_soon");
    assert_eq!(too_soon.header("retry-after"), Some("30"));

    api.world.clock.advance(Duration::seconds(30));
    let resent = api
        .post(
            "/api/v1/auth/2fa/resend",
            json!({"challenge_id": challenge}),
        )
        .await;
    assert_eq!(resent.status, StatusCode::ACCEPTED);
    let new_code = api.world.mailer.login_code("amina@example.com");

    api.verify_code(&challenge, &old_code)
        .await
        .assert_problem(401, "invalid_code");
    assert_eq!(
        api.verify_code(&challenge, &new_code).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn resending_for_an_unknown_challenge_is_an_invalid_code() {
    let api = Api::new();

    let reply = api
        .post(
            "/api/v1/auth/2fa/resend",
            json!({"challenge_id": "0190d6d2-7a3c-7cc0-8000-000000000000"}),
        )
        .await;

    reply.assert_problem(401, "invalid_code");
}

// ---- sessions ----

#[tokio::test]
async fn an_invalid_refresh_token_is_a_401() {
    let api = Api::new();

    let reply = api
        .post("/api/v1/auth/refresh", json!({"refresh_token": "forged"}))
        .await;

    reply.assert_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn replaying_a_rotated_refresh_token_ends_the_session() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let first = api.sign_in("amina@example.com").await;
    let second = tokens(
        &api.post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": first.refresh}),
        )
        .await,
    );
    api.world.clock.advance(Duration::seconds(6));

    let replay = api
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": first.refresh}),
        )
        .await;

    replay.assert_problem(401, "invalid_refresh_token");
    api.get_as("/api/v1/me", &second.access)
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let phone = api.sign_in("amina@example.com").await;
    let laptop = api.sign_in("amina@example.com").await;

    let reply = api.post_as("/api/v1/auth/logout-all", &laptop.access).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    api.get_as("/api/v1/me", &phone.access)
        .await
        .assert_problem(401, "unauthenticated");
    api.post(
        "/api/v1/auth/refresh",
        json!({"refresh_token": phone.refresh}),
    )
    .await
    .assert_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn secured_operations_without_a_valid_bearer_get_401_and_a_challenge() {
    let api = Api::new();
    let requests = [
        send(api.client.get("/api/v1/me")).await,
        send(api.client.post("/api/v1/auth/logout")).await,
        send(
            api.client
                .post("/api/v1/auth/logout-all")
                .header("authorization", "Bearer not.a.jwt"),
        )
        .await,
        send(
            api.client
                .patch("/api/v1/me")
                .header("authorization", "Basic YTpi")
                .body_json(&json!({"name": "X"})),
        )
        .await,
    ];

    for reply in requests {
        reply.assert_problem(401, "unauthenticated");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
}

// ---- the signed-in user ----

#[tokio::test]
async fn a_user_cannot_change_their_role_or_status_through_their_profile() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let session = api.sign_in("amina@example.com").await;

    for field in ["role", "status", "email", "email_verified"] {
        let mut body = json!({"name": "Amina"});
        body[field] = json!("manager");

        let reply = api.patch_as("/api/v1/me", &session.access, body).await;

        reply.assert_problem(400, "malformed_request");
    }
    let me = api.get_as("/api/v1/me", &session.access).await.json();
    assert_eq!(me["role"], "client");
}

#[tokio::test]
async fn null_for_a_field_that_may_only_be_left_out_is_a_wrong_type() {
    // Found by contract fuzzing: `null` used to be read as "leave the name alone".
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let session = api.sign_in("amina@example.com").await;

    let reply = api
        .patch_as("/api/v1/me", &session.access, json!({"name": null}))
        .await;

    reply.assert_problem(400, "malformed_request");
    let reply = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "amina@example.com", "password": "x", "device_token": null}),
        )
        .await;
    reply.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn invalid_profile_fields_are_a_422_problem() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let session = api.sign_in("amina@example.com").await;

    let reply = api
        .patch_as(
            "/api/v1/me",
            &session.access,
            json!({"name": "  ", "phone": "call me"}),
        )
        .await;

    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "name");
    assert_eq!(problem["errors"][1]["field"], "phone");
}

// ---- languages ----

#[tokio::test]
async fn registration_takes_the_language_from_accept_language_and_me_shows_it() {
    let api = Api::new();
    let cases = [
        ("amina@example.com", Some("en-GB,en;q=0.9"), "en"),
        ("omar@example.com", Some("fr-MA;q=0.9, de"), "fr"),
        ("salma@example.com", Some("de, ja"), "fr"),
        ("youssef@example.com", None, "fr"),
    ];

    for (email, accept_language, expected) in cases {
        let mut request = api
            .client
            .post("/api/v1/auth/register")
            .body_json(&json!({"name": "Amina", "email": email, "password": PASSWORD}));
        if let Some(languages) = accept_language {
            request = request.header("Accept-Language", languages);
        }
        assert_eq!(send(request).await.status, StatusCode::ACCEPTED);
        api.world.after_response.idle().await;
        let token = api.world.mailer.verification_token(email);
        api.post("/api/v1/auth/verify-email", json!({"token": token}))
            .await;
        let session = api.sign_in(email).await;

        let me = api.get_as("/api/v1/me", &session.access).await.json();

        assert_eq!(me["locale"], expected, "{email} with {accept_language:?}");
        let mails = api.world.mailer.sent();
        let verification = mails.iter().find(|mail| mail.to.as_str() == email).unwrap();
        assert_eq!(verification.locale.tag(), expected);
    }
}

#[tokio::test]
async fn patch_me_changes_the_language_and_refuses_one_the_service_does_not_speak() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let session = api.sign_in("amina@example.com").await;

    let changed = api
        .patch_as("/api/v1/me", &session.access, json!({"locale": "en"}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.json()["locale"], "en");

    for unknown in ["de", "EN-us", "fr-FR"] {
        let refused = api
            .patch_as(
                "/api/v1/me",
                &session.access,
                json!({"name": "Changed", "locale": unknown}),
            )
            .await;

        let problem = refused.assert_problem(422, "validation_failed");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|error| error["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["locale"], "{unknown:?}");
    }
    let me = api.get_as("/api/v1/me", &session.access).await.json();
    assert_eq!(me["locale"], "en");
    assert_eq!(me["name"], "Amina");
}

// ---- cross-cutting ----

#[tokio::test]
async fn account_responses_are_never_cached_and_carry_safety_headers() {
    let api = Api::new();

    let auth = api.register("amina@example.com").await;
    let me = api.get("/api/v1/me").await;
    let live = api.get("/health/live").await;

    for reply in [&auth, &me] {
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    assert_eq!(live.header("cache-control"), None);
    for reply in [&auth, &me, &live] {
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    }
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_a_sane_incoming_one() {
    let api = Api::new();

    let given = send(
        api.client
            .get("/health/live")
            .header("x-request-id", "trace-42"),
    )
    .await;
    let generated = api.get("/health/live").await;

    assert_eq!(given.header("x-request-id"), Some("trace-42"));
    assert!(
        generated
            .header("x-request-id")
            .is_some_and(|id| id.len() == 36)
    );
}
