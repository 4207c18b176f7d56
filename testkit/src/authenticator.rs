//! Test support: an authenticator app — the codes a phone would show for a TOTP secret.

use chrono::{DateTime, Utc};
use totp_rs::{Builder, Secret};

/// The 6-digit code an RFC 6238 app (SHA-1, 30 s) shows at `at` for the base32 `secret`.
pub fn code_at(secret_base32: &str, at: DateTime<Utc>) -> String {
    Builder::new()
        .with_secret(Secret::try_from_base32(secret_base32).unwrap())
        .build()
        .unwrap()
        .generate(at.timestamp() as u64)
        .to_string()
}
