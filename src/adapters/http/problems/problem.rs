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

use super::language::reader_language;
use crate::adapters::i18n;
use crate::core::model::{Locale, ValidationErrors};

/// The media type of every error body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// How long a client should wait after a `store_timeout`: long enough that retries do not
/// pile onto a store that is struggling, short enough for a brief hiccup.
const STORE_RETRY_AFTER_SECONDS: u64 = 5;

/// Client-supplied text echoed in a `detail` is cut to this many characters.
const MAX_ECHOED_CHARS: usize = 300;

/// A stable, machine-readable name for what went wrong. Clients branch on it; a published
/// code never changes meaning.
// Published as an enum in this order; each code's status is `ProblemCode::status`, its words
// are in `locales/<tag>/problems.ftl`.
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
/// and default detail, see `ProblemCode::status` and `locales/<tag>/problems.ftl`).
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

impl ProblemCode {
    /// A code's status, one per code: a code never changes its status. Its title and detail
    /// are words, in `locales/<tag>/problems.ftl` as `problem-<code>-title` / `-detail`.
    fn status(self) -> StatusCode {
        use StatusCode as S;
        match self {
            ProblemCode::MalformedRequest => S::BAD_REQUEST,
            ProblemCode::InvalidToken => S::BAD_REQUEST,
            ProblemCode::Unauthenticated => S::UNAUTHORIZED,
            ProblemCode::InvalidCredentials => S::UNAUTHORIZED,
            ProblemCode::WrongPassword => S::FORBIDDEN,
            ProblemCode::InvalidCode => S::UNAUTHORIZED,
            ProblemCode::InvalidRefreshToken => S::UNAUTHORIZED,
            ProblemCode::AccountPendingApproval => S::FORBIDDEN,
            ProblemCode::AccountSuspended => S::FORBIDDEN,
            ProblemCode::Forbidden => S::FORBIDDEN,
            ProblemCode::NotFound => S::NOT_FOUND,
            ProblemCode::LastActiveManager => S::CONFLICT,
            ProblemCode::MethodNotAllowed => S::METHOD_NOT_ALLOWED,
            ProblemCode::PayloadTooLarge => S::PAYLOAD_TOO_LARGE,
            ProblemCode::ValidationFailed => S::UNPROCESSABLE_ENTITY,
            ProblemCode::TooManyAttempts => S::TOO_MANY_REQUESTS,
            ProblemCode::LoginThrottled => S::TOO_MANY_REQUESTS,
            ProblemCode::SecondFactorThrottled => S::TOO_MANY_REQUESTS,
            ProblemCode::ResendTooSoon => S::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited => S::TOO_MANY_REQUESTS,
            ProblemCode::TotpAlreadyEnabled => S::CONFLICT,
            ProblemCode::TotpNotEnabled => S::CONFLICT,
            ProblemCode::TotpNotSetUp => S::CONFLICT,
            ProblemCode::InvalidTransition => S::CONFLICT,
            ProblemCode::OrderNotAssignable => S::CONFLICT,
            ProblemCode::InvalidDeliveryCode => S::UNPROCESSABLE_ENTITY,
            ProblemCode::DeliveryCodeLocked => S::CONFLICT,
            ProblemCode::Conflict => S::CONFLICT,
            ProblemCode::InternalError => S::INTERNAL_SERVER_ERROR,
            ProblemCode::StoreUnavailable => S::SERVICE_UNAVAILABLE,
            ProblemCode::StoreTimeout => S::SERVICE_UNAVAILABLE,
        }
    }

    /// The code as published (`invalid_token`), which names its messages.
    fn name(self) -> String {
        serde_json::to_value(self.to_json())
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    fn title(self, locale: Locale) -> String {
        i18n::message(locale, &format!("problem-{}-title", self.name()))
    }

    /// What a client reads unless the occurrence says more.
    fn detail(self, locale: Locale) -> String {
        i18n::message(locale, &format!("problem-{}-detail", self.name()))
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
        self.code().status()
    }

    /// The code's detail in `locale`, with what this occurrence adds to it.
    fn detail(&self, locale: Locale) -> String {
        let detail = self.code().detail(locale);
        match self {
            ApiError::MalformedRequest { reason } => {
                let reason: String = reason.chars().take(MAX_ECHOED_CHARS).collect();
                format!("{detail}: {reason}")
            }
            _ => detail,
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

    /// The problem document, in the language of the request being answered
    /// (`ReaderLanguage`).
    pub fn document(&self) -> ProblemDocument {
        let locale = reader_language();
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
            title: self.code().title(locale),
            status: self.status().as_u16(),
            detail: self.detail(locale),
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
            .header(header::CONTENT_LANGUAGE, reader_language().tag())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every published code, read from the schema the spec publishes.
    fn published_codes() -> Vec<String> {
        let mut registry = Registry::new();
        ProblemCode::register(&mut registry);
        registry.schemas["ProblemCode"]
            .enum_items
            .iter()
            .map(|item| item.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn every_code_has_a_title_and_a_detail_in_every_language() {
        let codes = published_codes();
        assert_eq!(codes.len(), 31);
        for code in codes {
            for locale in Locale::ALL {
                for part in ["title", "detail"] {
                    let text = i18n::message(locale, &format!("problem-{code}-{part}"));
                    assert!(
                        !text.is_empty() && !text.starts_with("Unknown localization key"),
                        "{locale}: {code} has no {part}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_code_reads_in_the_language_asked_for_and_its_name_never_changes() {
        let english = ApiError::InvalidToken.document();
        assert_eq!(english.title, "Invalid or expired link");
        assert_eq!(ProblemCode::InvalidToken.name(), "invalid_token");
        assert_eq!(
            ProblemCode::InvalidToken.title(Locale::Fr),
            "Lien invalide ou expiré"
        );
        assert_eq!(ProblemCode::InvalidToken.status(), StatusCode::BAD_REQUEST);
    }
}
