//! Adapters layer (HTTP): every error this API answers with, as an RFC 9457 problem document
//! served as `application/problem+json`. May depend on poem, poem-openapi and the core's
//! `ValidationErrors`; decides nothing about when a problem happens.

use poem::error::ResponseError;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{Enum, Object};

use crate::core::model::ValidationErrors;

/// The media type of every error body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// How long a client should wait after a `store_timeout`: long enough that retries do not
/// pile onto a store that is struggling, short enough for a brief hiccup.
const STORE_RETRY_AFTER_SECONDS: u64 = 5;

/// Client-supplied text echoed in a `detail` is cut to this many characters.
const MAX_ECHOED_CHARS: usize = 300;

/// A stable, machine-readable name for what went wrong. Clients branch on it; a published
/// code never changes meaning.
// Published as an enum in this order; what each code means is `ProblemCode::definition`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ProblemCode {
    MalformedRequest,
    InvalidToken,
    Unauthenticated,
    InvalidCredentials,
    WrongPassword,
    InvalidCode,
    InvalidRefreshToken,
    AccountPendingApproval,
    AccountSuspended,
    Forbidden,
    NotFound,
    LastActiveManager,
    MethodNotAllowed,
    PayloadTooLarge,
    ValidationFailed,
    TooManyAttempts,
    LoginThrottled,
    SecondFactorThrottled,
    ResendTooSoon,
    RateLimited,
    TotpAlreadyEnabled,
    TotpNotEnabled,
    TotpNotSetUp,
    InvalidTransition,
    OrderNotAssignable,
    InvalidDeliveryCode,
    DeliveryCodeLocked,
    Conflict,
    InternalError,
    StoreUnavailable,
    StoreTimeout,
}

/// One invalid field of a request.
#[derive(Object, Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The request field, as named in the request body.
    pub field: String,
    /// What is wrong with it, for people.
    pub message: String,
}

/// An error response (RFC 9457). `code` is what clients should branch on; `title` and
/// `detail` are for people and may be reworded.
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(rename = "Problem")]
pub struct ProblemDocument {
    /// Always `about:blank`: the problem is told by `status` and `code`.
    #[oai(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code, repeated.
    pub status: u16,
    /// What happened in this occurrence and what the client can do about it.
    pub detail: String,
    /// Stable, machine-readable name of the problem.
    pub code: ProblemCode,
    /// Every invalid field; only for `validation_failed`.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<FieldProblem>>,
}

/// Every problem this API answers with, each with its `code` (which gives its status, title
/// and default detail, see `ProblemCode::definition`).
///
/// It is also the body of every problem response: an operation declares a variant per status
/// carrying an `ApiError`, which renders itself as a problem document with its headers.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request could not be read: bad JSON, wrong types, unknown fields, missing fields.
    #[error("malformed request: {reason}")]
    MalformedRequest { reason: String },
    /// A mailed token that is unknown, used or expired.
    #[error("invalid or expired token")]
    InvalidToken,
    /// The bearer token is missing, invalid, expired or of an ended session.
    #[error("not authenticated")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A signed-in user's current password is wrong (403: the bearer token itself is fine).
    #[error("wrong password")]
    WrongPassword,
    #[error("invalid code")]
    InvalidCode,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("account pending approval")]
    AccountPendingApproval,
    #[error("account suspended")]
    AccountSuspended,
    /// Authenticated, but this role may not do this.
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The change or deletion would leave no active manager.
    #[error("last active manager")]
    LastActiveManager,
    /// `allow` lists the methods the resource has, for the `Allow` header (RFC 9110 §15.5.6).
    #[error("method not allowed")]
    MethodNotAllowed { allow: Option<String> },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("validation failed: {0}")]
    ValidationFailed(ValidationErrors),
    /// A login challenge has used all its attempts.
    #[error("too many attempts")]
    TooManyAttempts,
    /// Too many wrong passwords for this account lately; even the right one waits.
    #[error("login throttled")]
    LoginThrottled { retry_after_seconds: u64 },
    /// Too many wrong second-factor codes for this account lately, across its logins.
    #[error("second factor throttled")]
    SecondFactorThrottled { retry_after_seconds: u64 },
    #[error("a code was sent recently")]
    ResendTooSoon { retry_after_seconds: u64 },
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    /// TOTP setup while TOTP is already on.
    #[error("TOTP already enabled")]
    TotpAlreadyEnabled,
    /// A TOTP or recovery-code operation on an account without TOTP.
    #[error("TOTP not enabled")]
    TotpNotEnabled,
    /// TOTP confirmation without a pending setup.
    #[error("no pending TOTP setup")]
    TotpNotSetUp,
    /// The transition table has no such move from the order's current status.
    #[error("invalid transition")]
    InvalidTransition,
    /// Couriers are assigned between confirmation and pick-up only.
    #[error("order not assignable")]
    OrderNotAssignable,
    /// The delivery code offered does not match the order's.
    #[error("invalid delivery code")]
    InvalidDeliveryCode,
    /// The order has used all its delivery-code attempts.
    #[error("delivery code locked")]
    DeliveryCodeLocked,
    /// The resource changed between reading and writing (a concurrent change won).
    #[error("conflict")]
    Conflict,
    /// A fault of ours. Whoever creates it has logged the cause; the body never tells it.
    #[error("internal error")]
    Internal,
    #[error("store unavailable")]
    StoreUnavailable,
    /// A store call ran out of its time limit (`STORE_TIMEOUT_MS`): the store is unreachable,
    /// overloaded or frozen. Whoever creates it has logged the cause.
    #[error("store timed out")]
    StoreTimeout,
}

/// What a code means, whatever the occurrence: its status, a title and the detail a client
/// reads unless the occurrence says more.
struct Definition {
    status: StatusCode,
    title: &'static str,
    detail: &'static str,
}

const fn definition(status: StatusCode, title: &'static str, detail: &'static str) -> Definition {
    Definition {
        status,
        title,
        detail,
    }
}

impl ProblemCode {
    /// The catalogue of problems: one row per code. A code never changes its status.
    fn definition(self) -> Definition {
        use StatusCode as S;
        match self {
            ProblemCode::MalformedRequest => definition(
                S::BAD_REQUEST,
                "Malformed request",
                // Followed by what could not be read (see `ApiError::detail`).
                "The request could not be read",
            ),
            ProblemCode::InvalidToken => definition(
                S::BAD_REQUEST,
                "Invalid or expired link",
                "This token is unknown, already used or expired; ask for a new one.",
            ),
            ProblemCode::Unauthenticated => definition(
                S::UNAUTHORIZED,
                "Not authenticated",
                "Send a valid access token of a live session as `Authorization: Bearer <token>`.",
            ),
            ProblemCode::InvalidCredentials => definition(
                S::UNAUTHORIZED,
                "Invalid credentials",
                "The email or the password is wrong.",
            ),
            ProblemCode::WrongPassword => definition(
                S::FORBIDDEN,
                "Wrong password",
                "The current password is wrong.",
            ),
            ProblemCode::InvalidCode => definition(
                S::UNAUTHORIZED,
                "Invalid code",
                "The code is wrong, or this login is unknown, expired or already finished.",
            ),
            ProblemCode::InvalidRefreshToken => definition(
                S::UNAUTHORIZED,
                "Invalid refresh token",
                "The refresh token is invalid, expired or of an ended session; sign in again.",
            ),
            ProblemCode::AccountPendingApproval => definition(
                S::FORBIDDEN,
                "Account pending approval",
                "A manager has not approved this account yet.",
            ),
            ProblemCode::AccountSuspended => definition(
                S::FORBIDDEN,
                "Account suspended",
                "This account is suspended.",
            ),
            ProblemCode::Forbidden => {
                definition(S::FORBIDDEN, "Forbidden", "Your role does not allow this.")
            }
            ProblemCode::NotFound => {
                definition(S::NOT_FOUND, "Not found", "There is nothing here.")
            }
            ProblemCode::LastActiveManager => definition(
                S::CONFLICT,
                "Last active manager",
                "This would leave no active manager; promote or activate another one first.",
            ),
            ProblemCode::MethodNotAllowed => definition(
                S::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "This resource does not support this method; see the `Allow` header.",
            ),
            ProblemCode::PayloadTooLarge => definition(
                S::PAYLOAD_TOO_LARGE,
                "Payload too large",
                "The request body is larger than this API accepts.",
            ),
            ProblemCode::ValidationFailed => definition(
                S::UNPROCESSABLE_ENTITY,
                "Validation failed",
                "Some fields are invalid; see `errors`.",
            ),
            ProblemCode::TooManyAttempts => definition(
                S::TOO_MANY_REQUESTS,
                "Too many attempts",
                "This login has used all its attempts; sign in again with your password.",
            ),
            ProblemCode::LoginThrottled => definition(
                S::TOO_MANY_REQUESTS,
                "Too many failed sign-ins",
                "Too many wrong passwords for this account; wait `Retry-After` seconds.",
            ),
            ProblemCode::SecondFactorThrottled => definition(
                S::TOO_MANY_REQUESTS,
                "Too many wrong codes",
                "Too many wrong codes for this account; wait `Retry-After` seconds.",
            ),
            ProblemCode::ResendTooSoon => definition(
                S::TOO_MANY_REQUESTS,
                "Code sent recently",
                "A code was sent moments ago; wait before asking for another one.",
            ),
            ProblemCode::RateLimited => definition(
                S::TOO_MANY_REQUESTS,
                "Too many requests",
                "Too many requests from this address; slow down.",
            ),
            ProblemCode::TotpAlreadyEnabled => definition(
                S::CONFLICT,
                "Authenticator app already on",
                "An authenticator app is already on; turn it off before setting up another.",
            ),
            ProblemCode::TotpNotEnabled => definition(
                S::CONFLICT,
                "Authenticator app not on",
                "No authenticator app is on for this account; set one up first.",
            ),
            ProblemCode::TotpNotSetUp => definition(
                S::CONFLICT,
                "No authenticator app setup pending",
                "There is no setup to confirm; start with `POST /me/2fa/totp/setup`.",
            ),
            ProblemCode::InvalidTransition => definition(
                S::CONFLICT,
                "Invalid transition",
                "The order cannot move to this status from its current one.",
            ),
            ProblemCode::OrderNotAssignable => definition(
                S::CONFLICT,
                "Order not assignable",
                "Couriers are assigned between confirmation and pick-up only.",
            ),
            ProblemCode::InvalidDeliveryCode => definition(
                S::UNPROCESSABLE_ENTITY,
                "Invalid delivery code",
                "This is not the order's delivery code; ask the client for it again.",
            ),
            ProblemCode::DeliveryCodeLocked => definition(
                S::CONFLICT,
                "Delivery code locked",
                "Too many wrong delivery codes for this order; report the delivery as failed.",
            ),
            ProblemCode::Conflict => definition(
                S::CONFLICT,
                "Conflict",
                "The resource changed while this request was handled; read it again and retry.",
            ),
            ProblemCode::InternalError => definition(
                S::INTERNAL_SERVER_ERROR,
                "Internal error",
                "Something went wrong on our side; try again later.",
            ),
            ProblemCode::StoreUnavailable => definition(
                S::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "The data store cannot be reached right now.",
            ),
            ProblemCode::StoreTimeout => definition(
                S::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable",
                "The data store did not answer in time, so this request may or may not have \
                 taken effect; try again after `Retry-After` seconds.",
            ),
        }
    }
}

impl ApiError {
    /// The code of this problem; its status, title and default detail come with the code.
    pub fn code(&self) -> ProblemCode {
        match self {
            ApiError::MalformedRequest { .. } => ProblemCode::MalformedRequest,
            ApiError::InvalidToken => ProblemCode::InvalidToken,
            ApiError::Unauthenticated => ProblemCode::Unauthenticated,
            ApiError::InvalidCredentials => ProblemCode::InvalidCredentials,
            ApiError::WrongPassword => ProblemCode::WrongPassword,
            ApiError::InvalidCode => ProblemCode::InvalidCode,
            ApiError::InvalidRefreshToken => ProblemCode::InvalidRefreshToken,
            ApiError::AccountPendingApproval => ProblemCode::AccountPendingApproval,
            ApiError::AccountSuspended => ProblemCode::AccountSuspended,
            ApiError::Forbidden => ProblemCode::Forbidden,
            ApiError::NotFound => ProblemCode::NotFound,
            ApiError::LastActiveManager => ProblemCode::LastActiveManager,
            ApiError::MethodNotAllowed { .. } => ProblemCode::MethodNotAllowed,
            ApiError::PayloadTooLarge => ProblemCode::PayloadTooLarge,
            ApiError::ValidationFailed(_) => ProblemCode::ValidationFailed,
            ApiError::TooManyAttempts => ProblemCode::TooManyAttempts,
            ApiError::LoginThrottled { .. } => ProblemCode::LoginThrottled,
            ApiError::SecondFactorThrottled { .. } => ProblemCode::SecondFactorThrottled,
            ApiError::ResendTooSoon { .. } => ProblemCode::ResendTooSoon,
            ApiError::RateLimited { .. } => ProblemCode::RateLimited,
            ApiError::TotpAlreadyEnabled => ProblemCode::TotpAlreadyEnabled,
            ApiError::TotpNotEnabled => ProblemCode::TotpNotEnabled,
            ApiError::TotpNotSetUp => ProblemCode::TotpNotSetUp,
            ApiError::InvalidTransition => ProblemCode::InvalidTransition,
            ApiError::OrderNotAssignable => ProblemCode::OrderNotAssignable,
            ApiError::InvalidDeliveryCode => ProblemCode::InvalidDeliveryCode,
            ApiError::DeliveryCodeLocked => ProblemCode::DeliveryCodeLocked,
            ApiError::Conflict => ProblemCode::Conflict,
            ApiError::Internal => ProblemCode::InternalError,
            ApiError::StoreUnavailable => ProblemCode::StoreUnavailable,
            ApiError::StoreTimeout => ProblemCode::StoreTimeout,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code().definition().status
    }

    fn title(&self) -> &'static str {
        self.code().definition().title
    }

    /// The code's detail, with what this occurrence adds to it.
    fn detail(&self) -> String {
        let detail = self.code().definition().detail;
        match self {
            ApiError::MalformedRequest { reason } => {
                let reason: String = reason.chars().take(MAX_ECHOED_CHARS).collect();
                format!("{detail}: {reason}")
            }
            _ => detail.into(),
        }
    }

    /// Seconds a client should wait before trying again; every 429 and every `store_timeout`
    /// 503 carries one. After a burned
    /// login challenge the client may start a new login at once, so it is 0.
    fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            ApiError::ResendTooSoon {
                retry_after_seconds,
            }
            | ApiError::RateLimited {
                retry_after_seconds,
            }
            | ApiError::LoginThrottled {
                retry_after_seconds,
            }
            | ApiError::SecondFactorThrottled {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            ApiError::TooManyAttempts => Some(0),
            ApiError::StoreTimeout => Some(STORE_RETRY_AFTER_SECONDS),
            _ => None,
        }
    }

    pub fn document(&self) -> ProblemDocument {
        let errors = match self {
            ApiError::ValidationFailed(errors) => Some(
                errors
                    .fields()
                    .iter()
                    .map(|e| FieldProblem {
                        field: e.field.clone(),
                        message: e.message.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        ProblemDocument {
            problem_type: "about:blank".into(),
            title: self.title().into(),
            status: self.status().as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors,
        }
    }

    fn to_response(&self) -> Response {
        let body = self
            .document()
            .to_json()
            .map(|json| json.to_string())
            .unwrap_or_default();
        let mut response = Response::builder()
            .status(self.status())
            .header(header::CONTENT_TYPE, PROBLEM_JSON)
            .body(body);
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after_seconds() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if matches!(self, ApiError::Unauthenticated) {
            // RFC 9110 §11.6.1 / RFC 6750 §3: tell the client which scheme to use.
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::MethodNotAllowed { allow: Some(allow) } = self
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            headers.insert(header::ALLOW, value);
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// Lets middleware and the bearer checker return an `ApiError` as a `poem::Error`; the
/// response is already the problem document.
impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        ApiError::status(self)
    }

    fn as_response(&self) -> Response {
        self.to_response()
    }
}

/// Declares problem responses in the OpenAPI document with the `Problem` schema and the
/// `application/problem+json` media type.
impl Payload for ApiError {
    const CONTENT_TYPE: &'static str = PROBLEM_JSON;

    fn schema_ref() -> MetaSchemaRef {
        ProblemDocument::schema_ref()
    }

    fn register(registry: &mut Registry) {
        ProblemDocument::register(registry);
    }
}
