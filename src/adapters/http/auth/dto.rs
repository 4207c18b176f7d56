//! Adapters layer (HTTP): the JSON bodies of the `Auth` operations and their translation to and
//! from the core's requests and results. Request bodies refuse unknown fields, so nothing
//! (`role`, `status`, `email_verified`…) can be smuggled into a write.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object, Union};
use uuid::Uuid;

use crate::adapters::http::fields::Optional;
use crate::adapters::http::fields::Text;
use crate::core::auth::{
    LoginChallengeView, LoginRequest, RegisterRequest, SessionTokens, VerifyCodeRequest,
};
use crate::core::model::{ClientInfo, Locale, Role, SecondFactor};

/// A role a person may give themselves when registering.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum SelfServiceRole {
    /// Orders deliveries. Active as soon as the email is verified.
    Client,
    /// Delivers orders. Waits for a manager's approval after verifying the email.
    Courier,
}

impl SelfServiceRole {
    fn as_core(self) -> Role {
        match self {
            SelfServiceRole::Client => Role::Client,
            SelfServiceRole::Courier => Role::Courier,
        }
    }
}

/// A new account.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RegisterBody {
    /// How the person wants to be called; 1 to 100 characters.
    pub name: Text,
    /// Trimmed and compared case-insensitively: one account per address.
    pub email: Text,
    /// 8 to 128 characters, and not easy to guess (common passwords and ones built from the
    /// name or email are refused). Long passphrases are welcome.
    pub password: Text,
    /// `client` when absent.
    pub role: Optional<SelfServiceRole>,
    /// 6 to 20 digits, optionally with a leading `+` and spaces, dots or dashes.
    pub phone: Optional<Text>,
}

impl RegisterBody {
    pub fn into_request(self, client: ClientInfo, locale: Locale) -> RegisterRequest {
        RegisterRequest {
            name: self.name.into(),
            email: self.email.into(),
            password: self.password.into(),
            role: self
                .role
                .into_option()
                .map(|role| role.as_core().as_str().to_owned()),
            phone: self.phone.into_option().map(String::from),
            locale,
            client,
        }
    }
}

/// A token from a verification mail.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct VerifyEmailBody {
    pub token: Text,
}

/// An address that may need a new verification mail.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ResendVerificationBody {
    pub email: Text,
}

/// The first step of signing in.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct LoginBody {
    pub email: Text,
    pub password: Text,
    /// The `device_token` a previous `/auth/2fa/verify` with `remember_device` returned. When
    /// it is a live remembered device of this account, the login answers 200 with tokens at
    /// once; otherwise it is ignored and the login asks for the second factor as usual.
    pub device_token: Optional<Text>,
}

impl LoginBody {
    pub fn into_request(self, client: ClientInfo) -> LoginRequest {
        LoginRequest {
            email: self.email.into(),
            password: self.password.into(),
            device_token: self.device_token.into_option().map(String::from),
            client,
        }
    }
}

/// A way to pass the second step of signing in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// The 6-digit code mailed to the account's address.
    Email,
    /// The 6-digit code of the authenticator app (RFC 6238), once TOTP is on.
    Totp,
    /// One of the single-use recovery codes given when TOTP was turned on.
    RecoveryCode,
}

impl From<SecondFactor> for SecondFactorMethod {
    fn from(factor: SecondFactor) -> Self {
        match factor {
            SecondFactor::Email => SecondFactorMethod::Email,
            SecondFactor::Totp => SecondFactorMethod::Totp,
            SecondFactor::RecoveryCode => SecondFactorMethod::RecoveryCode,
        }
    }
}

impl SecondFactorMethod {
    fn as_core(self) -> SecondFactor {
        match self {
            SecondFactorMethod::Email => SecondFactor::Email,
            SecondFactorMethod::Totp => SecondFactor::Totp,
            SecondFactorMethod::RecoveryCode => SecondFactor::RecoveryCode,
        }
    }
}

/// A correct password: the login waits for its second factor.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct LoginChallengeBody {
    /// Identifies this login in `/auth/2fa/verify` and `/auth/2fa/resend`.
    pub challenge_id: Uuid,
    /// The second factors this login accepts.
    pub methods: Vec<SecondFactorMethod>,
    /// After this instant the login must start again.
    pub expires_at: DateTime<Utc>,
}

impl From<LoginChallengeView> for LoginChallengeBody {
    fn from(view: LoginChallengeView) -> Self {
        LoginChallengeBody {
            challenge_id: view.challenge_id.as_uuid(),
            methods: view.methods.into_iter().map(Into::into).collect(),
            expires_at: view.expires_at,
        }
    }
}

/// The second step of signing in.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct VerifyCodeBody {
    pub challenge_id: Uuid,
    /// The code as received.
    pub code: Text,
    /// `email` when absent.
    pub method: Optional<SecondFactorMethod>,
    /// Remember this device for 30 days: the answer then carries a `device_token` that lets
    /// later logins of this account, with the password, skip the second factor.
    pub remember_device: Optional<bool>,
}

impl VerifyCodeBody {
    pub fn into_request(self, client: ClientInfo) -> VerifyCodeRequest {
        VerifyCodeRequest {
            challenge_id: self.challenge_id.to_string(),
            code: self.code.into(),
            method: self
                .method
                .into_option()
                .map(|method| method.as_core().as_str().to_owned()),
            remember_device: self.remember_device.into_option().unwrap_or(false),
            client,
        }
    }
}

/// A login waiting for its second factor.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ResendCodeBody {
    pub challenge_id: Uuid,
}

/// A refresh token to exchange.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: Text,
}

/// The tokens of a session.
#[derive(Object)]
pub struct TokensBody {
    /// Send as `Authorization: Bearer <access_token>`. Short-lived.
    pub access_token: String,
    /// Exchange at `/auth/refresh` for new tokens; each one works once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Only after a second factor passed with `remember_device`: present it as
    /// `device_token` at `/auth/login` to skip the second factor for 30 days. Shown once.
    #[oai(skip_serializing_if_is_none)]
    pub device_token: Option<String>,
}

impl TokensBody {
    /// `now` comes from the same clock that dated the access token.
    pub fn new(tokens: SessionTokens, now: DateTime<Utc>) -> Self {
        let expires_in = (tokens.access_expires_at - now).num_seconds().max(0);
        TokensBody {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: "Bearer".into(),
            expires_in: u64::try_from(expires_in).unwrap_or_default(),
            device_token: tokens.device_token,
        }
    }
}

/// What a correct password gets: the session's tokens (200, a remembered device) or a login
/// waiting for its second factor (202). The status says which, and so do the fields
/// (`access_token` or `challenge_id`).
// One schema for both statuses, as a `oneOf`: client generators that want one success type per
// operation (progenitor) refuse an operation whose 200 and 202 publish different bodies. The
// bytes on the wire are the variant's own body, unwrapped.
#[derive(Union)]
#[oai(one_of)]
pub enum LoginAnswerBody {
    Tokens(TokensBody),
    Challenge(LoginChallengeBody),
}

/// A sentence for people.
#[derive(Object, Debug, Clone, PartialEq, Eq)]
pub struct MessageBody {
    pub message: String,
}

impl MessageBody {
    pub fn new(message: &str) -> Self {
        MessageBody {
            message: message.into(),
        }
    }
}
