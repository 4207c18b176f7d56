//! Core layer: the second factors beyond the emailed code — an authenticator app (TOTP) and
//! single-use recovery codes.

use chrono::{DateTime, Utc};

use super::UserId;

/// A TOTP secret as the store keeps it: sealed (encrypted and authenticated) by the TOTP
/// engine, so a stolen database does not let anyone compute a user's codes. Only the engine
/// can open it; the core just carries it between the engine and the store.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedTotpSecret(Vec<u8>);

impl SealedTotpSecret {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SealedTotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedTotpSecret(<redacted>)")
    }
}

/// A user's authenticator-app enrolment: pending from setup until a first code confirms it.
#[derive(Debug, Clone, PartialEq)]
pub struct TotpEnrolment {
    pub user_id: UserId,
    pub secret: SealedTotpSecret,
    pub created_at: DateTime<Utc>,
    /// Set when a first valid code turned it on; `None` while pending.
    pub enabled_at: Option<DateTime<Utc>>,
    /// The newest RFC 6238 time step accepted for this user; only a greater one is accepted
    /// next, so no code is ever accepted twice (RFC 6238 §5.2).
    pub last_used_step: Option<u64>,
}

impl TotpEnrolment {
    pub fn is_enabled(&self) -> bool {
        self.enabled_at.is_some()
    }
}

/// What a user needs to add the secret to their authenticator app, shown once, at setup.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpProvisioning {
    /// The secret in base32, for typing it in by hand.
    pub secret_base32: String,
    /// The `otpauth://totp/...` URI (Key Uri Format) the QR code encodes.
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, a PNG image in standard base64.
    pub qr_png_base64: String,
}

impl std::fmt::Debug for TotpProvisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpProvisioning(<redacted>)")
    }
}
