//! Tests: orders over HTTP — who sees what, the workflow's problems, strict bodies.

use poem::http::StatusCode;
use serde_json::{Value, json};

use testkit::PASSWORD;
use testkit::http::{Api, Tokens};
use testkit::other_code;

/// A manager, a client and an approved courier, all signed in, and one available product.
struct Cast {
    api: Api,
    manager: Tokens,
    client: Tokens,
    courier: Tokens,
    courier_id: String,
    product_id: String,
}

async fn cast() -> Cast {
    let api = Api::new();
    let manager = api.signed_in_manager("salma@example.com").await;
    let client = api.signed_in_client("amina@example.com").await;
    let courier_id = approved_courier(&api, &manager, "karim@example.com").await;
    let courier = api.sign_in("karim@example.com").await;
    let product = api
        .post_json_as(
            "/api/v1/products",
            &manager.access,
            json!({"name": "Tajine", "price_cents": 4500, "available": true}),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.body);
    Cast {
        product_id: product.json()["id"].as_str().unwrap().to_owned(),
        api,
        manager,
        client,
        courier,
        courier_id,
    }
}

/// Registers a courier, verifies them, has the manager approve them; returns their id.
async fn approved_courier(api: &Api, manager: &Tokens, email: &str) -> String {
    let registered = api
        .post(
            "/api/v1/auth/register",
            json!({"name": "Karim", "email": email, "password": PASSWORD, "role": "courier"}),
        )
        .await;
    assert_eq!(registered.status, StatusCode::ACCEPTED);
    let token = api.world.mailer.verification_token(email);
    api.post("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    let pending = api
        .get_as("/api/v1/users?status=pending_approval", &manager.access)
        .await
        .json();
    let id = pending["items"][0]["id"].as_str().unwrap().to_owned();
    let approved = api
        .patch_as(
            &format!("/api/v1/users/{id}"),
            &manager.access,
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    id
}

impl Cast {
    async fn order(&self) -> Value {
        let reply = self
            .api
            .post_json_as(
                "/api/v1/orders",
                &self.client.access,
                json!({
                    "items": [{"product_id": self.product_id, "quantity": 2}],
                    "delivery_address": "12 rue Atlas, Casablanca"
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.json()
    }

    async fn move_to(&self, who: &Tokens, id: &str, body: Value) -> testkit::http::Reply {
        self.api
            .post_json_as(&format!("/api/v1/orders/{id}/status"), &who.access, body)
            .await
    }

    async fn assign(&self, id: &str) -> testkit::http::Reply {
        self.api
            .post_json_as(
                &format!("/api/v1/orders/{id}/assign"),
                &self.manager.access,
                json!({"courier_id": self.courier_id}),
            )
            .await
    }

    /// Moves a new order to `picked_up` and returns its id.
    async fn picked_up_order(&self) -> String {
        let id = self.order().await["id"].as_str().unwrap().to_owned();
        for status in ["confirmed", "preparing", "ready"] {
            let reply = self
                .move_to(&self.manager, &id, json!({"status": status}))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        assert_eq!(self.assign(&id).await.status, StatusCode::OK);
        let picked = self
            .move_to(&self.courier, &id, json!({"status": "picked_up"}))
            .await;
        assert_eq!(picked.status, StatusCode::OK, "{}", picked.body);
        id
    }
}

#[tokio::test]
async fn a_client_places_an_order_priced_by_the_catalogue() {
    let cast = cast().await;

    let order = cast.order().await;

    assert_eq!(order["status"], "pending");
    assert_eq!(order["items"][0]["unit_price_cents"], 4500);
    assert_eq!(order["items"][0]["line_total_cents"], 9000);
    assert_eq!(order["total_cents"], 9000);
    assert_eq!(order["currency"], "MAD");
    assert_eq!(order["delivery_code"], Value::Null);
    assert_eq!(order["courier_id"], Value::Null);
}

#[tokio::test]
async fn a_client_cannot_send_prices_or_totals() {
    let cast = cast().await;

    for extra in [
        json!({"items": [{"product_id": cast.product_id, "quantity": 1, "price_cents": 1}],
               "delivery_address": "Casablanca"}),
        json!({"items": [{"product_id": cast.product_id, "quantity": 1}],
               "delivery_address": "Casablanca", "total_cents": 1}),
    ] {
        let reply = cast
            .api
            .post_json_as("/api/v1/orders", &cast.client.access, extra)
            .await;
        reply.assert_problem(400, "malformed_request");
    }
}

#[tokio::test]
async fn unknown_products_are_named_and_only_clients_order() {
    let cast = cast().await;
    let body = json!({
        "items": [{"product_id": "0190c0de-0000-7000-8000-000000000001", "quantity": 1}],
        "delivery_address": "Casablanca"
    });

    let unknown = cast
        .api
        .post_json_as("/api/v1/orders", &cast.client.access, body.clone())
        .await;
    let by_a_manager = cast
        .api
        .post_json_as("/api/v1/orders", &cast.manager.access, body.clone())
        .await;
    let anonymous = cast.api.post("/api/v1/orders", body).await;

    let problem = unknown.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "items[0].product_id");
    by_a_manager.assert_problem(403, "forbidden");
    anonymous.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn another_client_and_an_unassigned_courier_see_nothing() {
    let cast = cast().await;
    let order = cast.order().await;
    let id = order["id"].as_str().unwrap();
    let other = cast.api.signed_in_client("nadia@example.com").await;

    let by_other = cast
        .api
        .get_as(&format!("/api/v1/orders/{id}"), &other.access)
        .await;
    let by_courier = cast
        .api
        .get_as(&format!("/api/v1/orders/{id}"), &cast.courier.access)
        .await;
    let others_list = cast
        .api
        .get_as("/api/v1/orders", &other.access)
        .await
        .json();
    let couriers_list = cast
        .api
        .get_as("/api/v1/orders", &cast.courier.access)
        .await
        .json();
    let managers_list = cast
        .api
        .get_as("/api/v1/orders", &cast.manager.access)
        .await
        .json();

    by_other.assert_problem(404, "not_found");
    by_courier.assert_problem(404, "not_found");
    assert_eq!(others_list["items"], json!([]));
    assert_eq!(couriers_list["items"], json!([]));
    assert_eq!(managers_list["items"][0]["id"], order["id"]);
    assert_eq!(managers_list["next_cursor"], Value::Null);
}

#[tokio::test]
async fn an_unknown_status_filter_or_limit_is_a_validation_problem() {
    let cast = cast().await;

    let reply = cast
        .api
        .get_as("/api/v1/orders?status=lost&limit=0", &cast.manager.access)
        .await;

    let problem = reply.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "limit"]);
}

#[tokio::test]
async fn the_workflow_answers_forbidden_invalid_transition_and_missing_reason() {
    let cast = cast().await;
    let id = cast.order().await["id"].as_str().unwrap().to_owned();

    let client_confirms = cast
        .move_to(&cast.client, &id, json!({"status": "confirmed"}))
        .await;
    let skipping_ahead = cast
        .move_to(&cast.manager, &id, json!({"status": "ready"}))
        .await;
    let unknown_status = cast
        .move_to(&cast.manager, &id, json!({"status": "lost"}))
        .await;
    cast.move_to(&cast.manager, &id, json!({"status": "confirmed"}))
        .await;
    let cancel_without_reason = cast
        .move_to(&cast.manager, &id, json!({"status": "cancelled"}))
        .await;
    let assigned_before_confirmation = {
        let fresh = cast.order().await["id"].as_str().unwrap().to_owned();
        cast.assign(&fresh).await
    };

    client_confirms.assert_problem(403, "forbidden");
    skipping_ahead.assert_problem(409, "invalid_transition");
    unknown_status.assert_problem(422, "validation_failed");
    let problem = cancel_without_reason.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "reason");
    assigned_before_confirmation.assert_problem(409, "order_not_assignable");
}

#[tokio::test]
async fn assigning_a_client_is_a_validation_problem_and_only_managers_assign() {
    let cast = cast().await;
    let id = cast.order().await["id"].as_str().unwrap().to_owned();
    cast.move_to(&cast.manager, &id, json!({"status": "confirmed"}))
        .await;
    let client_id = cast
        .api
        .get_as("/api/v1/me", &cast.client.access)
        .await
        .json()["id"]
        .clone();

    let to_a_client = cast
        .api
        .post_json_as(
            &format!("/api/v1/orders/{id}/assign"),
            &cast.manager.access,
            json!({"courier_id": client_id}),
        )
        .await;
    let by_the_client = cast
        .api
        .post_json_as(
            &format!("/api/v1/orders/{id}/assign"),
            &cast.client.access,
            json!({"courier_id": cast.courier_id}),
        )
        .await;

    let problem = to_a_client.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "courier_id");
    by_the_client.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn the_client_reads_the_code_after_pick_up_and_a_wrong_one_does_not_deliver() {
    let cast = cast().await;
    let id = cast.picked_up_order().await;

    let for_the_client = cast
        .api
        .get_as(&format!("/api/v1/orders/{id}"), &cast.client.access)
        .await
        .json();
    let for_the_courier = cast
        .api
        .get_as(&format!("/api/v1/orders/{id}"), &cast.courier.access)
        .await
        .json();
    let code = for_the_client["delivery_code"].as_str().unwrap().to_owned();
    let wrong = cast
        .move_to(
            &cast.courier,
            &id,
            json!({"status": "delivered", "delivery_code": other_code(&code)}),
        )
        .await;
    let right = cast
        .move_to(
            &cast.courier,
            &id,
            json!({"status": "delivered", "delivery_code": code}),
        )
        .await;

    assert_eq!(for_the_courier["delivery_code"], Value::Null);
    wrong.assert_problem(422, "invalid_delivery_code");
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    assert_eq!(right.json()["status"], "delivered");
    assert_eq!(right.json()["history"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn managers_read_stats_and_nobody_else_does() {
    let cast = cast().await;
    let id = cast.picked_up_order().await;
    let code = cast
        .api
        .get_as(&format!("/api/v1/orders/{id}"), &cast.client.access)
        .await
        .json()["delivery_code"]
        .clone();
    cast.move_to(
        &cast.courier,
        &id,
        json!({"status": "delivered", "delivery_code": code}),
    )
    .await;

    let stats = cast.api.get_as("/api/v1/stats", &cast.manager.access).await;
    let by_the_courier = cast.api.get_as("/api/v1/stats", &cast.courier.access).await;
    let backwards = cast
        .api
        .get_as(
            "/api/v1/stats?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z",
            &cast.manager.access,
        )
        .await;
    let not_a_time = cast
        .api
        .get_as("/api/v1/stats?from=yesterday", &cast.manager.access)
        .await;

    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let stats = stats.json();
    assert_eq!(
        stats["orders_per_status"][5],
        json!({"status": "delivered", "count": 1})
    );
    assert_eq!(
        stats["revenue"],
        json!([{"currency": "MAD", "total_cents": 9000}])
    );
    assert_eq!(
        stats["deliveries_per_courier"],
        json!([{"courier_id": cast.courier_id, "name": "Karim", "deliveries": 1}])
    );
    by_the_courier.assert_problem(403, "forbidden");
    backwards.assert_problem(422, "validation_failed");
    not_a_time.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn the_assign_status_and_product_change_bodies_refuse_an_unknown_field() {
    let cast = cast().await;
    let id = cast.order().await["id"].as_str().unwrap().to_owned();

    let assign = cast
        .api
        .post_json_as(
            &format!("/api/v1/orders/{id}/assign"),
            &cast.manager.access,
            json!({"courier_id": cast.courier_id, "priority": "high"}),
        )
        .await;
    let status = cast
        .move_to(
            &cast.manager,
            &id,
            json!({"status": "confirmed", "priority": "high"}),
        )
        .await;
    let product = cast
        .api
        .patch_as(
            &format!("/api/v1/products/{}", cast.product_id),
            &cast.manager.access,
            json!({"price_cents": 990, "priority": "high"}),
        )
        .await;

    for reply in [assign, status, product] {
        let problem = reply.assert_problem(400, "malformed_request");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("priority"), "{}", reply.body);
    }
    let order = cast
        .api
        .get_as(&format!("/api/v1/orders/{id}"), &cast.manager.access)
        .await
        .json();
    assert_eq!(order["status"], "pending");
    assert_eq!(order["courier_id"], Value::Null);
}

#[tokio::test]
async fn a_manager_hands_a_picked_up_order_of_a_suspended_courier_to_another_courier() {
    let cast = cast().await;
    let id = cast.picked_up_order().await;
    let other_id = approved_courier(&cast.api, &cast.manager, "omar@example.com").await;
    let other = cast.api.sign_in("omar@example.com").await;
    let assign_path = format!("/api/v1/orders/{id}/assign");
    let to_other = json!({"courier_id": other_id});
    let while_the_courier_is_active = cast
        .api
        .post_json_as(&assign_path, &cast.manager.access, to_other.clone())
        .await;
    let suspended = cast
        .api
        .patch_as(
            &format!("/api/v1/users/{}", cast.courier_id),
            &cast.manager.access,
            json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.body);

    let reassigned = cast
        .api
        .post_json_as(&assign_path, &cast.manager.access, to_other)
        .await;
    let failed = cast
        .move_to(
            &other,
            &id,
            json!({"status": "failed", "reason": "Nobody at the door"}),
        )
        .await;

    while_the_courier_is_active.assert_problem(409, "order_not_assignable");
    assert_eq!(reassigned.status, StatusCode::OK, "{}", reassigned.body);
    assert_eq!(reassigned.json()["courier_id"], other_id.as_str());
    assert_eq!(reassigned.json()["status"], "picked_up");
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
}
