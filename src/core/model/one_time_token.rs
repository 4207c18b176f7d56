//! Core layer: single-use tokens mailed to people (email verification, password reset, disowning an
//! authenticator app).

use chrono::{DateTime, Utc};

use super::{SecretDigest, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
    /// "This wasn't me": mailed when an authenticator app is turned on; with a new password it
    /// turns the app off again (docs/security.md).
    DisownTotp,
}

impl TokenPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::DisownTotp => "disown_totp",
        }
    }
}

/// A mailed token, stored only as the digest of its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct OneTimeToken {
    pub digest: SecretDigest,
    pub purpose: TokenPurpose,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
