//! Adapters layer (HTTP): the `Stats` operation — managers' figures over orders, through
//! `OrderService`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::HttpServices;
use super::errors::{problem_variants, rejected_request};
use super::problem::ApiError;
use super::security::BearerAuth;
use super::stats_dto::StatsBody;
use super::tags::ApiTags;
use crate::core::model::PlacedBetween;

pub struct StatsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Stats")]
impl StatsApi {
    /// Order statistics
    ///
    /// Managers only. Over the orders placed from `from` (inclusive) until `to` (exclusive),
    /// both optional: orders per status, revenue of delivered orders, deliveries per courier.
    #[oai(path = "/stats", method = "get", operation_id = "get_stats")]
    async fn get_stats(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// RFC 3339 time, such as `2026-11-01T00:00:00Z`.
        from: Query<Option<DateTime<Utc>>>,
        /// RFC 3339 time, not before `from`.
        to: Query<Option<DateTime<Utc>>>,
    ) -> GetStatsResponse {
        let period = PlacedBetween {
            from: from.0,
            to: to.0,
        };
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services.orders.stats(manager, period).await {
            Ok(stats) => GetStatsResponse::Stats(Json(stats.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum GetStatsResponse {
    /// The figures.
    #[oai(status = 200)]
    Stats(Json<StatsBody>),
    /// `from` or `to` is not an RFC 3339 time (`malformed_request`).
    #[oai(status = 400)]
    BadRequest(ApiError),
    /// The bearer token is missing, invalid, expired or of an ended session
    /// (`unauthenticated`).
    #[oai(
        status = 401,
        header(
            name = "WWW-Authenticate",
            ty = "String",
            description = "`Bearer`: the authentication scheme to use."
        )
    )]
    Unauthenticated(ApiError),
    /// Only managers see statistics (`forbidden`).
    #[oai(status = 403)]
    Forbidden(ApiError),
    /// `from` is after `to` (`validation_failed`).
    #[oai(status = 422)]
    Invalid(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(GetStatsResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    403 => Forbidden,
    422 => Invalid,
});
