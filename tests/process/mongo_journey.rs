//! The production path end to end: the real binary on `DATABASE_URL=mongodb://…` (a database
//! of its own on `MONGODB_TEST_URI`) — a person registers, verifies, signs in with the mailed
//! code, orders, is delivered and signs out; the manager and the courier do their part.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::ALLOMEDIA;
use crate::mongo_server::SharedDatabase;
use testkit::PASSWORD;
use testkit::process::{Server, create_manager};

/// Registers someone with `role` and confirms their address with the mailed link.
async fn register_and_verify(server: &Server, name: &str, email: &str, role: &str) {
    let registered = server
        .post(
            "/api/v1/auth/register",
            None,
            json!({"name": name, "email": email, "password": PASSWORD, "role": role}),
        )
        .await;
    assert_eq!(registered.status, StatusCode::ACCEPTED, "{registered:?}");
    let token = server.mail(email, "verify_email", 0).await.link_token();
    let verified = server
        .post("/api/v1/auth/verify-email", None, json!({"token": token}))
        .await;
    assert_eq!(verified.status, StatusCode::NO_CONTENT, "{verified:?}");
}

async fn access_token(server: &Server, email: &str) -> String {
    server.sign_in(email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn move_order(server: &Server, id: &str, access: &str, body: Value) -> Value {
    let moved = server
        .post(&format!("/api/v1/orders/{id}/status"), Some(access), body)
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    moved.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_mongodb_a_person_signs_up_orders_is_delivered_and_signs_out() {
    let test = "mongo_journey::on_mongodb_a_person_signs_up_orders_is_delivered_and_signs_out";
    let Some(database) = SharedDatabase::create("allomedia_journey", test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    create_manager(
        &ALLOMEDIA,
        &database.url,
        "Salma",
        "salma@example.com",
        PASSWORD,
    );
    let server = Server::start(&ALLOMEDIA, &database.url, dir.path(), "journey").await;
    let manager = access_token(&server, "salma@example.com").await;
    let product = server
        .post(
            "/api/v1/products",
            Some(&manager),
            json!({"name": "Tajine aux olives", "price_cents": 8550, "available": true}),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{product:?}");

    // Register, verify, sign in with the mailed code.
    register_and_verify(&server, "Amina", "amina@example.com", "client").await;
    let client = access_token(&server, "amina@example.com").await;

    // Order.
    let order = server
        .post(
            "/api/v1/orders",
            Some(&client),
            json!({
                "items": [{"product_id": product.body["id"], "quantity": 2}],
                "delivery_address": "12 rue Atlas, Casablanca"
            }),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{order:?}");
    assert_eq!(order.body["total_cents"], 17_100);
    let id = order.body["id"].as_str().unwrap().to_owned();

    // A courier signs up and is approved; the order is confirmed, assigned, prepared.
    register_and_verify(&server, "Karim", "karim@example.com", "courier").await;
    let pending = server
        .get("/api/v1/users?status=pending_approval", &manager)
        .await;
    let courier_id = pending.body["items"][0]["id"].as_str().unwrap().to_owned();
    let approved = server
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{courier_id}"),
            Some(&manager),
            Some(&json!({"status": "active"})),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{approved:?}");
    let courier = access_token(&server, "karim@example.com").await;
    move_order(&server, &id, &manager, json!({"status": "confirmed"})).await;
    let assigned = server
        .post(
            &format!("/api/v1/orders/{id}/assign"),
            Some(&manager),
            json!({"courier_id": courier_id}),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{assigned:?}");
    move_order(&server, &id, &manager, json!({"status": "preparing"})).await;
    move_order(&server, &id, &manager, json!({"status": "ready"})).await;

    // Picked up, then delivered with the code only the client sees.
    move_order(&server, &id, &courier, json!({"status": "picked_up"})).await;
    let seen = server.get(&format!("/api/v1/orders/{id}"), &client).await;
    let code = seen.body["delivery_code"].as_str().unwrap().to_owned();
    let delivered = move_order(
        &server,
        &id,
        &courier,
        json!({"status": "delivered", "delivery_code": code}),
    )
    .await;
    assert_eq!(delivered["status"], "delivered");
    let stats = server.get("/api/v1/stats", &manager).await;
    assert_eq!(stats.status, StatusCode::OK, "{stats:?}");

    // Sign out: the access token stops working at once.
    let logout = server
        .call(Method::POST, "/api/v1/auth/logout", Some(&client), None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT, "{logout:?}");
    let after = server.get("/api/v1/me", &client).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{after:?}");

    drop(server);
    database.drop_database().await;
}
