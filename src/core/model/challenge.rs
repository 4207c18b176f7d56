//! Core layer: login challenges — a correct password opens one, a second factor closes it.

use chrono::{DateTime, Utc};

use super::{ChallengeId, SecretDigest, UserId};

/// A way to pass the second step of a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// A 6-digit code mailed to the account's address.
    Email,
    /// A code from an authenticator app (RFC 6238), once the user has turned TOTP on.
    Totp,
    /// One of the single-use recovery codes given when TOTP was turned on.
    RecoveryCode,
}

impl SecondFactor {
    pub fn as_str(&self) -> &'static str {
        match self {
            SecondFactor::Email => "email",
            SecondFactor::Totp => "totp",
            SecondFactor::RecoveryCode => "recovery_code",
        }
    }

    /// The method named `text` in a request; `None` for a name we do not know.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Email, Self::Totp, Self::RecoveryCode]
            .into_iter()
            .find(|method| method.as_str() == text)
    }
}

/// The state between a correct password and a passed second factor.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginChallenge {
    pub id: ChallengeId,
    pub user_id: UserId,
    /// Keyed digest of the emailed code currently valid; a resend replaces it.
    pub code_digest: SecretDigest,
    /// When the current code was mailed, for the resend cooldown.
    pub code_sent_at: DateTime<Utc>,
    /// Attempts already judged, right or wrong.
    pub attempts: u32,
    pub expires_at: DateTime<Utc>,
    /// Set once, by the one attempt that passes.
    pub completed_at: Option<DateTime<Utc>>,
}
