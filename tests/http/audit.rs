//! The security-event log over HTTP: `GET /api/v1/audit-events` for managers, with its
//! filters and problems, and the 429 of the password re-checks under `/me`.

use poem::http::StatusCode;
use serde_json::{Value, json};

use allomedia::core::ports::Clock;
use testkit::PASSWORD;
use testkit::http::{Api, Reply, Tokens, bearer, send};

async fn a_manager(api: &Api, email: &str) -> Tokens {
    api.world
        .registration
        .create_manager("Salma", email, PASSWORD)
        .await
        .unwrap();
    api.sign_in(email).await
}

fn kinds(reply: &Reply) -> Vec<String> {
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_manager_reads_an_accounts_events_newest_first_with_their_user_agent() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    api.verified_account("amina@example.com").await;
    let wrong = api
        .client
        .post("/api/v1/auth/login")
        .header("user-agent", "curious-browser/2.0")
        .body_json(&json!({"email": "amina@example.com", "password": "not-her-password"}));
    send(wrong).await.assert_problem(401, "invalid_credentials");
    let amina = api.id_of("amina@example.com").await;

    let reply = api
        .get_as(
            &format!("/api/v1/audit-events?user_id={amina}"),
            &manager.access,
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        kinds(&reply),
        ["login_failed", "email_verified", "registered"]
    );
    let failure = &reply.json()["items"][0];
    assert_eq!(failure["user_id"], amina.as_str());
    assert_eq!(failure["user_agent"], "curious-browser/2.0");
    assert_eq!(failure["actor_id"], Value::Null);
    assert_eq!(failure["at"], api.world.clock.now().to_rfc3339());
    assert_eq!(reply.json()["next_cursor"], Value::Null);
}

#[tokio::test]
async fn events_are_filtered_by_kind_and_read_one_page_at_a_time() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    api.verified_account("amina@example.com").await;
    api.verified_account("omar@example.com").await;

    let first = api
        .get_as(
            "/api/v1/audit-events?kind=registered&limit=1",
            &manager.access,
        )
        .await;
    let cursor = first.json()["next_cursor"].as_str().unwrap().to_owned();
    let second = api
        .get_as(
            &format!("/api/v1/audit-events?kind=registered&limit=1&cursor={cursor}"),
            &manager.access,
        )
        .await;

    assert_eq!(kinds(&first), ["registered"]);
    assert_eq!(kinds(&second), ["registered"]);
    assert_eq!(
        first.json()["items"][0]["user_id"],
        api.id_of("omar@example.com").await.as_str()
    );
    assert_eq!(
        second.json()["items"][0]["user_id"],
        api.id_of("amina@example.com").await.as_str()
    );
}

#[tokio::test]
async fn only_managers_read_the_log() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let client = api.sign_in("amina@example.com").await;

    api.get_as("/api/v1/audit-events", &client.access)
        .await
        .assert_problem(403, "forbidden");
    let anonymous = api.get("/api/v1/audit-events").await;
    anonymous.assert_problem(401, "unauthenticated");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn unknown_kinds_malformed_user_ids_and_bad_pages_are_refused() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;

    for query in ["kind=logged_in", "user_id=42", "limit=0", "cursor=nonsense"] {
        api.get_as(&format!("/api/v1/audit-events?{query}"), &manager.access)
            .await
            .assert_problem(422, "validation_failed");
    }
    api.get_as("/api/v1/audit-events?limit=many", &manager.access)
        .await
        .assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn deleting_ones_account_answers_429_after_ten_wrong_passwords_even_to_the_right_one() {
    let api = Api::new();
    api.verified_account("amina@example.com").await;
    let amina = api.sign_in("amina@example.com").await;
    let delete_me = async |password: &str| {
        let request = api
            .client
            .delete("/api/v1/me")
            .header("authorization", bearer(&amina.access))
            .body_json(&json!({ "password": password }));
        send(request).await
    };
    for _ in 0..10 {
        delete_me("not-her-password")
            .await
            .assert_problem(403, "wrong_password");
    }

    let throttled = delete_me(PASSWORD).await;

    throttled.assert_problem(429, "login_throttled");
    assert!(throttled.header("retry-after").is_some());
    assert_eq!(
        api.get_as("/api/v1/me", &amina.access).await.status,
        StatusCode::OK,
        "the account is still there"
    );
}
