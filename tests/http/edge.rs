//! Tests: the headers every answer carries — no caching of personal data, the
//! Content-Security-Policy (Swagger UI's own on `/docs`), frame protection, HSTS on https.

use poem::http::StatusCode;
use serde_json::json;

use allomedia::adapters::http::HttpSettings;
use testkit::http::{Api, Reply};

/// A manager and a client signed in, and one order of the client; answers of every family
/// that carries personal data, read by whoever may read them.
async fn private_answers(api: &Api) -> Vec<(&'static str, Reply)> {
    let manager = api.signed_in_manager("salma@example.com").await;
    let client = api.signed_in_client("amina@example.com").await;
    let product = api
        .post_json_as(
            "/api/v1/products",
            &manager.access,
            json!({"name": "Tajine", "price_cents": 4500, "available": true}),
        )
        .await;
    let product_id = product.json()["id"].as_str().unwrap().to_owned();
    let order = api
        .post_json_as(
            "/api/v1/orders",
            &client.access,
            json!({"items": [{"product_id": product_id, "quantity": 1}],
                   "delivery_address": "12 rue des Oliviers, Rabat"}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let order_id = order.json()["id"].as_str().unwrap().to_owned();
    let client_id = api.id_of("amina@example.com").await;
    vec![
        ("placed order", order),
        (
            "one order",
            api.get_as(&format!("/api/v1/orders/{order_id}"), &client.access)
                .await,
        ),
        (
            "orders",
            api.get_as("/api/v1/orders", &manager.access).await,
        ),
        ("users", api.get_as("/api/v1/users", &manager.access).await),
        (
            "one user",
            api.get_as(&format!("/api/v1/users/{client_id}"), &manager.access)
                .await,
        ),
        (
            "audit",
            api.get_as("/api/v1/audit-events", &manager.access).await,
        ),
        ("stats", api.get_as("/api/v1/stats", &manager.access).await),
        ("me", api.get_as("/api/v1/me", &client.access).await),
        ("anonymous orders", api.get("/api/v1/orders").await),
    ]
}

#[tokio::test]
async fn no_answer_that_carries_personal_data_may_be_cached() {
    let api = Api::new();

    for (family, reply) in private_answers(&api).await {
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{family}");
    }
}

#[tokio::test]
async fn public_answers_may_be_cached() {
    let api = Api::new();

    for path in ["/api/v1/products", "/docs", "/openapi.json", "/health/live"] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("cache-control"), None, "{path}");
    }
}

#[tokio::test]
async fn every_answer_forbids_framing_sniffing_referrers_and_active_content() {
    let api = Api::new();
    let mut replies = private_answers(&api).await;
    replies.push(("products", api.get("/api/v1/products").await));
    replies.push(("unknown route", api.get("/nowhere").await));

    for (family, reply) in replies {
        assert_eq!(
            reply.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
            "{family}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{family}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(reply.header("strict-transport-security"), None);
    }
}

#[tokio::test]
async fn the_docs_page_runs_only_its_own_inline_scripts_and_calls_only_the_api() {
    let api = Api::with_settings(HttpSettings {
        server_url: "https://api.example.com".into(),
        ..HttpSettings::default()
    });

    let docs = api.get("/docs").await;

    let policy = docs.header("content-security-policy").unwrap();
    let directive = |name: &str| {
        policy
            .split("; ")
            .find(|d| d.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {policy}"))
            .to_owned()
    };
    let scripts = directive("script-src");
    // Two inline scripts: Swagger UI's bundle and poem-openapi's start-up script (the bundle
    // itself mentions `<script` in its strings, so the page is not counted). `make browser`
    // proves the page runs under the policy.
    assert_eq!(
        scripts.matches("'sha256-").count(),
        2,
        "one hash per inline script: {scripts}"
    );
    assert!(!scripts.contains("unsafe"), "{scripts}");
    assert_eq!(directive("default-src"), "default-src 'none'");
    assert_eq!(
        directive("connect-src"),
        "connect-src 'self' https://api.example.com"
    );
    assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
}

#[tokio::test]
async fn an_https_deployment_asks_browsers_to_keep_to_https() {
    let api = Api::with_settings(HttpSettings {
        server_url: "https://api.example.com".into(),
        ..HttpSettings::default()
    });

    for path in ["/health/live", "/api/v1/me", "/docs"] {
        let reply = api.get(path).await;
        assert_eq!(
            reply.header("strict-transport-security"),
            Some("max-age=31536000; includeSubDomains"),
            "{path}"
        );
    }
}
