//! Adapters layer (HTTP): the `Me` operations — the signed-in user reads and edits their own
//! account through `ProfileService`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::payload::Json;

use super::dto::{DeleteMeBody, UpdateMeBody, UserView};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::extractors::RequestClient;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;

pub struct MeApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl MeApi {
    /// Read my account
    ///
    /// The signed-in user's own account. Never includes secrets such as the password hash.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn get_me(&self, BearerAuth(caller): BearerAuth) -> GetMeResponse {
        // The account as read to check the token, in this request: reading it again would
        // show nothing newer.
        GetMeResponse::Account(Json(caller.account.into()))
    }

    /// Edit my details
    ///
    /// Changes the name, phone or delivery address; absent fields are left as they are and
    /// `null` removes a phone or address. Role, status and email cannot be changed here.
    #[oai(path = "/me", method = "patch", operation_id = "update_me")]
    async fn update_me(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        body: Json<UpdateMeBody>,
    ) -> UpdateMeResponse {
        let principal = caller.principal;
        match services
            .core
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
    /// is typed again. A wrong password answers 403 `wrong_password` (the token stays
    /// valid). The last active manager cannot delete their own account.
    #[oai(path = "/me", method = "delete", operation_id = "delete_me")]
    async fn delete_me(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<DeleteMeBody>,
    ) -> DeleteMeResponse {
        let principal = caller.principal;
        match services
            .core
            .people
            .delete_own_account(principal, &body.0.password.0, &client)
            .await
        {
            Ok(()) => DeleteMeResponse::Deleted,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum GetMeResponse {
        /// The account.
        200 Account(Json<UserView>),
        401 unauthenticated,
        404 account_gone,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum UpdateMeResponse {
        /// The account as it is now.
        200 Updated(Json<UserView>),
        400 malformed_json,
        401 unauthenticated,
        404 account_gone,
        413 payload_too_large,
        422 invalid_fields,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum DeleteMeResponse {
        /// The account and everything of it is gone; its tokens no longer work.
        204 Deleted,
        /// The body is not valid JSON, lacks `password`, has a field of the wrong type or an
        /// unknown one (`malformed_request`).
        400 BadRequest(problem),
        401 unauthenticated,
        /// The password is wrong (`wrong_password`); the token stays valid.
        403 WrongPassword(problem),
        404 account_gone,
        /// The caller is the only active manager (`last_active_manager`).
        409 Conflict(problem),
        413 payload_too_large,
        /// Too many wrong passwords for this account lately (`login_throttled`); nothing was
        /// judged.
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}
