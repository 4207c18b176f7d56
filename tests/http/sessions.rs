//! HTTP: the signed-in user's sessions — `GET /api/v1/me/sessions` and
//! `DELETE /api/v1/me/sessions/{id}` — with their problem responses.

use poem::http::StatusCode;
use serde_json::Value;

use testkit::http::{Api, Reply, bearer, send};

const AMINA: &str = "amina@example.com";
const OMAR: &str = "omar@example.com";

async fn delete_as(api: &Api, path: &str, access: &str) -> Reply {
    send(
        api.client
            .delete(path)
            .header("authorization", bearer(access)),
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The id of the session holding `access`, as the list reports it.
async fn current_session_id(api: &Api, access: &str) -> String {
    let page = api.get_as("/api/v1/me/sessions", access).await.json();
    let items = page["items"].as_array().unwrap();
    let current = items.iter().find(|item| item["current"] == true).unwrap();
    current["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn my_sessions_list_only_my_live_ones_newest_first_and_mark_the_current_one() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    api.verified_account(OMAR).await;
    let laptop = api.sign_in(AMINA).await;
    let ended = api.sign_in(AMINA).await;
    api.post_as("/api/v1/auth/logout", &ended.access).await;
    api.sign_in(OMAR).await;
    let phone = api.sign_in(AMINA).await;

    let reply = api.get_as("/api/v1/me/sessions", &phone.access).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page = reply.json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!(items[0]["current"], true);
    assert_eq!(items[1]["current"], false);
    assert_eq!(
        items[1]["id"],
        current_session_id(&api, &laptop.access).await
    );
    for field in ["created_at", "last_used_at"] {
        assert!(items[0][field].is_string(), "{field} in {page}");
    }
    for field in ["user_agent", "ip"] {
        assert!(items[0].get(field).is_some(), "{field} in {page}");
    }
    assert_eq!(page["next_cursor"], Value::Null);
}

#[tokio::test]
async fn my_sessions_are_paged_with_the_cursor() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    api.sign_in(AMINA).await;
    api.sign_in(AMINA).await;
    let tokens = api.sign_in(AMINA).await;

    let first = api
        .get_as("/api/v1/me/sessions?limit=2", &tokens.access)
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = api
        .get_as(
            &format!("/api/v1/me/sessions?limit=2&cursor={cursor}"),
            &tokens.access,
        )
        .await
        .json();

    assert_eq!(ids(&first).len(), 2);
    assert_eq!(ids(&second).len(), 1);
    assert!(!ids(&first).contains(&ids(&second)[0]));
    assert_eq!(second["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_limit_out_of_range_or_a_foreign_cursor_is_a_validation_problem() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let tokens = api.sign_in(AMINA).await;

    let zero = api
        .get_as("/api/v1/me/sessions?limit=0", &tokens.access)
        .await;
    let forged = api
        .get_as("/api/v1/me/sessions?cursor=not-ours", &tokens.access)
        .await;
    let not_a_number = api
        .get_as("/api/v1/me/sessions?limit=many", &tokens.access)
        .await;

    zero.assert_problem(422, "validation_failed");
    forged.assert_problem(422, "validation_failed");
    not_a_number.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn anonymous_callers_are_unauthenticated() {
    let api = Api::new();

    let list = api.get("/api/v1/me/sessions").await;
    let end = send(
        api.client
            .delete("/api/v1/me/sessions/0190b7e2-0000-7000-8000-000000000000"),
    )
    .await;

    list.assert_problem(401, "unauthenticated");
    end.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn ending_one_of_my_sessions_signs_that_device_out_only() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    let laptop = api.sign_in(AMINA).await;
    let phone = api.sign_in(AMINA).await;
    let laptop_id = current_session_id(&api, &laptop.access).await;

    let reply = delete_as(
        &api,
        &format!("/api/v1/me/sessions/{laptop_id}"),
        &phone.access,
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
    let remaining = api
        .get_as("/api/v1/me/sessions", &phone.access)
        .await
        .json();
    assert!(!ids(&remaining).contains(&laptop_id));
}

#[tokio::test]
async fn another_users_unknown_or_ended_session_is_not_found() {
    let api = Api::new();
    api.verified_account(AMINA).await;
    api.verified_account(OMAR).await;
    let amina = api.sign_in(AMINA).await;
    let omar = api.sign_in(OMAR).await;
    let omars_id = current_session_id(&api, &omar.access).await;
    let ended = api.sign_in(AMINA).await;
    let ended_id = current_session_id(&api, &ended.access).await;
    delete_as(
        &api,
        &format!("/api/v1/me/sessions/{ended_id}"),
        &amina.access,
    )
    .await;

    for id in [
        omars_id.as_str(),
        ended_id.as_str(),
        "0190b7e2-0000-7000-8000-000000000000",
        "not-a-session-id",
    ] {
        delete_as(&api, &format!("/api/v1/me/sessions/{id}"), &amina.access)
            .await
            .assert_problem(404, "not_found");
    }
    assert_eq!(
        api.get_as("/api/v1/me", &omar.access).await.status,
        StatusCode::OK,
        "the other user's session is untouched"
    );
}
