//! Adapters layer (HTTP): the `Auth` operations — registration, email verification, the
//! two-step login and sessions. Translates HTTP to calls of `Registration`, `SignIn` and
//! `Sessions` and their outcomes to responses; decides nothing itself.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::Json;

use super::dto::{
    LoginAnswerBody, LoginBody, MessageBody, RefreshBody, RegisterBody, ResendCodeBody,
    ResendVerificationBody, TokensBody, VerifyCodeBody, VerifyEmailBody,
};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::extractors::RequestClient;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
use crate::adapters::i18n;
use crate::adapters::metrics::OutcomeLabels;
use crate::core::auth::{LoginError, LoginOutcome};

pub struct AuthApi;

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Register an account
    ///
    /// Creates an account and mails a link that confirms the address. The answer is the same
    /// whether or not the address already has an account — its owner is mailed a warning
    /// instead — so it never tells who is registered. A `courier` account also waits for a
    /// manager's approval before it can sign in.
    #[oai(path = "/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        /// The languages the person reads; the account's mails are written in the best one the
        /// service speaks (French when it speaks none of them). `PATCH /me` changes it later.
        #[oai(name = "Accept-Language")]
        accept_language: Header<Option<String>>,
        body: Json<RegisterBody>,
    ) -> RegisterResponse {
        let locale = accept_language
            .0
            .as_deref()
            .and_then(i18n::negotiate)
            .unwrap_or_default();
        let follow_up = match services
            .core
            .registration
            .start_registration(body.0.into_request(client, locale))
            .await
        {
            Ok(follow_up) => follow_up,
            Err(error) => return ApiError::from(error).into(),
        };
        // The account is stored; its mail (a link for a new address, a warning to the owner
        // of a taken one) goes out after the answer, whose timing must not tell them apart.
        let registration = services.core.registration.clone();
        services
            .after_response
            .run("mailing after a registration", async move {
                registration.finish_registration(follow_up).await
            })
            .await;
        RegisterResponse::Accepted(Json(MessageBody::new(
            "If this address can be registered, a confirmation link is on its way.",
        )))
    }

    /// Confirm an email address (link)
    ///
    /// The link mailed after registration; it works when clicked in a browser. A token works
    /// once, for 24 hours.
    #[oai(
        path = "/verify-email",
        method = "get",
        operation_id = "verify_email_link"
    )]
    async fn verify_email_link(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        /// The token from the mailed link.
        token: Query<String>,
    ) -> VerifyEmailLinkResponse {
        match services
            .core
            .registration
            .verify_email(&token.0, &client)
            .await
        {
            Ok(()) => VerifyEmailLinkResponse::Verified(Json(MessageBody::new(
                "Your email address is confirmed. You can now sign in.",
            ))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Confirm an email address
    ///
    /// The same as the mailed link, for API clients. A token works once, for 24 hours.
    #[oai(path = "/verify-email", method = "post", operation_id = "verify_email")]
    async fn verify_email(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<VerifyEmailBody>,
    ) -> VerifyEmailResponse {
        match services
            .core
            .registration
            .verify_email(&body.0.token.0, &client)
            .await
        {
            Ok(()) => VerifyEmailResponse::Verified,
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Mail a new confirmation link
    ///
    /// Mails a new link if the address has an account that is not confirmed yet. Always
    /// answers 202, at once, so it never tells who is registered.
    #[oai(
        path = "/verify-email/resend",
        method = "post",
        operation_id = "resend_verification"
    )]
    async fn resend_verification(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        body: Json<ResendVerificationBody>,
    ) -> ResendVerificationResponse {
        // Answered before the work is done: only an unconfirmed account costs a store write
        // and a mail, and the answer's timing must not tell which addresses have one.
        let registration = services.core.registration.clone();
        let email = body.0.email.0;
        services
            .after_response
            .run("resending a verification link", async move {
                registration.resend_verification(&email).await
            })
            .await;
        ResendVerificationResponse::Accepted(Json(MessageBody::new(
            "If this address has an unconfirmed account, a new link is on its way.",
        )))
    }

    /// Sign in, step 1: password
    ///
    /// Checks the password and mails a 6-digit code to the account's address; finish with
    /// `/auth/2fa/verify` before `expires_at`. An unknown email and a wrong password get the
    /// same answer in the same time. After 10 wrong passwords in a row an email is locked
    /// (429 with `Retry-After`, back-off from 1 to 15 minutes), even for the right password.
    /// Account-state refusals (email not confirmed, pending
    /// approval, suspended) are only given after a correct password. With the `device_token`
    /// of a live remembered device of this account, the second factor is skipped and the
    /// answer is 200 with the session's tokens; any other device token is ignored.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<LoginBody>,
    ) -> LoginResponse {
        let outcome = services
            .core
            .sign_in
            .login(body.0.into_request(client))
            .await;
        services
            .metrics
            .login_outcomes
            .get_or_create(&OutcomeLabels {
                outcome: login_outcome(&outcome).into(),
            })
            .inc();
        match outcome {
            Ok(LoginOutcome::Challenge(challenge)) => {
                LoginResponse::ChallengeIssued(Json(LoginAnswerBody::Challenge(challenge.into())))
            }
            Ok(LoginOutcome::SignedIn(tokens)) => LoginResponse::SignedIn(Json(
                LoginAnswerBody::Tokens(TokensBody::new(tokens, services.clock.now())),
            )),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Sign in, step 2: the mailed code
    ///
    /// Exchanges the code for the tokens of a new session. A code works once; a login allows
    /// 5 attempts, after which it is burned and must start again with the password. With
    /// `remember_device: true` the tokens carry a `device_token` valid 30 days.
    #[oai(
        path = "/2fa/verify",
        method = "post",
        operation_id = "verify_login_code"
    )]
    async fn verify_login_code(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<VerifyCodeBody>,
    ) -> VerifyLoginCodeResponse {
        match services
            .core
            .sign_in
            .verify_code(body.0.into_request(client))
            .await
        {
            Ok(tokens) => VerifyLoginCodeResponse::SignedIn(Json(TokensBody::new(
                tokens,
                services.clock.now(),
            ))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Mail a new login code
    ///
    /// Mails a new code for a login waiting for its second step; the previous code stops
    /// working. At most one code per 30 seconds.
    #[oai(
        path = "/2fa/resend",
        method = "post",
        operation_id = "resend_login_code"
    )]
    async fn resend_login_code(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        body: Json<ResendCodeBody>,
    ) -> ResendLoginCodeResponse {
        match services
            .core
            .sign_in
            .resend_code(&body.0.challenge_id.to_string())
            .await
        {
            Ok(()) => ResendLoginCodeResponse::Accepted(Json(MessageBody::new(
                "A new code is on its way.",
            ))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Refresh the tokens
    ///
    /// Exchanges a refresh token for new tokens of the same session; the old refresh token
    /// stops working. Presenting a refresh token that was already exchanged ends the whole
    /// session, as it means the token was copied — except within a few seconds of the
    /// exchange, so that two concurrent refreshes by one client both succeed.
    #[oai(path = "/refresh", method = "post", operation_id = "refresh_tokens")]
    async fn refresh_tokens(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
        body: Json<RefreshBody>,
    ) -> RefreshTokensResponse {
        match services
            .core
            .sessions
            .refresh(&body.0.refresh_token.0, &client)
            .await
        {
            Ok(tokens) => RefreshTokensResponse::Refreshed(Json(TokensBody::new(
                tokens,
                services.clock.now(),
            ))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Sign out
    ///
    /// Ends this session: its access and refresh tokens stop working at once.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
    ) -> LogoutResponse {
        let principal = caller.principal;
        match services.core.sessions.logout(principal, &client).await {
            Ok(()) => LogoutResponse::SignedOut,
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Sign out everywhere
    ///
    /// Ends every session of the signed-in user, this one included, and forgets their
    /// remembered devices: the next sign-in anywhere asks for the second factor.
    #[oai(path = "/logout-all", method = "post", operation_id = "logout_all")]
    async fn logout_all(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        RequestClient(client): RequestClient,
    ) -> LogoutAllResponse {
        let principal = caller.principal;
        match services.core.sessions.logout_all(principal, &client).await {
            Ok(()) => LogoutAllResponse::SignedOut,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

/// The label of a password login in the `login_outcomes` metric.
fn login_outcome(outcome: &Result<LoginOutcome, LoginError>) -> &'static str {
    match outcome {
        Ok(LoginOutcome::Challenge(_)) => "challenge_issued",
        Ok(LoginOutcome::SignedIn(_)) => "remembered_device",
        Err(LoginError::InvalidCredentials) => "invalid_credentials",
        Err(LoginError::PendingApproval) => "pending_approval",
        Err(LoginError::Suspended) => "suspended",
        Err(LoginError::Throttled { .. }) => "throttled",
        Err(LoginError::Unexpected(_)) => "error",
    }
}

responses! {
    pub enum RegisterResponse {
        /// Accepted. A confirmation link is mailed if the address is new.
        202 Accepted(Json<MessageBody>),
        /// The body is not valid JSON, has a field of the wrong type, misses one or has an
        /// unknown one (`malformed_request`).
        400 BadRequest(problem),
        413 payload_too_large,
        /// Some fields are invalid — an invalid email, a weak password… (`validation_failed`);
        /// `errors` lists them all.
        422 Invalid(problem),
        429 rate_limited,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum VerifyEmailLinkResponse {
        /// The address is confirmed.
        200 Verified(Json<MessageBody>),
        /// The token is unknown, already used or expired (`invalid_token`), or missing
        /// (`malformed_request`).
        400 BadRequest(problem),
        429 rate_limited,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum VerifyEmailResponse {
        /// The address is confirmed.
        204 Verified,
        /// The token is unknown, already used or expired (`invalid_token`), or the body is
        /// malformed (`malformed_request`).
        400 BadRequest(problem),
        413 payload_too_large,
        429 rate_limited,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum ResendVerificationResponse {
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
    pub enum LoginResponse {
        /// The password is right and `device_token` is a live remembered device of this account:
        /// the tokens of a new session (a `TokensBody`), no second factor needed.
        200 SignedIn(Json<LoginAnswerBody>),
        /// The password is right: a code is mailed (a `LoginChallengeBody`); finish with
        /// `/auth/2fa/verify`.
        202 ChallengeIssued(Json<LoginAnswerBody>),
        400 malformed_body,
        /// Unknown email, wrong password or an address not yet confirmed — deliberately not
        /// told apart (`invalid_credentials`); a right password on an unconfirmed address
        /// quietly mails its confirmation link again.
        401 InvalidCredentials(problem),
        /// The password is right but the account may not sign in: `account_pending_approval`
        /// or `account_suspended`.
        403 Forbidden(problem),
        413 payload_too_large,
        /// Too many wrong passwords for this email lately (`login_throttled`) — answered even to
        /// the right password, whether or not the email has an account — or too many requests
        /// from this IP address (`rate_limited`).
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum VerifyLoginCodeResponse {
        /// Signed in: the tokens of a new session.
        200 SignedIn(Json<TokensBody>),
        400 malformed_body,
        /// A wrong code, or a login that is unknown, expired or already finished — not told
        /// apart (`invalid_code`).
        401 InvalidCode(problem),
        413 payload_too_large,
        /// This login has used all its attempts and must start again with the password
        /// (`too_many_attempts`), the account had too many wrong codes lately across its logins
        /// (`second_factor_throttled`), or too many requests came from this IP address
        /// (`rate_limited`).
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum ResendLoginCodeResponse {
        /// A new code is mailed.
        202 Accepted(Json<MessageBody>),
        400 malformed_body,
        /// The login is unknown, expired, finished or out of attempts (`invalid_code`).
        401 InvalidCode(problem),
        413 payload_too_large,
        /// A code was mailed moments ago (`resend_too_soon`), or too many requests came from
        /// this IP address (`rate_limited`).
        429 TooManyRequests(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum RefreshTokensResponse {
        /// New tokens of the same session.
        200 Refreshed(Json<TokensBody>),
        400 malformed_body,
        /// The refresh token is invalid, expired, of an ended session, or was already exchanged
        /// — which ends its session (`invalid_refresh_token`).
        401 InvalidRefreshToken(problem),
        413 payload_too_large,
        429 rate_limited,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum LogoutResponse {
        /// Signed out.
        204 SignedOut,
        401 unauthenticated,
        429 rate_limited,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum LogoutAllResponse {
        /// Every session of the user is ended.
        204 SignedOut,
        401 unauthenticated,
        429 rate_limited,
        500 internal_error,
        503 store_timeout,
    }
}
