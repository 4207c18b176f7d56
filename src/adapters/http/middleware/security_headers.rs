//! Adapters layer (HTTP): headers that make browsers and caches handle every answer safely —
//! a Content-Security-Policy, frame protection, no content sniffing, no referrer, HSTS on an
//! https deployment, and `Cache-Control: no-store` on everything that is not public.

use poem::http::HeaderValue;
use poem::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

/// The policy of every answer but the docs page: JSON and problem documents load nothing, run
/// nothing and are framed by no one, so a response rendered by a browser by mistake (or
/// through an injection) cannot run a script or post a form.
pub const API_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// HSTS for a year, subdomains included. Sent only when `PUBLIC_URL` is https: on an http
/// deployment (a local run) the browser ignores it anyway, and it must not pin a name that
/// serves plain http.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Paths whose answers are public and the same for everyone: the docs, the OpenAPI document,
/// the probes and the catalogue. Every other answer carries an account, an order (a delivery
/// address, a delivery code), a user list or the audit log, so no cache, shared or private,
/// may keep it. An allow-list, so that a new route is private until someone decides otherwise.
const PUBLIC_PATHS: [&str; 5] = [
    "/docs",
    "/openapi.json",
    "/openapi.yaml",
    "/health/live",
    "/health/ready",
];
const PUBLIC_PREFIXES: [&str; 1] = ["/api/v1/products"];

fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path)
        || PUBLIC_PREFIXES.iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// The security headers of one deployment.
#[derive(Clone, Debug, Default)]
pub struct SecurityHeaders {
    /// Send HSTS (the service is reached over https).
    hsts: bool,
    /// Pages that need their own policy (the Swagger UI page, the account pages), each
    /// with that policy.
    page_policies: Vec<(PagePaths, HeaderValue)>,
}

/// The paths a page policy covers.
#[derive(Clone, Debug)]
enum PagePaths {
    Exactly(String),
    Under(String),
}

impl PagePaths {
    fn covers(&self, path: &str) -> bool {
        match self {
            PagePaths::Exactly(page) => page == path,
            PagePaths::Under(prefix) => path.starts_with(prefix.as_str()),
        }
    }
}

impl SecurityHeaders {
    /// Headers for a deployment reached at `public_url`: HSTS when it is https.
    pub fn for_public_url(public_url: &str) -> Self {
        SecurityHeaders {
            hsts: public_url.starts_with("https://"),
            page_policies: Vec::new(),
        }
    }

    /// Serves `path` under `policy` instead of the API's (an HTML page that runs scripts).
    pub fn with_page_policy(self, path: &str, policy: &str) -> Self {
        self.with_policy(PagePaths::Exactly(path.to_owned()), policy)
    }

    /// Serves every path under `prefix` under `policy` (the account pages).
    pub fn with_pages_policy(self, prefix: &str, policy: &str) -> Self {
        self.with_policy(PagePaths::Under(prefix.to_owned()), policy)
    }

    fn with_policy(mut self, paths: PagePaths, policy: &str) -> Self {
        // A policy is built from hashes and a URL origin; one that is not a header value is
        // a bug, and the page then keeps the stricter API policy.
        if let Ok(policy) = HeaderValue::from_str(policy) {
            self.page_policies.push((paths, policy));
        }
        self
    }
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner,
            settings: self.clone(),
        }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    settings: SecurityHeaders,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let path = request.uri().path().to_owned();
        let mut response = self.inner.call(request).await?.into_response();
        let headers = response.headers_mut();
        let policy = self
            .settings
            .page_policies
            .iter()
            .find(|(paths, _)| paths.covers(&path))
            .map_or_else(
                || HeaderValue::from_static(API_CONTENT_SECURITY_POLICY),
                |(_, policy)| policy.clone(),
            );
        headers.insert(CONTENT_SECURITY_POLICY, policy);
        // frame-ancestors says it to current browsers; X-Frame-Options to older ones.
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // Browsers must not guess a content type other than the one declared.
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // Mailed links (the account pages) carry a token in their query: never leak URLs to
        // other sites.
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        if self.settings.hsts {
            headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        }
        if !is_public(&path) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_docs_the_probes_and_the_catalogue_are_public() {
        for public in [
            "/docs",
            "/openapi.json",
            "/health/ready",
            "/api/v1/products",
            "/api/v1/products/0190a1b2-0000-7000-8000-000000000000",
        ] {
            assert!(is_public(public), "{public}");
        }
        for private in [
            "/api/v1/orders",
            "/api/v1/users/x",
            "/api/v1/audit-events",
            "/api/v1/stats",
            "/api/v1/me",
            "/api/v1/productsX",
            "/metrics",
            "/docs/x",
        ] {
            assert!(!is_public(private), "{private}");
        }
    }
}
