//! Core layer: what the service tells people by mail. Adapters decide how it looks.

use chrono::{DateTime, Utc};

use super::{Email, Locale, User};

/// One mail to one person.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub to: Email,
    pub to_name: String,
    /// The language the recipient reads: the account's, or for someone without one, the
    /// language of the request that caused the mail.
    pub locale: Locale,
    pub message: MailMessage,
}

impl Mail {
    /// `message` to the owner of `user`, in the account's language.
    pub fn to_user(user: &User, message: MailMessage) -> Self {
        Self {
            to: user.email.clone(),
            to_name: user.name.to_string(),
            locale: user.locale,
            message,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MailMessage {
    /// Confirms ownership of the address; the adapter builds the link from the token.
    VerifyEmail { token: String, valid_hours: i64 },
    /// Someone tried to register with an address that already has an account.
    RegistrationAttempt,
    /// The second step of a login.
    LoginCode { code: String, valid_minutes: i64 },
    /// One of the account's recovery codes was just used to sign in; how many are left.
    RecoveryCodeUsed { remaining: u64 },
    /// A password-reset token, for someone who forgot their password.
    PasswordReset { token: String, valid_minutes: i64 },
    /// The account's password was just changed or reset: its owner hears of it either way.
    PasswordChanged,
    /// An authenticator app was just turned on for the account. If it was not its owner, the
    /// token — with a new password — turns it off again (`POST /auth/2fa/totp/disown`).
    TotpEnabled {
        disown_token: String,
        valid_hours: i64,
    },
    /// The authenticator app was turned off; the emailed code is the second factor again.
    TotpDisabled,
    /// New recovery codes were made; the old ones no longer work.
    RecoveryCodesRegenerated,
    /// An order reached the client: what they received and what it cost.
    OrderReceipt(OrderReceipt),
}

/// The receipt of a delivered order, in the terms of the order (copied prices, its currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderReceipt {
    pub order_id: String,
    pub lines: Vec<ReceiptLine>,
    pub total_cents: i64,
    pub currency: String,
    pub delivered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub name: String,
    pub quantity: u32,
    pub unit_price_cents: i64,
    pub line_total_cents: i64,
}

impl MailMessage {
    /// A name for logs and metrics that never includes the secret.
    pub fn kind(&self) -> &'static str {
        match self {
            MailMessage::VerifyEmail { .. } => "verify_email",
            MailMessage::RegistrationAttempt => "registration_attempt",
            MailMessage::LoginCode { .. } => "login_code",
            MailMessage::RecoveryCodeUsed { .. } => "recovery_code_used",
            MailMessage::PasswordReset { .. } => "password_reset",
            MailMessage::PasswordChanged => "password_changed",
            MailMessage::TotpEnabled { .. } => "totp_enabled",
            MailMessage::TotpDisabled => "totp_disabled",
            MailMessage::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            MailMessage::OrderReceipt(_) => "order_receipt",
        }
    }
}
