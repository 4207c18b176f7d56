//! Adapters layer (HTTP): the `Stats` operation — managers' figures over orders, through
//! `OrderService`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;

use super::dto::StatsBody;
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
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
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// RFC 3339 time, such as `2026-11-01T00:00:00Z`.
        from: Query<Option<DateTime<Utc>>>,
        /// RFC 3339 time, not before `from`.
        to: Query<Option<DateTime<Utc>>>,
    ) -> GetStatsResponse {
        let principal = caller.principal;
        let period = PlacedBetween {
            from: from.0,
            to: to.0,
        };
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services.core.orders.stats(manager, period).await {
            Ok(stats) => GetStatsResponse::Stats(Json(stats.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum GetStatsResponse {
        /// The figures.
        200 Stats(Json<StatsBody>),
        /// `from` or `to` is not an RFC 3339 time (`malformed_request`).
        400 BadRequest(problem),
        401 unauthenticated,
        /// Only managers see statistics (`forbidden`).
        403 Forbidden(problem),
        /// `from` is after `to` (`validation_failed`).
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}
