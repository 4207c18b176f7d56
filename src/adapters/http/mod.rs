//! Adapters layer (HTTP): the public API over poem and poem-openapi. Translates requests into
//! calls of the core's use cases and their outcomes into responses; decides nothing itself.
//! May depend on the core, the metrics registry, poem and poem-openapi.
//!
//! `app` builds the whole service; `openapi_json` / `openapi_yaml` build the same OpenAPI
//! document without any live service, for the committed spec and `allomedia openapi`.
//!
//! One folder per API tag — `auth`, `me`, `users`, `audit`, `products`, `orders`, `stats`,
//! `operations` — each with its handlers and their declared responses (`*api.rs`) and its JSON
//! bodies (`*dto.rs`). Beside them: `account_pages` (the HTML pages mailed links open, outside
//! the OpenAPI document), `problems` (every error answer, the mapping from the core's
//! outcomes, and `responses!`, which declares an operation's statuses once), `extractors` (the
//! bearer scheme, the client's address), `fields` (JSON field types), `middleware`, `state`
//! (what handlers share), `spec` (the document), `tags`, `routes` and `after_response`.

mod account_pages;
mod after_response;
mod audit;
mod auth;
mod extractors;
mod fields;
mod me;
mod middleware;
mod operations;
mod orders;
mod problems;
mod products;
mod routes;
mod spec;
mod state;
mod stats;
mod tags;
mod users;

use std::sync::Arc;

use poem::endpoint::{BoxEndpoint, make_sync};
use poem::http::Method;
use poem::middleware::{AddData, CatchPanic};
use poem::web::Html;
use poem::{EndpointExt, Response, Route, get};
use poem_openapi::OpenApi;

use self::account_pages::{
    ACCOUNT_PAGES_PREFIX, PAGE_STYLE, RESET_PASSWORD_PAGE, VERIFY_EMAIL_PAGE, with_account_pages,
};
use self::middleware::{
    AuthRateLimit, BodyLimit, ProblemFallback, RequestLog, ResolveClient, SecurityHeaders,
    account_page_policy, panic_problem, swagger_ui_policy,
};
use self::problems::ReaderLanguage;
use self::routes::RouteTable;
use self::spec::{Apis, api_service, docs_page};

use crate::adapters::metrics::Metrics;

pub use self::after_response::AfterResponse;
pub use self::extractors::TrustedProxies;
pub use self::spec::{openapi_json, openapi_yaml};
pub use self::state::{HttpServices, HttpSettings};

// Routes outside the OpenAPI document.
const DOCS_PATH: &str = "/docs";
const SPEC_JSON_PATH: &str = "/openapi.json";
const SPEC_YAML_PATH: &str = "/openapi.yaml";
const METRICS_PATH: &str = "/metrics";
const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The whole public HTTP service: `/api/v1/…`, `/health/*`, `/docs`, `/openapi.json`,
/// `/openapi.yaml` and the account pages (`/account/…`), behind the middleware every request passes through. `/metrics` is not
/// part of it: see `metrics_app`.
pub fn app(services: HttpServices, settings: HttpSettings) -> BoxEndpoint<'static> {
    let routes = Arc::new(RouteTable::new(
        <Apis as OpenApi>::meta(),
        &[
            (DOCS_PATH, &[Method::GET]),
            (SPEC_JSON_PATH, &[Method::GET]),
            (SPEC_YAML_PATH, &[Method::GET]),
            (VERIFY_EMAIL_PAGE, &[Method::GET, Method::POST]),
            (RESET_PASSWORD_PAGE, &[Method::GET, Method::POST]),
        ],
    ));
    let metrics = services.metrics.clone();
    let request_limits = services.core.request_limits.clone();
    let (spec_json, spec_yaml) = (openapi_json(), openapi_yaml());
    // The page embeds the document; served as one page, without Swagger UI's OAuth receiver
    // (this API has no OAuth flow).
    let docs_page = with_empty_icon(&docs_page(&settings.server_url));
    let security_headers = SecurityHeaders::for_public_url(&settings.server_url)
        .with_page_policy(
            DOCS_PATH,
            &swagger_ui_policy(&docs_page, &settings.server_url),
        )
        .with_pages_policy(ACCOUNT_PAGES_PREFIX, &account_page_policy(PAGE_STYLE));
    let docs = make_sync(move |_| Html(docs_page.clone()));
    with_account_pages(Route::new())
        .at(
            SPEC_JSON_PATH,
            make_sync(move |_| with_content_type(spec_json.clone(), "application/json")),
        )
        .at(
            SPEC_YAML_PATH,
            make_sync(move |_| with_content_type(spec_yaml.clone(), "application/yaml")),
        )
        .at(DOCS_PATH, docs)
        .nest("/", api_service())
        .with(AddData::new(Arc::new(services)))
        .with(BodyLimit::new(settings.body_limit_bytes))
        .with(AuthRateLimit::per_minute(
            settings.auth_rate_limit_per_minute,
            request_limits,
        ))
        .with(CatchPanic::new().with_handler(panic_problem))
        .with(ProblemFallback::new(Arc::clone(&routes)))
        .with(security_headers)
        .with(RequestLog::new(metrics, routes))
        // Outermost, so that the request log records the client it resolves.
        .with(ResolveClient::new(settings.trusted_proxies))
        // Around everything that may answer with a problem document: its language.
        .with(ReaderLanguage)
        .boxed()
}

/// The metrics listener's service: `GET /metrics` (Prometheus text) and nothing else. Served on
/// its own address (`METRICS_ADDR`) that the operator keeps off the internet: request counts by
/// route and the login outcomes tell an outsider how the service is used and attacked.
pub fn metrics_app(metrics: Metrics) -> BoxEndpoint<'static> {
    Route::new()
        .at(
            METRICS_PATH,
            get(make_sync(move |_| {
                with_content_type(metrics.render(), METRICS_CONTENT_TYPE)
            })),
        )
        .with(SecurityHeaders::default())
        .boxed()
}

/// The page names no icon, so every browser asks for `/favicon.ico`, which this API does not
/// have: a 404 on every visit (found by the browser proof, `make browser`). An empty inline
/// icon stops the request.
fn with_empty_icon(page: &str) -> String {
    page.replacen(
        "<head>",
        "<head>\n    <link rel=\"icon\" href=\"data:,\">",
        1,
    )
}

fn with_content_type(body: String, content_type: &'static str) -> Response {
    Response::builder().content_type(content_type).body(body)
}
