//! Adapters layer: authenticator-app codes, implementing `core::ports::TotpEngine` with
//! totp-rs (RFC 6238) and sealing secrets with ChaCha20-Poly1305 under a server key (`sealing`).
//! May depend on the core, totp-rs, ring and rand.

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use rand::RngCore;
use totp_rs::{Algorithm, Builder, Totp};

use thiserror::Error;

use super::sealing::Sealer;
use crate::core::model::{SealedTotpSecret, TotpProvisioning};
use crate::core::ports::{TotpEngine, TotpError};

/// 160 bits, the length RFC 4226 §4 recommends (and the HMAC-SHA-1 output size).
const SECRET_BYTES: usize = 20;
/// RFC 6238 as every authenticator app implements it: SHA-1, 6 digits, 30-second steps, and
/// one step of tolerance either side for clocks that drift (RFC 6238 §5.2).
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
const SKEW_STEPS: u16 = 1;
/// Tags the ciphertext with its purpose, so a blob sealed for anything else never opens here.
const SEAL_CONTEXT: &[u8] = b"allomedia/totp-secret/v1";

/// The sealing key is not a ChaCha20-Poly1305 key.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("the TOTP sealing key must be 32 bytes, got {0}")]
pub struct TotpKeyLength(pub usize);

/// TOTP with secrets sealed (encrypted and authenticated) at rest: the store never holds a
/// secret that computes codes, and a sealed blob altered in the database fails to open.
pub struct SealedTotpEngine {
    sealer: Sealer,
    issuer: String,
}

impl SealedTotpEngine {
    /// `key` seals the secrets (32 bytes; derive it from the master secret for this purpose
    /// only); `issuer` names the service in authenticator apps.
    pub fn new(key: &[u8], issuer: &str) -> Result<Self, TotpKeyLength> {
        let sealer = Sealer::new(key, SEAL_CONTEXT).map_err(|_| TotpKeyLength(key.len()))?;
        Ok(Self {
            sealer,
            issuer: issuer.replace(':', " "),
        })
    }

    fn seal(&self, secret: &[u8]) -> Result<SealedTotpSecret, TotpError> {
        self.sealer
            .seal(secret)
            .map(SealedTotpSecret::from_bytes)
            .map_err(|error| TotpError(error.context("sealing a TOTP secret")))
    }

    fn open(&self, sealed: &SealedTotpSecret) -> Result<Vec<u8>, TotpError> {
        self.sealer
            .open(sealed.as_bytes())
            .map_err(|error| TotpError(error.context("opening a sealed TOTP secret")))
    }

    fn totp(&self, secret: Vec<u8>, account_label: &str) -> Result<Totp, TotpError> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_step_duration(STEP_SECONDS)
            .with_skew(SKEW_STEPS)
            .with_secret(secret)
            .with_issuer(Some(self.issuer.as_str()))
            // The otpauth label may not contain `:`; an email rarely does, but may.
            .with_account_name(account_label.replace(':', " "))
            .build()
            .map_err(|error| TotpError(anyhow!("building a TOTP: {error}")))
    }
}

impl std::fmt::Debug for SealedTotpEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedTotpEngine(<key redacted>)")
    }
}

impl TotpEngine for SealedTotpEngine {
    fn new_secret(&self) -> Result<SealedTotpSecret, TotpError> {
        let mut secret = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut secret);
        self.seal(&secret)
    }

    fn provisioning(
        &self,
        secret: &SealedTotpSecret,
        account_label: &str,
    ) -> Result<TotpProvisioning, TotpError> {
        let totp = self.totp(self.open(secret)?, account_label)?;
        let otpauth_uri = totp
            .to_url()
            .map_err(|error| TotpError(anyhow!("writing the otpauth URI: {error}")))?;
        let qr_png_base64 = totp
            .to_qr_base64()
            .map_err(|error| TotpError(anyhow!("drawing the QR code: {error}")))?;
        Ok(TotpProvisioning {
            secret_base32: totp.secret().to_base32(),
            otpauth_uri,
            qr_png_base64,
        })
    }

    fn verify(
        &self,
        secret: &SealedTotpSecret,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, TotpError> {
        let totp = self.totp(self.open(secret)?, "verify")?;
        let unix_seconds = u64::try_from(now.timestamp())
            .context("the clock is before 1970")
            .map_err(TotpError)?;
        Ok(totp.check(code, unix_seconds))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const KEY: &[u8; 32] = b"test totp sealing key, 32 bytes!";

    fn engine() -> SealedTotpEngine {
        SealedTotpEngine::new(KEY, "allomedia").unwrap()
    }

    /// The code an authenticator app shows at `unix_seconds`, from the base32 it was given.
    fn app_code(secret_base32: &str, unix_seconds: u64) -> String {
        let bytes = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
        Builder::new()
            .with_secret(bytes)
            .build()
            .unwrap()
            .generate(unix_seconds)
            .to_string()
    }

    #[test]
    fn a_sealed_secret_opens_to_twenty_bytes_that_are_not_stored_in_clear() {
        let engine = engine();
        let sealed = engine.new_secret().unwrap();
        let secret = engine.open(&sealed).unwrap();
        assert_eq!(secret.len(), SECRET_BYTES);
        assert!(!sealed.as_bytes().windows(SECRET_BYTES).any(|w| w == secret));
    }

    #[test]
    fn a_secret_altered_in_the_store_does_not_open() {
        let engine = engine();
        let mut bytes = engine.new_secret().unwrap().as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(engine.open(&SealedTotpSecret::from_bytes(bytes)).is_err());
    }

    #[test]
    fn a_secret_sealed_under_another_key_does_not_open() {
        let sealed = engine().new_secret().unwrap();
        let other = SealedTotpEngine::new(b"another sealing key of 32 bytes!", "x").unwrap();
        assert!(other.open(&sealed).is_err());
    }

    #[test]
    fn the_provisioning_uri_names_issuer_account_and_secret() {
        let engine = engine();
        let sealed = engine.new_secret().unwrap();
        let provisioning = engine.provisioning(&sealed, "amina@example.com").unwrap();
        assert!(
            provisioning
                .otpauth_uri
                .starts_with("otpauth://totp/allomedia:amina%40example.com?")
        );
        assert!(
            provisioning
                .otpauth_uri
                .contains(&format!("secret={}", provisioning.secret_base32))
        );
        assert_eq!(provisioning.secret_base32.len(), 32);
        assert!(!provisioning.qr_png_base64.is_empty());
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_not_two() {
        let engine = engine();
        let sealed = engine.new_secret().unwrap();
        let base32 = engine
            .provisioning(&sealed, "a@example.com")
            .unwrap()
            .secret_base32;
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let t = now.timestamp() as u64;
        let step = t / STEP_SECONDS;
        let verify = |code: &str| engine.verify(&sealed, code, now).unwrap();
        assert_eq!(verify(&app_code(&base32, t)), Some(step));
        assert_eq!(verify(&app_code(&base32, t - 30)), Some(step - 1));
        assert_eq!(verify(&app_code(&base32, t + 30)), Some(step + 1));
        assert_eq!(verify(&app_code(&base32, t - 60)), None);
        assert_eq!(verify(&app_code(&base32, t + 60)), None);
        assert_eq!(verify("abcdef"), None);
    }
}
