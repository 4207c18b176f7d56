//! Adapters layer (HTTP): the public API over poem and poem-openapi. Translates requests into
//! calls of the core's use cases and their outcomes into responses; decides nothing itself.
//! May depend on the core, the metrics registry, poem and poem-openapi.
//!
//! `app` builds the whole service; `openapi_json` / `openapi_yaml` build the same OpenAPI
//! document without any live service, for the committed spec and `allomedia openapi`.

mod after_response;
mod audit_api;
mod audit_dto;
mod auth_api;
mod auth_dto;
mod client;
mod devices_api;
mod devices_dto;
mod errors;
mod me_api;
mod me_dto;
mod middleware;
mod nullable;
mod operations_api;
mod optional;
mod orders_api;
mod orders_dto;
mod password_api;
mod problem;
mod products_api;
mod products_dto;
mod rate_limiter;
mod routes;
mod second_factor_api;
mod second_factor_dto;
mod security;
mod sessions_api;
mod sessions_dto;
mod spec;
mod stats_api;
mod stats_dto;
mod tags;
mod text;
mod users_api;
mod users_dto;

use std::sync::Arc;

use poem::endpoint::{BoxEndpoint, make_sync};
use poem::middleware::{AddData, CatchPanic};
use poem::web::Html;
use poem::{EndpointExt, Response, Route};
use poem_openapi::OpenApi;

use self::middleware::{
    AuthRateLimit, BodyLimit, ProblemFallback, RequestLog, ResolveClient, SecurityHeaders,
    panic_problem,
};
use self::routes::RouteTable;
use self::spec::{Apis, api_service, docs_page};
use crate::adapters::metrics::Metrics;
use crate::core::audit::AuditTrail;
use crate::core::auth::{
    PasswordChange, PasswordRecovery, Registration, RememberedDevices, SecondFactorSettings,
    Sessions, SignIn,
};
use crate::core::catalogue::CatalogueService;
use crate::core::orders::OrderService;
use crate::core::people::UserAdministration;
use crate::core::ports::{Clock, StoreHealth};
use crate::core::profile::ProfileService;

pub use self::after_response::AfterResponse;
pub use self::spec::{openapi_json, openapi_yaml};

/// What the HTTP adapter calls. Handlers reach it through request data, so the API
/// definitions themselves hold nothing and the spec can be built without it.
pub struct HttpServices {
    pub registration: Registration,
    pub sign_in: SignIn,
    pub sessions: Sessions,
    pub password_recovery: PasswordRecovery,
    pub password_change: PasswordChange,
    pub second_factor: SecondFactorSettings,
    pub devices: RememberedDevices,
    /// The security-event log managers list.
    pub audit: AuditTrail,
    pub profile: ProfileService,
    /// Managers' administration of accounts, and `DELETE /me`.
    pub people: UserAdministration,
    pub catalogue: CatalogueService,
    pub orders: OrderService,
    pub health: Arc<dyn StoreHealth>,
    pub metrics: Metrics,
    /// The clock the core dates tokens with, so that `expires_in` agrees with the token.
    pub clock: Arc<dyn Clock>,
    /// Work some operations do after answering (see `after_response`).
    pub after_response: AfterResponse,
}

/// How the HTTP adapter behaves in this deployment.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Larger request bodies are refused with 413, however they are framed.
    pub body_limit_bytes: usize,
    /// Requests per client address per minute on `/api/v1/auth/*`, per instance (at least 1).
    pub auth_rate_limit_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry. Only behind a proxy
    /// that appends it; otherwise any client could pick its own address.
    pub trust_forwarded_for: bool,
    /// Where clients reach this instance; the interactive docs at `/docs` send their
    /// requests there. The OpenAPI document itself does not depend on it.
    pub server_url: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            body_limit_bytes: 64 * 1024,
            auth_rate_limit_per_minute: 60,
            trust_forwarded_for: false,
            server_url: "http://127.0.0.1:8080".into(),
        }
    }
}

// Routes outside the OpenAPI document.
const DOCS_PATH: &str = "/docs";
const SPEC_JSON_PATH: &str = "/openapi.json";
const SPEC_YAML_PATH: &str = "/openapi.yaml";

/// The whole HTTP service: `/api/v1/…`, `/health/*`, `/metrics`, `/docs`, `/openapi.json`
/// and `/openapi.yaml`, behind the middleware every request passes through.
pub fn app(services: HttpServices, settings: HttpSettings) -> BoxEndpoint<'static> {
    let routes = Arc::new(RouteTable::new(
        <Apis as OpenApi>::meta(),
        &[DOCS_PATH, SPEC_JSON_PATH, SPEC_YAML_PATH],
    ));
    let metrics = services.metrics.clone();
    let (spec_json, spec_yaml) = (openapi_json(), openapi_yaml());
    // The page embeds the document; served as one page, without Swagger UI's OAuth receiver
    // (this API has no OAuth flow).
    let docs_page = with_empty_icon(&docs_page(&settings.server_url));
    let docs = make_sync(move |_| Html(docs_page.clone()));
    Route::new()
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
        ))
        .with(ResolveClient::new(settings.trust_forwarded_for))
        .with(CatchPanic::new().with_handler(panic_problem))
        .with(ProblemFallback::new(Arc::clone(&routes)))
        .with(SecurityHeaders)
        .with(RequestLog::new(metrics, routes))
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
