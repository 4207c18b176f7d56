//! Adapters layer (HTTP): the state the HTTP adapter shares with every handler — the core's
//! services it calls, and how it behaves in this deployment. May depend on the core and the
//! metrics registry.

use std::sync::Arc;

use super::AfterResponse;
use super::extractors::TrustedProxies;
use crate::adapters::metrics::Metrics;
use crate::core::ports::{Clock, StoreHealth};
use crate::core::services::CoreServices;

/// What the HTTP adapter calls. Handlers reach it through request data, so the API
/// definitions themselves hold nothing and the spec can be built without it.
pub struct HttpServices {
    /// The core's use cases.
    pub core: CoreServices,
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
    /// Requests per client address per minute on `/api/v1/auth/*`, counted in the store, so
    /// for all instances together (at least 1).
    pub auth_rate_limit_per_minute: u32,
    /// The proxies whose `X-Forwarded-For` / `Forwarded` name the client (`TRUSTED_PROXIES`).
    /// Empty: the client is the connection's peer, whatever the headers say.
    pub trusted_proxies: TrustedProxies,
    /// Where clients reach this instance; the interactive docs at `/docs` send their
    /// requests there. The OpenAPI document itself does not depend on it.
    pub server_url: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            body_limit_bytes: 64 * 1024,
            auth_rate_limit_per_minute: 60,
            trusted_proxies: TrustedProxies::default(),
            server_url: "http://127.0.0.1:8080".into(),
        }
    }
}
