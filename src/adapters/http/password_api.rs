//! Adapters layer (HTTP): the signed-in user's password change, through `AuthService`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::HttpServices;
use super::errors::{problem_variants, rejected_request};
use super::problem::ApiError;
use super::security::BearerAuth;
use super::tags::ApiTags;
use super::text::Text;
use crate::core::auth::ChangePasswordRequest;

pub struct PasswordApi;

/// A new password, proven by the current one.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: Text,
    /// 8 to 128 characters, not a common or easily guessed password.
    pub new_password: Text,
}

impl From<ChangePasswordBody> for ChangePasswordRequest {
    fn from(body: ChangePasswordBody) -> Self {
        ChangePasswordRequest {
            current_password: body.current_password.into(),
            new_password: body.new_password.into(),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl PasswordApi {
    /// Change my password
    ///
    /// Replaces the password once the current one is given, and signs every other device out;
    /// this session stays. Wrong current passwords count towards the account's sign-in
    /// throttle (10 in a row lock it, 429 with `Retry-After`).
    #[oai(
        path = "/password/change",
        method = "post",
        operation_id = "change_password"
    )]
    async fn change_password(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        body: Json<ChangePasswordBody>,
    ) -> ChangePasswordResponse {
        match services
            .auth
            .change_password(principal, body.0.into())
            .await
        {
            Ok(()) => ChangePasswordResponse::Changed,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum ChangePasswordResponse {
    /// The password is changed; the other sessions are ended.
    #[oai(status = 204)]
    Changed,
    /// The body is malformed (`malformed_request`).
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
    /// The current password is wrong (`wrong_password`).
    #[oai(status = 403)]
    WrongPassword(ApiError),
    /// The body is over the size limit (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(ApiError),
    /// The new password is too weak or too short (`validation_failed`).
    #[oai(status = 422)]
    Invalid(ApiError),
    /// Too many wrong passwords for this account lately (`login_throttled`), or too many
    /// requests from this IP address (`rate_limited`).
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
problem_variants!(ChangePasswordResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    403 => WrongPassword,
    413 => PayloadTooLarge,
    422 => Invalid,
    429 => TooManyRequests,
});
