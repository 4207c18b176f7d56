//! The operational surface over HTTP — probes, metrics, the OpenAPI document and docs — and
//! the answers every route shares: problems for unknown routes and methods, opaque faults.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use poem::endpoint::BoxEndpoint;
use poem::http::{Method, StatusCode};
use poem::test::TestClient;
use serde_json::{Value, json};

use allomedia::adapters::http::{
    HttpServices, HttpSettings, app, metrics_app, openapi_json, openapi_yaml,
};
use allomedia::core::model::{Email, PageRequest, PasswordHash, ProfileChanges, User, UserId};
use allomedia::core::ports::{
    AccessChange, AccessChangeOutcome, DeleteUserOutcome, InsertUserError, StoreError, StoreHealth,
    UserFilter, UserStore,
};
use testkit::World;
use testkit::http::{send, services_of};

// ---- harness ----

/// Says what a database driver would say, so tests can check it never reaches a client.
const STORE_FAILURE: &str = "connection refused by db.internal:5432";

fn client_for(services: HttpServices, settings: HttpSettings) -> TestClient<BoxEndpoint<'static>> {
    TestClient::new(app(services, settings))
}

fn client() -> TestClient<BoxEndpoint<'static>> {
    client_for(services_of(&World::new()), HttpSettings::default())
}

/// A store that has lost its database.
struct BrokenStore;

fn broken() -> StoreError {
    StoreError::new(anyhow::anyhow!(STORE_FAILURE))
}

#[async_trait]
impl StoreHealth for BrokenStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Err(broken())
    }
}

#[async_trait]
impl UserStore for BrokenStore {
    async fn insert_user(&self, _user: &User) -> Result<(), InsertUserError> {
        Err(broken().into())
    }
    async fn user_by_id(&self, _id: UserId) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn user_by_email(&self, _email: &Email) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn mark_email_verified(&self, _id: UserId, _at: DateTime<Utc>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn update_profile(
        &self,
        _id: UserId,
        _changes: &ProfileChanges,
        _at: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        Err(broken())
    }
    async fn set_password_hash(
        &self,
        _id: UserId,
        _hash: &PasswordHash,
        _at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn list_users(
        &self,
        _filter: &UserFilter,
        _page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        Err(broken())
    }
    async fn change_access(
        &self,
        _id: UserId,
        _change: AccessChange,
        _at: DateTime<Utc>,
    ) -> Result<AccessChangeOutcome, StoreError> {
        Err(broken())
    }
    async fn delete_user(&self, _id: UserId) -> Result<DeleteUserOutcome, StoreError> {
        Err(broken())
    }
}

/// Every service over a store whose user table is unreachable.
fn services_with_broken_users() -> HttpServices {
    let world = World::with_stores(|stores| stores.users = Arc::new(BrokenStore));
    services_of(&world)
}

// ---- probes ----

#[tokio::test]
async fn the_liveness_probe_answers_200() {
    let reply = send(client().get("/health/live")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"status": "live"}));
}

#[tokio::test]
async fn the_readiness_probe_answers_200_while_the_store_answers() {
    let reply = send(client().get("/health/ready")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"status": "ready"}));
}

#[tokio::test]
async fn the_readiness_probe_answers_503_without_the_cause_while_the_store_fails() {
    let world = World::new();
    let services = HttpServices {
        health: Arc::new(BrokenStore),
        ..services_of(&world)
    };

    let reply = send(client_for(services, HttpSettings::default()).get("/health/ready")).await;

    reply.assert_problem(503, "store_unavailable");
    assert!(!reply.body.contains("db.internal"), "{}", reply.body);
}

// ---- faults ----

#[tokio::test]
async fn a_fault_is_an_opaque_500_problem() {
    let client = client_for(services_with_broken_users(), HttpSettings::default());

    let reply = send(
        client
            .post("/api/v1/auth/login")
            .body_json(&json!({"email": "amina@example.com", "password": "whatever it is"})),
    )
    .await;

    let problem = reply.assert_problem(500, "internal_error");
    for secret in ["db.internal", "5432", "store", "src/", "panicked"] {
        assert!(!reply.body.contains(secret), "{secret} leaked: {problem}");
    }
    assert!(reply.header("x-request-id").is_some());
}

// ---- routes and methods ----

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let reply = send(client().get("/api/v1/nowhere")).await;

    reply.assert_problem(404, "not_found");
}

#[tokio::test]
async fn an_unsupported_method_is_a_405_problem_listing_the_allowed_ones() {
    let client = client();

    let login = send(client.get("/api/v1/auth/login")).await;
    let me = send(client.put("/api/v1/me")).await;
    let live = send(client.post("/health/live")).await;

    login.assert_problem(405, "method_not_allowed");
    assert_eq!(login.header("allow"), Some("POST"));
    me.assert_problem(405, "method_not_allowed");
    assert_eq!(me.header("allow"), Some("GET, PATCH, DELETE, HEAD"));
    assert_eq!(live.header("allow"), Some("GET, HEAD"));
}

// ---- metrics ----

/// The public service and the metrics listener of one world.
fn public_and_metrics_clients() -> (
    TestClient<BoxEndpoint<'static>>,
    TestClient<BoxEndpoint<'static>>,
) {
    let world = World::new();
    let metrics = TestClient::new(metrics_app(world.metrics.clone()));
    (
        client_for(services_of(&world), HttpSettings::default()),
        metrics,
    )
}

#[tokio::test]
async fn metrics_count_requests_by_method_route_template_and_status_class() {
    let (client, metrics) = public_and_metrics_clients();
    send(client.get("/health/live")).await;
    send(client.get("/health/live")).await;
    send(client.get("/docs")).await;
    send(client.get("/no/such/page")).await;
    send(
        client
            .post("/api/v1/auth/login")
            .body_json(&json!({"email": "nobody@example.com", "password": "wrong password"})),
    )
    .await;

    let reply = send(metrics.get("/metrics")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = reply.body;
    for line in [
        r#"allomedia_http_requests_total{method="GET",route="/health/live",status="2xx"} 2"#,
        r#"allomedia_http_requests_total{method="GET",route="/docs",status="2xx"} 1"#,
        r#"allomedia_http_requests_total{method="GET",route="unmatched",status="4xx"} 1"#,
        r#"allomedia_http_requests_total{method="POST",route="/api/v1/auth/login",status="4xx"} 1"#,
        r#"allomedia_login_outcomes_total{outcome="invalid_credentials"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(text.contains("allomedia_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    let (client, metrics) = public_and_metrics_clients();
    // One request of each shape first: a made-up method on a made-up path, and on a route.
    send(client.request(Method::from_bytes(b"BREW0").unwrap(), "/made/up/0")).await;
    send(client.request(Method::from_bytes(b"PROPFIND").unwrap(), "/health/live")).await;
    let before = send(metrics.get("/metrics")).await.body;

    for n in 1..200 {
        let method = Method::from_bytes(format!("BREW{n}").as_bytes()).unwrap();
        send(client.request(method, format!("/made/up/{n}"))).await;
        send(client.request(Method::from_bytes(b"PROPFIND").unwrap(), "/health/live")).await;
    }
    let after = send(metrics.get("/metrics")).await.body;

    assert_eq!(
        before.lines().count(),
        after.lines().count(),
        "the metrics page grew:\n{after}"
    );
    assert!(!after.contains("BREW"));
    assert!(after.contains(r#"method="other""#));
}

#[tokio::test]
async fn the_public_service_does_not_serve_the_metrics() {
    let reply = send(client().get("/metrics")).await;

    reply.assert_problem(404, "not_found");
}

// ---- the OpenAPI document and the docs ----

#[tokio::test]
async fn the_served_openapi_documents_are_the_generated_ones_whatever_the_settings() {
    let settings = HttpSettings {
        server_url: "https://api.example.test".into(),
        ..HttpSettings::default()
    };
    let client = client_for(services_of(&World::new()), settings);

    let json_spec = send(client.get("/openapi.json")).await;
    let yaml_spec = send(client.get("/openapi.yaml")).await;

    assert_eq!(json_spec.status, StatusCode::OK);
    assert_eq!(json_spec.header("content-type"), Some("application/json"));
    assert_eq!(json_spec.body, openapi_json());
    assert_eq!(yaml_spec.status, StatusCode::OK);
    assert_eq!(yaml_spec.header("content-type"), Some("application/yaml"));
    assert_eq!(yaml_spec.body, openapi_yaml());
    assert!(!openapi_yaml().contains("example.test"));
}

#[tokio::test]
async fn the_docs_are_an_html_page() {
    let reply = send(client().get("/docs")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(reply.body.contains("SwaggerUIBundle"));
}

/// Every operation of the document, as (method, path, operation).
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .unwrap()
                .iter()
                .map(move |(method, operation)| (method.clone(), path.clone(), operation.clone()))
        })
        .collect()
}

#[test]
fn every_operation_is_named_tagged_and_declares_its_problems_as_problem_json() {
    let spec: Value = serde_json::from_str(&openapi_json()).unwrap();

    let operations = operations(&spec);

    // 43: `POST /auth/2fa/totp/disown` ("this wasn't me") came in with issue 11, and
    // `/metrics` moved to its own listener, out of the public spec.
    assert_eq!(operations.len(), 43);
    for (method, path, operation) in operations {
        let name = format!("{method} {path}");
        assert!(operation["operationId"].is_string(), "{name}");
        assert!(!operation["tags"].as_array().unwrap().is_empty(), "{name}");
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{name} {status}"
                );
            }
            if status == "429" {
                assert!(response["headers"]["RETRY-AFTER"].is_object(), "{name}");
            }
        }
        if operation["security"].is_array() {
            let unauthorized = &operation["responses"]["401"];
            assert!(
                unauthorized["headers"]["WWW-AUTHENTICATE"].is_object(),
                "{name}"
            );
        }
    }
}

#[test]
fn the_openapi_document_says_request_bodies_refuse_unknown_fields() {
    let spec: Value = serde_json::from_str(&openapi_json()).unwrap();

    for name in [
        "RegisterBody",
        "LoginBody",
        "VerifyCodeBody",
        "UpdateMeBody",
    ] {
        assert_eq!(
            spec["components"]["schemas"][name]["additionalProperties"], false,
            "{name}"
        );
    }
    // Responses may grow fields: only request bodies are closed.
    let user_view = &spec["components"]["schemas"]["User"];
    assert!(user_view.is_object());
    assert!(user_view["additionalProperties"].is_null());
}

#[test]
fn the_openapi_document_is_the_same_every_time() {
    assert_eq!(openapi_yaml(), openapi_yaml());
    assert_eq!(openapi_json(), openapi_json());
}
