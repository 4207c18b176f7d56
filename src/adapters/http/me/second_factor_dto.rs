//! Adapters layer (HTTP): the JSON bodies of the signed-in user's second-factor operations.
//! Request bodies refuse unknown fields.

use poem_openapi::Object;

use crate::adapters::http::fields::Text;
use crate::core::model::TotpProvisioning;

/// What an authenticator app needs. Shown once: the secret is never readable again.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct TotpSetupView {
    /// The secret in base32, to type into the app by hand.
    pub secret: String,
    /// `otpauth://totp/…` URI, the content of the QR code.
    pub otpauth_uri: String,
    /// The QR code as a PNG image, standard base64 (`data:image/png;base64,` + this).
    pub qr_png_base64: String,
}

impl From<TotpProvisioning> for TotpSetupView {
    fn from(provisioning: TotpProvisioning) -> Self {
        Self {
            secret: provisioning.secret_base32,
            otpauth_uri: provisioning.otpauth_uri,
            qr_png_base64: provisioning.qr_png_base64,
        }
    }
}

/// A code from the authenticator app.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct TotpCodeBody {
    /// The 6 digits the app shows now.
    pub code: Text,
}

/// Proof of both factors, to turn the authenticator app off.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct DisableTotpBody {
    pub password: Text,
    /// The 6 digits the app shows now.
    pub code: Text,
}

/// The account password, to confirm a sensitive change.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordBody {
    pub password: Text,
}

/// Single-use recovery codes, shown once: store them somewhere safe.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct RecoveryCodesView {
    /// Each works once, at sign-in, instead of an authenticator code (`method:
    /// recovery_code`). Case, spaces and dashes do not matter.
    pub recovery_codes: Vec<String>,
}
