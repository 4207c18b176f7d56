//! Adapters layer (HTTP): the signed-in user's second factors — authenticator app (TOTP) and
//! recovery codes — through `SecondFactorSettings`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::payload::Json;

use super::second_factor_dto::{
    DisableTotpBody, PasswordBody, RecoveryCodesView, TotpCodeBody, TotpSetupView,
};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::extractors::RequestClient;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;

pub struct SecondFactorApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl SecondFactorApi {
    /// Set up an authenticator app
    ///
    /// Needs the password (a wrong one is a 403 `wrong_password`). Draws a new TOTP secret
    /// (RFC 6238: SHA-1, 6 digits, 30 s) and returns it with its `otpauth://` URI and QR
    /// code. It stays pending until confirmed; a new setup replaces a pending one. The secret
    /// is shown only here. 409 `totp_already_enabled` while TOTP is on.
    #[oai(
        path = "/me/2fa/totp/setup",
        method = "post",
        operation_id = "set_up_totp"
    )]
    async fn set_up_totp(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<PasswordBody>,
    ) -> SetUpTotpResponse {
        let principal = caller.principal;
        let password = String::from(body.0.password);
        match services
            .core
            .second_factor
            .set_up_totp(principal.user_id, &password, &client)
            .await
        {
            Ok(provisioning) => SetUpTotpResponse::Pending(Json(provisioning.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Turn the authenticator app on
    ///
    /// Confirms the pending setup with a code from the app, turns TOTP on and returns 10
    /// single-use recovery codes, shown only here. A wrong code is a 422 on `code`; wrong
    /// codes here are limited apart from sign-in, which they never lock. From now on sign-in
    /// asks for the app or a recovery code, not an emailed code. The owner is mailed, with a
    /// "this wasn't me" token for `POST /auth/2fa/totp/disown`.
    #[oai(
        path = "/me/2fa/totp/confirm",
        method = "post",
        operation_id = "confirm_totp"
    )]
    async fn confirm_totp(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<TotpCodeBody>,
    ) -> ConfirmTotpResponse {
        let principal = caller.principal;
        let code = String::from(body.0.code);
        match services
            .core
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
    /// password is a 403 `wrong_password`, a wrong code a 422 naming `code`.
    #[oai(
        path = "/me/2fa/totp",
        method = "delete",
        operation_id = "disable_totp"
    )]
    async fn disable_totp(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<DisableTotpBody>,
    ) -> DisableTotpResponse {
        let principal = caller.principal;
        let DisableTotpBody { password, code } = body.0;
        let (password, code) = (String::from(password), String::from(code));
        match services
            .core
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
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<PasswordBody>,
    ) -> RegenerateRecoveryCodesResponse {
        let principal = caller.principal;
        let password = String::from(body.0.password);
        match services
            .core
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

responses! {
    pub enum SetUpTotpResponse {
        /// The pending secret, its URI and QR code.
        200 Pending(Json<TotpSetupView>),
        400 malformed_json,
        401 unauthenticated,
        /// The password is wrong (`wrong_password`).
        403 WrongPassword(problem),
        404 account_gone,
        /// TOTP is already on (`totp_already_enabled`).
        409 Conflict(problem),
        413 payload_too_large,
        /// Too many wrong passwords for this account lately (`login_throttled`); nothing was
        /// judged.
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum ConfirmTotpResponse {
        /// TOTP is on; the recovery codes, shown once.
        200 Enabled(Json<RecoveryCodesView>),
        400 malformed_json,
        401 unauthenticated,
        /// No setup is pending (`totp_not_set_up`).
        409 Conflict(problem),
        413 payload_too_large,
        /// The code is wrong (`validation_failed` on `code`).
        422 Invalid(problem),
        /// Too many wrong confirmation codes for this account lately
        /// (`second_factor_throttled`); nothing was judged.
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum DisableTotpResponse {
        /// TOTP is off and the recovery codes are gone.
        204 Disabled,
        400 malformed_json,
        401 unauthenticated,
        /// The password is wrong (`wrong_password`).
        403 WrongPassword(problem),
        /// TOTP is not on (`totp_not_enabled`).
        409 Conflict(problem),
        413 payload_too_large,
        /// The code is wrong (`validation_failed` on `code`).
        422 Invalid(problem),
        /// Too many wrong passwords (`login_throttled`) or codes (`second_factor_throttled`)
        /// for this account lately; nothing was judged.
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum RegenerateRecoveryCodesResponse {
        /// The new recovery codes, shown once.
        200 Replaced(Json<RecoveryCodesView>),
        400 malformed_json,
        401 unauthenticated,
        /// The password is wrong (`wrong_password`).
        403 WrongPassword(problem),
        /// TOTP is not on (`totp_not_enabled`).
        409 Conflict(problem),
        413 payload_too_large,
        /// Too many wrong passwords for this account lately (`login_throttled`); nothing was
        /// judged.
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}
