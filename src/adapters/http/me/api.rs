//! Adapters layer (HTTP): the `Me` operations — the signed-in user reads and edits their own
//! account through `ProfileService`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::dto::{UpdateMeBody, UserView};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::extractors::RequestClient;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::{problem_variants, rejected_request};
use crate::adapters::http::tags::ApiTags;
use crate::adapters::http::users::dto::DeleteMeBody;

pub struct MeApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl MeApi {
    /// Read my account
    ///
    /// The signed-in user's own account. Never includes secrets such as the password hash.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn get_me(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
    ) -> GetMeResponse {
        match services.profile.me(principal.user_id).await {
            Ok(user) => GetMeResponse::Account(Json(user.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Edit my details
    ///
    /// Changes the name, phone or delivery address; absent fields are left as they are and
    /// `null` removes a phone or address. Role, status and email cannot be changed here.
    #[oai(path = "/me", method = "patch", operation_id = "update_me")]
    async fn update_me(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        body: Json<UpdateMeBody>,
    ) -> UpdateMeResponse {
        match services
            .profile
            .update(principal.user_id, body.0.into())
            .await
        {
            Ok(user) => UpdateMeResponse::Updated(Json(user.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Delete my account
    ///
    /// Deletes the signed-in user's account for good, with every session, once the password
    /// is typed again. A wrong password answers 422 naming `password` (the token stays
    /// valid). The last active manager cannot delete their own account.
    #[oai(path = "/me", method = "delete", operation_id = "delete_me")]
    async fn delete_me(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<DeleteMeBody>,
    ) -> DeleteMeResponse {
        match services
            .people
            .delete_own_account(principal, &body.0.password.0, &client)
            .await
        {
            Ok(()) => DeleteMeResponse::Deleted,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum GetMeResponse {
    /// The account.
    #[oai(status = 200)]
    Account(Json<UserView>),
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
    /// The account no longer exists (`not_found`).
    #[oai(status = 404)]
    NotFound(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(GetMeResponse {
    401 => Unauthenticated,
    404 => NotFound,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum UpdateMeResponse {
    /// The account as it is now.
    #[oai(status = 200)]
    Updated(Json<UserView>),
    /// The body is not valid JSON, has a field of the wrong type or an unknown one
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
    /// The account no longer exists (`not_found`).
    #[oai(status = 404)]
    NotFound(ApiError),
    /// The body is over the size limit (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(ApiError),
    /// Some fields are invalid (`validation_failed`); `errors` lists them all.
    #[oai(status = 422)]
    Invalid(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(UpdateMeResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    404 => NotFound,
    413 => PayloadTooLarge,
    422 => Invalid,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum DeleteMeResponse {
    /// The account and everything of it is gone; its tokens no longer work.
    #[oai(status = 204)]
    Deleted,
    /// The body is not valid JSON, lacks `password`, has a field of the wrong type or an
    /// unknown one (`malformed_request`).
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
    /// The account no longer exists (`not_found`).
    #[oai(status = 404)]
    NotFound(ApiError),
    /// The caller is the only active manager (`last_active_manager`).
    #[oai(status = 409)]
    Conflict(ApiError),
    /// The body is over the size limit (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(ApiError),
    /// The password is wrong (`validation_failed`, naming `password`).
    #[oai(status = 422)]
    Invalid(ApiError),
    /// Too many wrong passwords for this account lately (`login_throttled`); nothing was
    /// judged.
    #[oai(
        status = 429,
        header(
            name = "Retry-After",
            ty = "u64",
            description = "Seconds to wait before trying again."
        )
    )]
    TooManyRequests(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(DeleteMeResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    404 => NotFound,
    409 => Conflict,
    413 => PayloadTooLarge,
    422 => Invalid,
    429 => TooManyRequests,
});
