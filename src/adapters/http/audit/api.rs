//! Adapters layer (HTTP): the `Audit` operation — managers read the security-event log
//! through the core's `AuditTrail`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;

use super::dto::AuditEventPageBody;
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
use crate::core::audit::ListAuditEventsRequest;

pub struct AuditApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Audit")]
impl AuditApi {
    /// List security events (managers)
    ///
    /// Registrations, sign-ins and their failures, second factors, throttling, recovery
    /// codes, password resets and changes, ended sessions, authenticator apps turned on or
    /// off, role and status changes and deletions — newest first, each with its time, user,
    /// IP address and user agent. Filter by `user_id` and `kind`. Events outlive the
    /// accounts they name.
    #[oai(
        path = "/audit-events",
        method = "get",
        operation_id = "list_audit_events"
    )]
    async fn list_audit_events(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// Only the events about this user (a user id).
        user_id: Query<Option<String>>,
        /// Only the events of this kind, such as `login_failed` (see `AuditEventKind`).
        kind: Query<Option<String>>,
        /// Events per page, 1 to 100 (default 20).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListAuditEventsResponse {
        let principal = caller.principal;
        let request = ListAuditEventsRequest {
            user_id: user_id.0,
            kind: kind.0,
            limit: limit.0,
            cursor: cursor.0,
        };
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services.core.audit.list(manager, request).await {
            Ok(page) => ListAuditEventsResponse::Page(Json(page.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum ListAuditEventsResponse {
        /// One page of events.
        200 Page(Json<AuditEventPageBody>),
        400 malformed_query,
        401 unauthenticated,
        403 not_a_manager,
        /// A `user_id` that is not a UUID, an unknown `kind`, a `limit` outside 1..100 or a
        /// cursor this service did not return (`validation_failed`).
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}
