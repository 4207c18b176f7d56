//! End to end: one order's whole life on the real application over real HTTP, with a
//! temporary SQLite file — a manager made by the CLI stocks the catalogue, a client orders, a
//! courier is approved and assigned, the order moves through the kitchen, the courier
//! delivers with the code the client reads, and the client receives the receipt by mail.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::ALLOMEDIA;
use allomedia::adapters::mail::render;
use allomedia::app::{self, RunningApp};
use allomedia::config::Config;
use allomedia::core::model::MailMessage;
use testkit::process::create_manager;
use testkit::{CapturingMailer, PASSWORD};

struct TestApp {
    running: RunningApp,
    base: String,
    http: reqwest::Client,
    mailer: Arc<CapturingMailer>,
}

async fn spawn_app(database_url: &str) -> TestApp {
    let config = Config::from_lookup(|name| match name {
        "HTTP_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(database_url.to_owned()),
        "JWT_SECRET" => Some("an end-to-end secret of 32+ bytes!".into()),
        _ => None,
    })
    .unwrap();
    let mailer = Arc::new(CapturingMailer::default());
    let running = app::start_with_mailer(config, mailer.clone())
        .await
        .unwrap();
    TestApp {
        base: format!("http://{}", running.local_addr),
        running,
        http: reqwest::Client::new(),
        mailer,
    }
}

impl TestApp {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        access: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(access) = access {
            request = request.bearer_auth(access);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, json)
    }

    async fn post(&self, path: &str, access: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, access, Some(body))
            .await
    }

    async fn get(&self, path: &str, access: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, Some(access), None)
            .await
    }

    async fn register_and_verify(&self, name: &str, email: &str, role: &str) {
        let (status, _) = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"name": name, "email": email, "password": PASSWORD, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        self.mailer.wait_for_mails(email, 1).await;
        let token = self.mailer.verification_token(email);
        let (status, _) = self
            .post("/api/v1/auth/verify-email", None, json!({"token": token}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    /// Signs in with the password and the mailed code; returns the access token.
    async fn sign_in(&self, email: &str) -> String {
        let (status, challenge) = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{challenge}");
        let code = self.mailer.login_code(email);
        let (status, tokens) = self
            .post(
                "/api/v1/auth/2fa/verify",
                None,
                json!({"challenge_id": challenge["challenge_id"], "code": code}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens["access_token"].as_str().unwrap().to_owned()
    }

    async fn move_order(&self, id: &str, access: &str, body: Value) -> Value {
        let (status, order) = self
            .post(&format!("/api/v1/orders/{id}/status"), Some(access), body)
            .await;
        assert_eq!(status, StatusCode::OK, "{order}");
        order
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_goes_from_the_clients_basket_to_their_door_and_they_get_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("allomedia.db").display());
    // A manager made the way operators do: the real binary's `create-manager`.
    create_manager(
        &ALLOMEDIA,
        &database_url,
        "Salma",
        "salma@example.com",
        PASSWORD,
    );
    let app = spawn_app(&database_url).await;
    let manager = app.sign_in("salma@example.com").await;

    // The manager stocks the catalogue.
    let (status, product) = app
        .post(
            "/api/v1/products",
            Some(&manager),
            json!({"name": "Tajine aux olives", "price_cents": 8550, "available": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{product}");

    // A client signs up and orders two.
    app.register_and_verify("Amina", "amina@example.com", "client")
        .await;
    let client = app.sign_in("amina@example.com").await;
    let (status, order) = app
        .post(
            "/api/v1/orders",
            Some(&client),
            json!({
                "items": [{"product_id": product["id"], "quantity": 2}],
                "delivery_address": "12 rue Atlas, Casablanca",
                "note": "Third floor"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["total_cents"], 17_100);
    let id = order["id"].as_str().unwrap().to_owned();

    // A courier signs up; the manager approves them.
    app.register_and_verify("Karim", "karim@example.com", "courier")
        .await;
    let (_, pending) = app
        .get("/api/v1/users?status=pending_approval", &manager)
        .await;
    let courier_id = pending["items"][0]["id"].clone();
    let (status, approved) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{}", courier_id.as_str().unwrap()),
            Some(&manager),
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let courier = app.sign_in("karim@example.com").await;

    // The kitchen confirms, the manager assigns the courier, the order is prepared.
    app.move_order(&id, &manager, json!({"status": "confirmed"}))
        .await;
    let (status, assigned) = app
        .post(
            &format!("/api/v1/orders/{id}/assign"),
            Some(&manager),
            json!({"courier_id": courier_id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{assigned}");
    app.move_order(&id, &manager, json!({"status": "preparing"}))
        .await;
    app.move_order(&id, &manager, json!({"status": "ready"}))
        .await;

    // The courier picks it up; now the client can read the delivery code.
    let (_, assignments) = app.get("/api/v1/orders", &courier).await;
    assert_eq!(assignments["items"][0]["id"], id.as_str());
    app.move_order(&id, &courier, json!({"status": "picked_up"}))
        .await;
    let (_, seen_by_client) = app.get(&format!("/api/v1/orders/{id}"), &client).await;
    let code = seen_by_client["delivery_code"].as_str().unwrap().to_owned();

    // The courier delivers with the code.
    let delivered = app
        .move_order(
            &id,
            &courier,
            json!({"status": "delivered", "delivery_code": code}),
        )
        .await;
    assert_eq!(delivered["status"], "delivered");

    // The client's receipt lists what they got and the total.
    let receipt = app
        .mailer
        .sent()
        .into_iter()
        .find(|mail| matches!(mail.message, MailMessage::OrderReceipt(_)))
        .expect("a receipt was mailed");
    assert_eq!(receipt.to.as_str(), "amina@example.com");
    let rendered = render(
        &receipt,
        &allomedia::adapters::mail::MailLinks::new(url::Url::parse(&app.base).unwrap()).unwrap(),
    )
    .unwrap();
    // Amina registered without Accept-Language: her receipt is in French, the default, with
    // French typography (non-breaking spaces, here read as plain ones).
    let text = rendered.text.replace(['\u{a0}', '\u{202f}'], " ");
    assert!(
        text.contains("- 2 × Tajine aux olives à 85,50 MAD : 171,00 MAD"),
        "{text}"
    );
    assert!(text.contains("Total : 171,00 MAD"), "{text}");
    app.running.stop().await.unwrap();
}
