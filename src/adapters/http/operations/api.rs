//! Adapters layer (HTTP): the `Operations` endpoints — liveness and readiness probes. For
//! operators and orchestrators, not end users. The Prometheus metrics are not here: they are
//! served on their own listener (`metrics_app`, `METRICS_ADDR`), never on the public one.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::adapters::http::HttpServices;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::tags::ApiTags;

pub struct OperationsApi;

#[OpenApi(tag = "ApiTags::Operations")]
impl OperationsApi {
    /// Liveness probe
    ///
    /// 200 while the process serves requests; it checks nothing else, so that an orchestrator
    /// does not restart the service because the store is down.
    #[oai(path = "/health/live", method = "get", operation_id = "health_live")]
    async fn live(&self) -> LiveResponse {
        LiveResponse::Live(Json(HealthBody {
            status: "live".into(),
        }))
    }

    /// Readiness probe
    ///
    /// 200 when the store answers, 503 while it cannot be reached: take the instance out of
    /// the load balancer until it is back.
    #[oai(path = "/health/ready", method = "get", operation_id = "health_ready")]
    async fn ready(&self, Data(services): Data<&Arc<HttpServices>>) -> ReadyResponse {
        match services.health.ping().await {
            Ok(()) => ReadyResponse::Ready(Json(HealthBody {
                status: "ready".into(),
            })),
            Err(error) => {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::from(error)), "store unreachable");
                ReadyResponse::Unavailable(ApiError::StoreUnavailable)
            }
        }
    }
}

/// The state of the instance.
#[derive(Object, Debug, Clone, PartialEq, Eq)]
pub struct HealthBody {
    /// `live` or `ready`.
    pub status: String,
}

#[derive(ApiResponse)]
pub enum LiveResponse {
    /// The process is up.
    #[oai(status = 200)]
    Live(Json<HealthBody>),
}

#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The instance can serve requests.
    #[oai(status = 200)]
    Ready(Json<HealthBody>),
    /// The store cannot be reached (`store_unavailable`).
    #[oai(status = 503)]
    Unavailable(ApiError),
}
