//! People over HTTP: managers' `/api/v1/users*` and `DELETE /api/v1/me` — every operation's
//! success and each problem it can answer with.

use poem::http::StatusCode;
use serde_json::{Value, json};

use allomedia::core::model::{AccountStatus, Email};
use allomedia::core::ports::UserStore;
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

async fn a_client(api: &Api, email: &str) -> Tokens {
    api.verified_account(email).await;
    api.sign_in(email).await
}

async fn delete_as(api: &Api, path: &str, access: &str, body: Option<Value>) -> Reply {
    let request = api
        .client
        .delete(path)
        .header("authorization", bearer(access));
    match body {
        Some(body) => send(request.body_json(&body)).await,
        None => send(request).await,
    }
}

fn user_path(id: &str) -> String {
    format!("/api/v1/users/{id}")
}

#[tokio::test]
async fn a_manager_lists_users_newest_first_with_filters_and_pages() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    a_client(&api, "amina@example.com").await;
    a_client(&api, "omar@example.com").await;

    let first = api.get_as("/api/v1/users?limit=1", &manager.access).await;
    let cursor = first.json()["next_cursor"].as_str().unwrap().to_owned();
    let second = api
        .get_as(
            &format!("/api/v1/users?limit=1&cursor={cursor}"),
            &manager.access,
        )
        .await;
    let clients = api
        .get_as(
            "/api/v1/users?role=client&status=active&q=OMAR",
            &manager.access,
        )
        .await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let emails = |reply: &Reply| -> Vec<String> {
        reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["email"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(emails(&first), ["omar@example.com"]);
    assert_eq!(emails(&second), ["amina@example.com"]);
    assert_eq!(emails(&clients), ["omar@example.com"]);
    assert_eq!(clients.json()["next_cursor"], Value::Null);
    let user = &first.json()["items"][0];
    assert_eq!(user["role"], "client");
    assert_eq!(user["status"], "active");
    assert_eq!(user["email_verified"], true);
    assert!(!first.body.contains("argon2"), "{}", first.body);
    assert!(!first.body.contains("password"), "{}", first.body);
}

#[tokio::test]
async fn listing_users_refuses_unknown_filters_and_bad_pages() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;

    for query in [
        "role=admin",
        "status=banned",
        "limit=0",
        "limit=101",
        "cursor=nonsense",
    ] {
        let reply = api
            .get_as(&format!("/api/v1/users?{query}"), &manager.access)
            .await;
        reply.assert_problem(422, "validation_failed");
    }
    let reply = api
        .get_as("/api/v1/users?limit=many", &manager.access)
        .await;
    reply.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn only_a_signed_in_manager_reaches_the_users() {
    let api = Api::new();
    a_manager(&api, "salma@example.com").await;
    let client = a_client(&api, "amina@example.com").await;
    let someone = user_path(&api.id_of("salma@example.com").await);

    api.get("/api/v1/users")
        .await
        .assert_problem(401, "unauthenticated");
    let anonymous = send(api.client.delete(&someone)).await;
    anonymous.assert_problem(401, "unauthenticated");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    api.get_as("/api/v1/users", &client.access)
        .await
        .assert_problem(403, "forbidden");
    api.get_as(&someone, &client.access)
        .await
        .assert_problem(403, "forbidden");
    api.patch_as(&someone, &client.access, json!({"role": "client"}))
        .await
        .assert_problem(403, "forbidden");
    delete_as(&api, &someone, &client.access, None)
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn a_manager_reads_one_user_and_an_unknown_one_is_not_found() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    a_client(&api, "amina@example.com").await;
    let amina = api.id_of("amina@example.com").await;

    let found = api.get_as(&user_path(&amina), &manager.access).await;
    let unknown = api
        .get_as(
            &user_path("0190f5e4-0000-7000-8000-000000000000"),
            &manager.access,
        )
        .await;
    let not_an_id = api.get_as(&user_path("amina"), &manager.access).await;

    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.json()["id"], amina);
    assert_eq!(found.json()["email"], "amina@example.com");
    unknown.assert_problem(404, "not_found");
    not_an_id.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn a_manager_approves_a_courier_who_can_then_sign_in() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    api.post(
        "/api/v1/auth/register",
        json!({"name": "Youssef", "email": "youssef@example.com", "password": PASSWORD,
               "role": "courier"}),
    )
    .await;
    let token = api.world.mailer.verification_token("youssef@example.com");
    api.post("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    let courier = api.id_of("youssef@example.com").await;
    api.login("youssef@example.com", PASSWORD)
        .await
        .assert_problem(403, "account_pending_approval");

    let approved = api
        .patch_as(
            &user_path(&courier),
            &manager.access,
            json!({"status": "active"}),
        )
        .await;

    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.json()["status"], "active");
    assert_eq!(approved.json()["role"], "courier");
    api.sign_in("youssef@example.com").await;
}

#[tokio::test]
async fn suspending_a_user_refuses_their_access_token_at_once() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    let client = a_client(&api, "amina@example.com").await;
    let amina = api.id_of("amina@example.com").await;

    let suspended = api
        .patch_as(
            &user_path(&amina),
            &manager.access,
            json!({"status": "suspended"}),
        )
        .await;

    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.body);
    assert_eq!(suspended.json()["status"], "suspended");
    api.get_as("/api/v1/me", &client.access)
        .await
        .assert_problem(401, "unauthenticated");
    api.post(
        "/api/v1/auth/refresh",
        json!({"refresh_token": client.refresh}),
    )
    .await
    .assert_problem(401, "invalid_refresh_token");
    api.login("amina@example.com", PASSWORD)
        .await
        .assert_problem(403, "account_suspended");
}

#[tokio::test]
async fn a_manager_promotes_a_client_who_becomes_a_manager_at_once() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    let client = a_client(&api, "amina@example.com").await;
    let amina = api.id_of("amina@example.com").await;

    let promoted = api
        .patch_as(
            &user_path(&amina),
            &manager.access,
            json!({"role": "manager"}),
        )
        .await;

    assert_eq!(promoted.json()["role"], "manager");
    let reply = api.get_as("/api/v1/users", &client.access).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn the_last_active_manager_cannot_step_down_or_be_deleted() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    let me = user_path(&api.id_of("salma@example.com").await);

    api.patch_as(&me, &manager.access, json!({"role": "client"}))
        .await
        .assert_problem(409, "last_active_manager");
    api.patch_as(&me, &manager.access, json!({"status": "suspended"}))
        .await
        .assert_problem(409, "last_active_manager");
    delete_as(&api, &me, &manager.access, None)
        .await
        .assert_problem(409, "last_active_manager");
    delete_as(
        &api,
        "/api/v1/me",
        &manager.access,
        Some(json!({"password": PASSWORD})),
    )
    .await
    .assert_problem(409, "last_active_manager");
    assert_eq!(
        api.get_as("/api/v1/me", &manager.access).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_change_of_access_is_validated_and_smuggled_fields_are_refused() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    let client = a_client(&api, "amina@example.com").await;
    let amina = user_path(&api.id_of("amina@example.com").await);

    api.patch_as(&amina, &manager.access, json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let unknown = api
        .patch_as(&amina, &manager.access, json!({"role": "admin"}))
        .await;
    let problem = unknown.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "role");
    api.patch_as(
        &amina,
        &manager.access,
        json!({"role": "manager", "email_verified": true}),
    )
    .await
    .assert_problem(400, "malformed_request");
    api.patch_as(&amina, &manager.access, json!({"role": 3}))
        .await
        .assert_problem(400, "malformed_request");
    api.patch_as(
        &user_path("0190f5e4-0000-7000-8000-000000000000"),
        &manager.access,
        json!({"status": "active"}),
    )
    .await
    .assert_problem(404, "not_found");
    // A user cannot promote themself through their own profile either.
    api.patch_as("/api/v1/me", &client.access, json!({"role": "manager"}))
        .await
        .assert_problem(400, "malformed_request");
    let me = api.get_as("/api/v1/me", &client.access).await;
    assert_eq!(me.json()["role"], "client");
}

#[tokio::test]
async fn a_manager_deletes_a_user_whose_token_then_stops_working() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    let client = a_client(&api, "amina@example.com").await;
    let amina = user_path(&api.id_of("amina@example.com").await);

    let deleted = delete_as(&api, &amina, &manager.access, None).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    api.get_as("/api/v1/me", &client.access)
        .await
        .assert_problem(401, "unauthenticated");
    api.get_as(&amina, &manager.access)
        .await
        .assert_problem(404, "not_found");
    delete_as(&api, &amina, &manager.access, None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn a_user_deletes_their_own_account_with_their_password() {
    let api = Api::new();
    let client = a_client(&api, "amina@example.com").await;

    let wrong = delete_as(
        &api,
        "/api/v1/me",
        &client.access,
        Some(json!({"password": "nope"})),
    )
    .await;
    let missing = delete_as(&api, "/api/v1/me", &client.access, Some(json!({}))).await;
    let deleted = delete_as(
        &api,
        "/api/v1/me",
        &client.access,
        Some(json!({"password": PASSWORD})),
    )
    .await;

    wrong.assert_problem(403, "wrong_password");
    missing.assert_problem(400, "malformed_request");
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    api.get_as("/api/v1/me", &client.access)
        .await
        .assert_problem(401, "unauthenticated");
    let stored = api
        .world
        .store
        .user_by_email(&Email::parse("amina@example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(stored, None);
    let anonymous = send(
        api.client
            .delete("/api/v1/me")
            .body_json(&json!({"password": PASSWORD})),
    )
    .await;
    anonymous.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_suspended_manager_does_not_count_as_the_active_one() {
    let api = Api::new();
    let salma = a_manager(&api, "salma@example.com").await;
    a_manager(&api, "karim@example.com").await;
    let karim = user_path(&api.id_of("karim@example.com").await);
    let me = user_path(&api.id_of("salma@example.com").await);

    let suspended = api
        .patch_as(&karim, &salma.access, json!({"status": "suspended"}))
        .await;
    let demoted = api
        .patch_as(&me, &salma.access, json!({"role": "courier"}))
        .await;

    assert_eq!(
        suspended.json()["status"],
        AccountStatus::Suspended.as_str()
    );
    demoted.assert_problem(409, "last_active_manager");
}

#[tokio::test]
async fn deleting_ones_account_refuses_an_unknown_field() {
    let api = Api::new();
    let client = api.signed_in_client("amina@example.com").await;

    let reply = delete_as(
        &api,
        "/api/v1/me",
        &client.access,
        Some(json!({"password": PASSWORD, "reason": "moving away"})),
    )
    .await;

    let problem = reply.assert_problem(400, "malformed_request");
    assert!(
        problem["detail"].as_str().unwrap().contains("reason"),
        "{}",
        reply.body
    );
    assert_eq!(
        api.get_as("/api/v1/me", &client.access).await.status,
        StatusCode::OK
    );
}

/// A NUL byte in the search is plain text like any other character: nobody matches, and the
/// answer is not a fault (MongoDB refuses a `$regex` containing NUL; see docs/mongodb.md).
#[tokio::test]
async fn a_user_search_with_a_nul_byte_finds_nobody() {
    let api = Api::new();
    let manager = a_manager(&api, "salma@example.com").await;
    a_client(&api, "amina@example.com").await;

    let found = api
        .get_as("/api/v1/users?q=amina%00", &manager.access)
        .await;

    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.json()["items"], serde_json::json!([]));
}
