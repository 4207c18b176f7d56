//! Adapters layer (HTTP): the `Users` operations — managers administer accounts through
//! `UserAdministration`. Who may do what is the core's decision; this only translates.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use uuid::Uuid;

use super::dto::{ChangeUserBody, UserPageView, UserView};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::extractors::RequestClient;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
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
        BearerAuth(caller): BearerAuth,
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
        let principal = caller.principal;
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
        match services.core.people.list(manager, request).await {
            Ok(page) => ListUsersResponse::Page(Json(page.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Read a user (managers)
    #[oai(path = "/users/:id", method = "get", operation_id = "get_user")]
    async fn get_user(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// The user's id.
        id: Path<Uuid>,
    ) -> GetUserResponse {
        let principal = caller.principal;
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services
            .core
            .people
            .user(manager, UserId::from_uuid(id.0))
            .await
        {
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
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        /// The user's id.
        id: Path<Uuid>,
        body: Json<ChangeUserBody>,
    ) -> UpdateUserResponse {
        let principal = caller.principal;
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services
            .core
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
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        /// The user's id.
        id: Path<Uuid>,
    ) -> DeleteUserResponse {
        let principal = caller.principal;
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services
            .core
            .people
            .delete(manager, UserId::from_uuid(id.0), &client)
            .await
        {
            Ok(()) => DeleteUserResponse::Deleted,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum ListUsersResponse {
        /// One page of users.
        200 Page(Json<UserPageView>),
        400 malformed_query,
        401 unauthenticated,
        403 not_a_manager,
        /// An unknown role or status, a search over 100 characters, a `limit` outside 1..100 or a
        /// cursor this service did not return (`validation_failed`).
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum GetUserResponse {
        /// The user.
        200 User(Json<UserView>),
        400 malformed_id,
        401 unauthenticated,
        403 not_a_manager,
        /// No user has this id (`not_found`).
        404 NotFound(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum UpdateUserResponse {
        /// The user as they are now.
        200 Updated(Json<UserView>),
        400 malformed_id_or_json,
        401 unauthenticated,
        403 not_a_manager,
        /// No user has this id (`not_found`).
        404 NotFound(problem),
        /// The user is the only active manager and would no longer be one
        /// (`last_active_manager`).
        409 Conflict(problem),
        413 payload_too_large,
        /// Neither `role` nor `status` is given, or one is not a known value
        /// (`validation_failed`).
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum DeleteUserResponse {
        /// The user and everything of theirs is gone.
        204 Deleted,
        400 malformed_id,
        401 unauthenticated,
        403 not_a_manager,
        /// No user has this id (`not_found`).
        404 NotFound(problem),
        /// The user is the only active manager (`last_active_manager`).
        409 Conflict(problem),
        500 internal_error,
        503 store_timeout,
    }
}
