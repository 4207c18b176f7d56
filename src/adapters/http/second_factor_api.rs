//! Adapters layer (HTTP): the signed-in user's second factors — authenticator app (TOTP) and
//! recovery codes — through `SecondFactorSettings`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::HttpServices;
use super::client::RequestClient;
use super::errors::{problem_variants, rejected_request};
use super::problem::ApiError;
use super::second_factor_dto::{
    DisableTotpBody, PasswordBody, RecoveryCodesView, TotpCodeBody, TotpSetupView,
};
use super::security::BearerAuth;
use super::tags::ApiTags;

pub struct SecondFactorApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl SecondFactorApi {
    /// Set up an authenticator app
    ///
    /// Draws a new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s) and returns it with its
    /// `otpauth://` URI and QR code. It stays pending until confirmed; a new setup replaces a
    /// pending one. The secret is shown only here. 409 `totp_already_enabled` while TOTP is on.
    #[oai(
        path = "/me/2fa/totp/setup",
        method = "post",
        operation_id = "set_up_totp"
    )]
    async fn set_up_totp(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
    ) -> SetUpTotpResponse {
        match services.second_factor.set_up_totp(principal.user_id).await {
            Ok(provisioning) => SetUpTotpResponse::Pending(Json(provisioning.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Turn the authenticator app on
    ///
    /// Confirms the pending setup with a code from the app, turns TOTP on and returns 10
    /// single-use recovery codes, shown only here. A wrong code is a 422 on `code`.
    #[oai(
        path = "/me/2fa/totp/confirm",
        method = "post",
        operation_id = "confirm_totp"
    )]
    async fn confirm_totp(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<TotpCodeBody>,
    ) -> ConfirmTotpResponse {
        let code = String::from(body.0.code);
        match services
            .second_factor
            .confirm_totp(principal.user_id, &code, &client)
            .await
        {
            Ok(recovery_codes) => {
                ConfirmTotpResponse::Enabled(Json(RecoveryCodesView { recovery_codes }))
            }
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Turn the authenticator app off
    ///
    /// Needs the password and a current code; the recovery codes die with it. A wrong
    /// password or code is a 422 naming the field.
    #[oai(
        path = "/me/2fa/totp",
        method = "delete",
        operation_id = "disable_totp"
    )]
    async fn disable_totp(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<DisableTotpBody>,
    ) -> DisableTotpResponse {
        let DisableTotpBody { password, code } = body.0;
        let (password, code) = (String::from(password), String::from(code));
        match services
            .second_factor
            .disable_totp(principal.user_id, &password, &code, &client)
            .await
        {
            Ok(()) => DisableTotpResponse::Disabled,
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Replace my recovery codes
    ///
    /// Needs the password. Returns 10 new single-use codes, shown only here; every earlier
    /// code stops working. 409 `totp_not_enabled` without an authenticator app.
    #[oai(
        path = "/me/2fa/recovery-codes",
        method = "post",
        operation_id = "regenerate_recovery_codes"
    )]
    async fn regenerate_recovery_codes(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<PasswordBody>,
    ) -> RegenerateRecoveryCodesResponse {
        let password = String::from(body.0.password);
        match services
            .second_factor
            .regenerate_recovery_codes(principal.user_id, &password, &client)
            .await
        {
            Ok(recovery_codes) => {
                RegenerateRecoveryCodesResponse::Replaced(Json(RecoveryCodesView {
                    recovery_codes,
                }))
            }
            Err(error) => ApiError::from(error).into(),
        }
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum SetUpTotpResponse {
    /// The pending secret, its URI and QR code.
    #[oai(status = 200)]
    Pending(Json<TotpSetupView>),
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
    /// TOTP is already on (`totp_already_enabled`).
    #[oai(status = 409)]
    Conflict(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(SetUpTotpResponse {
    401 => Unauthenticated,
    404 => NotFound,
    409 => Conflict,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum ConfirmTotpResponse {
    /// TOTP is on; the recovery codes, shown once.
    #[oai(status = 200)]
    Enabled(Json<RecoveryCodesView>),
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
    /// No setup is pending (`totp_not_set_up`).
    #[oai(status = 409)]
    Conflict(ApiError),
    /// The body is over the size limit (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(ApiError),
    /// The code is wrong (`validation_failed` on `code`).
    #[oai(status = 422)]
    Invalid(ApiError),
    /// Too many wrong passwords (`login_throttled`) or codes (`second_factor_throttled`)
    /// for this account lately; nothing was judged.
    #[oai(
        status = 429,
        header(
            name = "Retry-After",
            ty = "u64",
            description = "Seconds to wait before trying again."
        )
    )]
    TooManyRequests(ApiError),
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(ConfirmTotpResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    409 => Conflict,
    413 => PayloadTooLarge,
    422 => Invalid,
    429 => TooManyRequests,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum DisableTotpResponse {
    /// TOTP is off and the recovery codes are gone.
    #[oai(status = 204)]
    Disabled,
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
    /// TOTP is not on (`totp_not_enabled`).
    #[oai(status = 409)]
    Conflict(ApiError),
    /// The body is over the size limit (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(ApiError),
    /// The password or the code is wrong (`validation_failed` on that field).
    #[oai(status = 422)]
    Invalid(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    /// Too many wrong codes for this account lately (`second_factor_throttled`).
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
problem_variants!(DisableTotpResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    409 => Conflict,
    413 => PayloadTooLarge,
    422 => Invalid,
    429 => TooManyRequests,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum RegenerateRecoveryCodesResponse {
    /// The new recovery codes, shown once.
    #[oai(status = 200)]
    Replaced(Json<RecoveryCodesView>),
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
    /// TOTP is not on (`totp_not_enabled`).
    #[oai(status = 409)]
    Conflict(ApiError),
    /// The body is over the size limit (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(ApiError),
    /// The password is wrong (`validation_failed` on `password`).
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
problem_variants!(RegenerateRecoveryCodesResponse {
    400 => BadRequest,
    401 => Unauthenticated,
    409 => Conflict,
    413 => PayloadTooLarge,
    422 => Invalid,
    429 => TooManyRequests,
});
