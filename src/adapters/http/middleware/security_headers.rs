//! Adapters layer (HTTP): headers that make browsers and caches handle responses safely.

use poem::http::HeaderValue;
use poem::http::header::{CACHE_CONTROL, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

pub struct SecurityHeaders;

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint { inner }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
}

/// Responses that carry tokens or personal data: no cache, shared or private, may keep them.
fn is_private(path: &str) -> bool {
    path.starts_with("/api/v1/auth/") || path == "/api/v1/me" || path.starts_with("/api/v1/me/")
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let private = is_private(request.uri().path());
        let mut response = self.inner.call(request).await?.into_response();
        let headers = response.headers_mut();
        // Browsers must not guess a content type other than the one declared.
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // The verification link carries a token in its query: never leak URLs to other sites.
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        if private {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(response)
    }
}
