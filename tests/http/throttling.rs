//! HTTP: per-account throttling as clients see it — 429 problems with `Retry-After` on
//! `/auth/login` and `/auth/2fa/verify`, and the `throttled` login outcome in the metrics.

use chrono::Duration;
use poem::http::StatusCode;
use poem::test::TestClient;

use allomedia::adapters::http::metrics_app;

use testkit::PASSWORD;
use testkit::http::{Api, send};
use testkit::other_code;

const EMAIL: &str = "amina@example.com";

async fn wrong_passwords(api: &Api, email: &str, times: usize) {
    for _ in 0..times {
        api.login(email, "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
}

#[tokio::test]
async fn ten_wrong_passwords_answer_429_with_retry_after_even_to_the_right_password() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    wrong_passwords(&api, EMAIL, 10).await;

    let reply = api.login(EMAIL, PASSWORD).await;

    reply.assert_problem(429, "login_throttled");
    assert_eq!(reply.header("retry-after"), Some("60"));
}

#[tokio::test]
async fn an_unknown_email_is_throttled_with_the_same_answer_as_an_account() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    wrong_passwords(&api, EMAIL, 10).await;
    wrong_passwords(&api, "nobody@example.com", 10).await;

    let known = api.login(EMAIL, PASSWORD).await;
    let unknown = api.login("nobody@example.com", PASSWORD).await;

    assert_eq!(known.body, unknown.body);
    assert_eq!(known.header("retry-after"), unknown.header("retry-after"));
}

#[tokio::test]
async fn the_right_password_signs_in_once_the_lock_is_over() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    wrong_passwords(&api, EMAIL, 10).await;

    api.world.clock.advance(Duration::seconds(60));
    let reply = api.login(EMAIL, PASSWORD).await;

    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
}

#[tokio::test]
async fn ten_wrong_codes_across_logins_answer_429_second_factor_throttled() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    for _ in 0..2 {
        let challenge = api.challenge(EMAIL).await;
        let wrong = other_code(&api.world.mailer.login_code(EMAIL));
        for _ in 0..5 {
            api.verify_code(&challenge, &wrong)
                .await
                .assert_problem(401, "invalid_code");
        }
    }
    let challenge = api.challenge(EMAIL).await;

    let reply = api
        .verify_code(&challenge, &api.world.mailer.login_code(EMAIL))
        .await;

    reply.assert_problem(429, "second_factor_throttled");
    assert_eq!(reply.header("retry-after"), Some("60"));
}

#[tokio::test]
async fn throttled_logins_are_counted_in_the_metrics() {
    let api = Api::new();
    api.verified_account(EMAIL).await;
    wrong_passwords(&api, EMAIL, 10).await;
    api.login(EMAIL, PASSWORD).await;

    let metrics = TestClient::new(metrics_app(api.world.metrics.clone()));
    let reply = send(metrics.get("/metrics")).await;

    let line = r#"allomedia_login_outcomes_total{outcome="throttled"} 1"#;
    assert!(
        reply.body.contains(line),
        "missing {line} in\n{}",
        reply.body
    );
}
