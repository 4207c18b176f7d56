//! Adapters layer (HTTP): one span and one event per request — request id, client address,
//! method, route template, status, latency — and the `http_requests` / `http_duration` metrics.
//!
//! The raw path and query are never logged: the verification link carries its token in the
//! query string.

use std::sync::Arc;
use std::time::Instant;

use poem::PathPattern;
use poem::http::{HeaderMap, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use tracing::Instrument;
use tracing::field::Empty;
use uuid::Uuid;

use crate::adapters::http::extractors::ClientAddress;
use crate::adapters::http::routes::{RouteTable, UNMATCHED_ROUTE};
use crate::adapters::metrics::{Metrics, RouteLabels};

const REQUEST_ID: &str = "x-request-id";

/// Incoming request ids longer than this, or with other characters than `[A-Za-z0-9._-]`,
/// are replaced: they end up in logs.
const MAX_REQUEST_ID_LEN: usize = 64;

pub struct RequestLog {
    metrics: Metrics,
    routes: Arc<RouteTable>,
}

impl RequestLog {
    pub fn new(metrics: Metrics, routes: Arc<RouteTable>) -> Self {
        RequestLog { metrics, routes }
    }
}

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestLogEndpoint {
            inner,
            metrics: self.metrics.clone(),
            routes: Arc::clone(&self.routes),
        }
    }
}

pub struct RequestLogEndpoint<E> {
    inner: E,
    metrics: Metrics,
    routes: Arc<RouteTable>,
}

/// The caller's request id if it is sane, so that logs across services line up; else a new one.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(REQUEST_ID)
        .filter(|value| {
            let bytes = value.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_REQUEST_ID_LEN
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&Uuid::now_v7().to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
        })
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let id = request_id(request.headers());
        let method = request.method().to_string();
        // The address `ResolveClient` resolved (behind trusted proxies, the real client's).
        let client = request
            .data::<ClientAddress>()
            .and_then(|address| address.0)
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let span = tracing::info_span!(
            "request",
            request_id = id.to_str().unwrap_or_default(),
            client = %client,
            method = %method,
            route = Empty,
            status = Empty,
        );
        let mut response = match self.inner.call(request).instrument(span.clone()).await {
            Ok(response) => response.into_response(),
            Err(error) => error.into_response(),
        };
        let route = response
            .data::<PathPattern>()
            .and_then(|pattern| self.routes.template(&pattern.0))
            .unwrap_or(UNMATCHED_ROUTE)
            .to_owned();
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        span.record("route", route.as_str());
        span.record("status", status);
        span.in_scope(|| {
            tracing::info!(latency_us = elapsed.as_micros() as u64, "request completed");
        });
        let labels = RouteLabels::new(&method, route, status);
        self.metrics.http_requests.get_or_create(&labels).inc();
        self.metrics
            .http_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        response.headers_mut().insert(REQUEST_ID, id);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_request_id(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_sane_incoming_request_id_is_kept() {
        assert_eq!(request_id(&with_request_id("abc-123_x.y")), "abc-123_x.y");
    }

    #[test]
    fn an_odd_incoming_request_id_is_replaced() {
        for odd in ["", "a b", "x\"y", &"a".repeat(65)] {
            let id = request_id(&with_request_id(odd));
            assert_ne!(id, odd);
            assert!(Uuid::parse_str(id.to_str().unwrap()).is_ok(), "{odd:?}");
        }
    }
}
