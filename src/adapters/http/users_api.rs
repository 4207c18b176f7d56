//! Adapters layer (HTTP): the `Users` operations — managers administer accounts through
//! `UserAdministration`. Who may do what is the core's decision; this only translates.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::HttpServices;
use super::client::RequestClient;
use super::errors::{problem_variants, rejected_request};
use super::problem::ApiError;
use super::security::BearerAuth;
use super::tags::ApiTags;
use super::users_dto::{ChangeUserBody, UserPageView, UserView};
use crate::core::model::UserId;
use crate::core::people::ListUsersRequest;

pub struct UsersApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Users")]
impl UsersApi {
    /// List users (managers)
    ///
    /// Accounts newest first, one page at a time, optionally filtered by role, status and a
    /// case-insensitive search `q` within names and email addresses.
    #[oai(path = "/users", method = "get", operation_id = "list_users")]
    #[allow(clippy::too_many_arguments)] // one per query parameter of the published operation
    async fn list_users(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// `client`, `courier` or `manager`.
        role: Query<Option<String>>,
        /// `pending_approval`, `active` or `suspended`.
        status: Query<Option<String>>,
        /// Part of a name or an email address, any case (at most 100 characters).
        q: Query<Option<String>>,
        /// Users per page, 1 to 100 (default 20).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListUsersResponse {
        let request = ListUsersRequest {
            role: role.0,
            status: status.0,
            q: q.0,
            limit: limit.0,
            cursor: cursor.0,
        };
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services.people.list(manager, request).await {
            Ok(page) => ListUsersResponse::Page(Json(page.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Read a user (managers)
    #[oai(path = "/users/:id", method = "get", operation_id = "get_user")]
    async fn get_user(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// The user's id.
        id: Path<Uuid>,
    ) -> GetUserResponse {
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services.people.user(manager, UserId::from_uuid(id.0)).await {
            Ok(user) => GetUserResponse::User(Json(user.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Change a user's role or status (managers)
    ///
    /// Approve a courier with `{"status": "active"}`, suspend with `{"status": "suspended"}`
    /// (every session of the user ends at once), promote with `{"role": "manager"}`. A change
    /// that would leave no active manager is refused with `last_active_manager`.
    #[oai(path = "/users/:id", method = "patch", operation_id = "update_user")]
    async fn update_user(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        /// The user's id.
        id: Path<Uuid>,
        body: Json<ChangeUserBody>,
    ) -> UpdateUserResponse {
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services
            .people
            .change_access(manager, UserId::from_uuid(id.0), body.0.into(), &client)
            .await
        {
            Ok(user) => UpdateUserResponse::Updated(Json(user.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Delete a user (managers)
    ///
    /// Deletes the account with its sessions (its tokens stop working at once) and pending
    /// codes and links. The last active manager cannot be deleted.
    #[oai(path = "/users/:id", method = "delete", operation_id = "delete_user")]
    async fn delete_user(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        /// The user's id.
        id: Path<Uuid>,
    ) -> DeleteUserResponse {
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services
            .people
            .delete(manager, UserId::from_uuid(id.0), &client)
            .await
        {
            Ok(()) => DeleteUserResponse::Deleted,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum ListUsersResponse {
    /// One page of users.
    #[oai(status = 200)]
    Page(Json<UserPageView>),
    /// A query parameter has the wrong type, such as a `limit` that is not a number
    /// (`malformed_request`).
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
    /// The caller is not a manager (`forbidden`).
    #[oai(status = 403)]
    Forbidden(ApiError),
    /// An unknown role or status, a search over 100 characters, a `limit` outside 1..100 or a
    /// cursor this service did not return (`validation_failed`).
    #[oai(status = 422)]
    Invalid(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(ListUsersResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    403 => Forbidden,
    422 => Invalid,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum GetUserResponse {
    /// The user.
    #[oai(status = 200)]
    User(Json<UserView>),
    /// The id is not a UUID (`malformed_request`).
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
    /// The caller is not a manager (`forbidden`).
    #[oai(status = 403)]
    Forbidden(ApiError),
    /// No user has this id (`not_found`).
    #[oai(status = 404)]
    NotFound(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(GetUserResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    403 => Forbidden,
    404 => NotFound,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum UpdateUserResponse {
    /// The user as they are now.
    #[oai(status = 200)]
    Updated(Json<UserView>),
    /// The id is not a UUID, or the body is not valid JSON, has a field of the wrong type or
    /// an unknown one (`malformed_request`).
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
    /// The caller is not a manager (`forbidden`).
    #[oai(status = 403)]
    Forbidden(ApiError),
    /// No user has this id (`not_found`).
    #[oai(status = 404)]
    NotFound(ApiError),
    /// The user is the only active manager and would no longer be one
    /// (`last_active_manager`).
    #[oai(status = 409)]
    Conflict(ApiError),
    /// The body is over the size limit (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(ApiError),
    /// Neither `role` nor `status` is given, or one is not a known value
    /// (`validation_failed`).
    #[oai(status = 422)]
    Invalid(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(UpdateUserResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    403 => Forbidden,
    404 => NotFound,
    409 => Conflict,
    413 => PayloadTooLarge,
    422 => Invalid,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum DeleteUserResponse {
    /// The user and everything of theirs is gone.
    #[oai(status = 204)]
    Deleted,
    /// The id is not a UUID (`malformed_request`).
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
    /// The caller is not a manager (`forbidden`).
    #[oai(status = 403)]
    Forbidden(ApiError),
    /// No user has this id (`not_found`).
    #[oai(status = 404)]
    NotFound(ApiError),
    /// The user is the only active manager (`last_active_manager`).
    #[oai(status = 409)]
    Conflict(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(DeleteUserResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    403 => Forbidden,
    404 => NotFound,
    409 => Conflict,
});
