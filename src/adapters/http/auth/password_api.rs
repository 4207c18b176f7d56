//! Adapters layer (HTTP): changing a password, and resetting a forgotten one with a mailed
//! token, through `PasswordChange` and `PasswordRecovery`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::dto::MessageBody;
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::extractors::RequestClient;
use crate::adapters::http::fields::Text;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
use crate::core::auth::{ChangePasswordRequest, ResetPasswordRequest};
use crate::core::model::ClientInfo;

pub struct PasswordApi;

/// A new password, proven by the current one.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: Text,
    /// 8 to 128 characters, not a common or easily guessed password.
    pub new_password: Text,
}

impl ChangePasswordBody {
    fn into_request(self, client: ClientInfo) -> ChangePasswordRequest {
        ChangePasswordRequest {
            current_password: self.current_password.into(),
            new_password: self.new_password.into(),
            client,
        }
    }
}

/// An address whose password was forgotten.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ForgotPasswordBody {
    pub email: Text,
}

/// A token from a password-reset mail and the password to set.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ResetPasswordBody {
    pub token: Text,
    /// 8 to 128 characters, not a common or easily guessed password.
    pub new_password: Text,
}

impl ResetPasswordBody {
    fn into_request(self, client: ClientInfo) -> ResetPasswordRequest {
        ResetPasswordRequest {
            token: self.token.into(),
            new_password: self.new_password.into(),
            client,
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl PasswordApi {
    /// Forgot my password
    ///
    /// Mails a single-use reset token, valid one hour, if the address has an account. Always
    /// answers 202, at once, so it never tells who is registered.
    #[oai(
        path = "/password/forgot",
        method = "post",
        operation_id = "forgot_password"
    )]
    async fn forgot_password(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<ForgotPasswordBody>,
    ) -> ForgotPasswordResponse {
        // Answered before the work is done: only a known address costs a store write and a
        // mail, and the answer's timing must not tell which addresses are known.
        let recovery = services.core.password_recovery.clone();
        let email = body.0.email.0;
        services
            .after_response
            .run("mailing a password reset", async move {
                recovery.forgot_password(&email, &client).await
            })
            .await;
        ForgotPasswordResponse::Accepted(Json(MessageBody::new(
            "If this address has an account, a reset token is on its way.",
        )))
    }

    /// Reset my password
    ///
    /// Sets a new password with the token from a reset mail (single use, one hour), signs
    /// the account out everywhere, forgets its remembered devices and spends every other
    /// reset token. A refused password leaves the token usable. The next sign-in still asks
    /// for the second factor.
    #[oai(
        path = "/password/reset",
        method = "post",
        operation_id = "reset_password"
    )]
    async fn reset_password(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<ResetPasswordBody>,
    ) -> ResetPasswordResponse {
        match services
            .core
            .password_recovery
            .reset_password(body.0.into_request(client))
            .await
        {
            Ok(()) => ResetPasswordResponse::Reset,
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// This wasn't me: turn off an authenticator app I did not set up
    ///
    /// With the token from the "authenticator app turned on" mail (single use, 72 hours) and
    /// a new password: sets the password as a reset does, turns the authenticator app off
    /// with its recovery codes, signs the account out everywhere and forgets its remembered
    /// devices. The next sign-in asks for a code by mail. A refused password leaves the token
    /// usable. Recorded in the audit log (`password_reset`, `totp_disabled`).
    #[oai(
        path = "/2fa/totp/disown",
        method = "post",
        operation_id = "disown_totp"
    )]
    async fn disown_totp(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<ResetPasswordBody>,
    ) -> ResetPasswordResponse {
        match services
            .core
            .password_recovery
            .disown_totp(body.0.into_request(client))
            .await
        {
            Ok(()) => ResetPasswordResponse::Reset,
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Change my password
    ///
    /// Replaces the password once the current one is given, signs every other device out,
    /// forgets remembered devices and spends outstanding reset tokens; this session stays. Wrong current passwords count towards the account's sign-in
    /// throttle (10 in a row lock it, 429 with `Retry-After`).
    #[oai(
        path = "/password/change",
        method = "post",
        operation_id = "change_password"
    )]
    async fn change_password(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<ChangePasswordBody>,
    ) -> ChangePasswordResponse {
        let principal = caller.principal;
        match services
            .core
            .password_change
            .change_password(principal, body.0.into_request(client))
            .await
        {
            Ok(()) => ChangePasswordResponse::Changed,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum ChangePasswordResponse {
        /// The password is changed; the other sessions are ended.
        204 Changed,
        400 malformed_body,
        401 unauthenticated,
        /// The current password is wrong (`wrong_password`).
        403 WrongPassword(problem),
        413 payload_too_large,
        /// The new password is too weak or too short (`validation_failed`).
        422 Invalid(problem),
        /// Too many wrong passwords for this account lately (`login_throttled`), or too many
        /// requests from this IP address (`rate_limited`).
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum ForgotPasswordResponse {
        /// Accepted, whether or not a mail was sent.
        202 Accepted(Json<MessageBody>),
        400 malformed_body,
        413 payload_too_large,
        429 rate_limited,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum ResetPasswordResponse {
        /// The password is replaced; every session of the account is ended (and, for
        /// `disown`, the authenticator app is off).
        204 Reset,
        /// The token is unknown, already used or expired (`invalid_token`), or the body is
        /// malformed (`malformed_request`).
        400 BadRequest(problem),
        413 payload_too_large,
        /// The new password is too weak or too short (`validation_failed`); the token still works.
        422 Invalid(problem),
        429 rate_limited,
        500 internal_error,
        503 store_timeout,
    }
}
