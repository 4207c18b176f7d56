//! Adapters layer (HTTP): the signed-in user's sessions — list the live ones, end one —
//! through `Sessions`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use super::sessions_dto::SessionPageBody;
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::extractors::RequestClient;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
use crate::core::model::{PageRequest, SessionId};

pub struct SessionsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl SessionsApi {
    /// List my sessions
    ///
    /// The signed-in user's live sessions — one per signed-in device — newest first, with
    /// when and from where each was opened; `current` marks the one making this request.
    #[oai(
        path = "/me/sessions",
        method = "get",
        operation_id = "list_my_sessions"
    )]
    async fn list_my_sessions(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// Items per page, 1 to 100 (default 20).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListMySessionsResponse {
        let principal = caller.principal;
        let page = match PageRequest::parse(limit.0, cursor.0.as_deref()) {
            Ok(page) => page,
            Err(errors) => return ApiError::ValidationFailed(errors).into(),
        };
        match services.core.sessions.list_sessions(principal, page).await {
            Ok(page) => ListMySessionsResponse::Sessions(Json(page.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// End one of my sessions
    ///
    /// Signs that device out: the session's access and refresh tokens stop working at once.
    /// Ending the current session is the same as signing out.
    #[oai(
        path = "/me/sessions/:id",
        method = "delete",
        operation_id = "end_my_session"
    )]
    async fn end_my_session(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        /// The session's `id`.
        id: Path<String>,
    ) -> EndMySessionResponse {
        let principal = caller.principal;
        // An id that is not even a UUID names no session of the caller's.
        let Ok(session_id) = id.0.trim().parse::<SessionId>() else {
            return ApiError::NotFound.into();
        };
        match services
            .core
            .sessions
            .end_session(principal, session_id, &client)
            .await
        {
            Ok(()) => EndMySessionResponse::Ended,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum ListMySessionsResponse {
        /// A page of live sessions.
        200 Sessions(Json<SessionPageBody>),
        /// A query parameter could not be read (`malformed_request`).
        400 BadRequest(problem),
        401 unauthenticated,
        /// `limit` is out of range or `cursor` is not one this service returned
        /// (`validation_failed`).
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum EndMySessionResponse {
        /// The session is ended.
        204 Ended,
        401 unauthenticated,
        /// No live session of the signed-in user has this id (`not_found`).
        404 NotFound(problem),
        500 internal_error,
        503 store_timeout,
    }
}
