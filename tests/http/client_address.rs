//! Tests: where a request comes from — the connection's peer, or behind `TRUSTED_PROXIES` the
//! client the proxies name — as the per-address limit on `/api/v1/auth/*` and the audit log see
//! it. Requests are handed to the real app with a peer address, as the server would.

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, Method, StatusCode};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Body, Endpoint, Request, RequestParts};
use serde_json::{Value, json};

use allomedia::adapters::http::{HttpSettings, TrustedProxies, app};
use allomedia::core::model::{AuditFilter, AuditKind, PageRequest};
use allomedia::core::ports::AuditLog;
use testkit::World;
use testkit::http::services_of;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
}

/// The real app over a fresh world, `limit` requests a minute, trusting `trusted`.
fn app_with(limit: u32, trusted: &str) -> (World, BoxEndpoint<'static>) {
    let world = World::new();
    let settings = HttpSettings {
        auth_rate_limit_per_minute: limit,
        trusted_proxies: TrustedProxies::parse(trusted).unwrap(),
        ..HttpSettings::default()
    };
    let endpoint = app(services_of(&world), settings);
    (world, endpoint)
}

/// Posts `body` to `path` over a connection from `peer`, with `headers`.
async fn post_from(
    endpoint: &BoxEndpoint<'static>,
    peer: &str,
    headers: &[(&str, &str)],
    path: &str,
    body: Value,
) -> Answer {
    let mut builder = poem::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    let parts = RequestParts::from((
        parts,
        LocalAddr(Addr::SocketAddr("127.0.0.1:8080".parse().unwrap())),
        RemoteAddr(Addr::SocketAddr(peer.parse().unwrap())),
        poem::http::uri::Scheme::HTTP,
    ));
    let request = Request::from_parts(parts, Body::from_json(&body).unwrap());
    let response = match endpoint.call(request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
    }
}

async fn resend(endpoint: &BoxEndpoint<'static>, peer: &str, headers: &[(&str, &str)]) -> Answer {
    post_from(
        endpoint,
        peer,
        headers,
        "/api/v1/auth/verify-email/resend",
        json!({"email": "amina@example.com"}),
    )
    .await
}

#[tokio::test]
async fn auth_operations_are_rate_limited_per_client_address() {
    let (_world, endpoint) = app_with(3, "");
    for _ in 0..3 {
        let admitted = resend(&endpoint, "203.0.113.7:40000", &[]).await;
        assert_eq!(admitted.status, StatusCode::ACCEPTED);
    }

    let limited = resend(&endpoint, "203.0.113.7:40001", &[]).await;
    let other_client = resend(&endpoint, "198.51.100.2:40000", &[]).await;

    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    // The world's clock stands at 09:00:00: the window ends a minute later.
    assert_eq!(limited.headers.get("retry-after").unwrap(), "60");
    assert_eq!(other_client.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn the_limit_opens_again_when_its_window_ends() {
    let (world, endpoint) = app_with(1, "");
    resend(&endpoint, "203.0.113.7:40000", &[]).await;
    world.clock.advance(chrono::Duration::seconds(59));
    let limited = resend(&endpoint, "203.0.113.7:40000", &[]).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers.get("retry-after").unwrap(), "1");

    world.clock.advance(chrono::Duration::seconds(1));
    let next_window = resend(&endpoint, "203.0.113.7:40000", &[]).await;

    assert_eq!(next_window.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    let (_world, endpoint) = app_with(1, "10.0.0.1");
    let first = resend(
        &endpoint,
        "203.0.113.7:40000",
        &[("x-forwarded-for", "198.51.100.1")],
    )
    .await;
    assert_eq!(first.status, StatusCode::ACCEPTED);

    let spoofed_xff = resend(
        &endpoint,
        "203.0.113.7:40000",
        &[("x-forwarded-for", "198.51.100.2")],
    )
    .await;
    let spoofed_forwarded = resend(
        &endpoint,
        "203.0.113.7:40000",
        &[("forwarded", "for=198.51.100.3")],
    )
    .await;

    assert_eq!(spoofed_xff.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(spoofed_forwarded.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let (_world, endpoint) = app_with(1, "10.0.0.0/8");
    let proxy = "10.0.0.1:50000";

    let amina = resend(&endpoint, proxy, &[("x-forwarded-for", "203.0.113.7")]).await;
    let karim = resend(&endpoint, proxy, &[("x-forwarded-for", "203.0.113.8")]).await;
    let yasmine = resend(
        &endpoint,
        proxy,
        &[("forwarded", "for=\"[2001:db8::8]:443\"")],
    )
    .await;
    // A client that writes someone else's address itself is still known by its own.
    let amina_pretending = resend(
        &endpoint,
        proxy,
        &[("x-forwarded-for", "203.0.113.9, 203.0.113.7")],
    )
    .await;

    assert_eq!(amina.status, StatusCode::ACCEPTED);
    assert_eq!(karim.status, StatusCode::ACCEPTED);
    assert_eq!(yasmine.status, StatusCode::ACCEPTED);
    assert_eq!(amina_pretending.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn audit_events_record_the_client_behind_a_trusted_proxy() {
    let (world, endpoint) = app_with(60, "10.0.0.1");

    post_from(
        &endpoint,
        "10.0.0.1:50000",
        &[("x-forwarded-for", "198.51.100.77, 203.0.113.50")],
        "/api/v1/auth/login",
        json!({"email": "nobody@example.com", "password": "wrong-password-1"}),
    )
    .await;
    post_from(
        &endpoint,
        "192.0.2.10:50000",
        &[("x-forwarded-for", "198.51.100.77")],
        "/api/v1/auth/login",
        json!({"email": "nobody@example.com", "password": "wrong-password-2"}),
    )
    .await;

    let events = world
        .store
        .audit_events(
            &AuditFilter {
                kind: Some(AuditKind::LoginFailed),
                ..AuditFilter::default()
            },
            PageRequest::first(10),
        )
        .await
        .unwrap();
    let addresses: Vec<_> = events.iter().map(|e| e.client.ip.as_deref()).collect();
    // Newest first: the direct request is known by its peer, the proxied one by its client.
    assert_eq!(addresses, [Some("192.0.2.10"), Some("203.0.113.50")]);
}
