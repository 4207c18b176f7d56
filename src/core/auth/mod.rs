//! Core layer: account-security use cases — registration, email verification, two-step login,
//! sessions, passwords, second factors and remembered devices. Talks to the world only through
//! `crate::core::ports`.
//!
//! One service per job, each holding only the ports it uses:
//! - `Registration` (`registration.rs`): register, verify the email, provision a manager;
//! - `SignIn` (`login.rs`): the password step, the second-factor step, a new emailed code;
//! - `Sessions` (`sessions.rs`): refresh, authenticate, sign out, the user's own sessions;
//! - `PasswordRecovery` (`password_reset.rs`) and `PasswordChange` (`password_change.rs`);
//! - `SecondFactorSettings` (`second_factor.rs`): the authenticator app and recovery codes;
//! - `RememberedDevices` (`devices.rs`).
//!
//! They share small collaborators: the `Throttle` (per account and client network), the
//! `PasswordChecker` for a password typed again, the `SecondFactorCodes`, the `SessionIssuer`,
//! `VerificationLinks` (mailing a confirmation link), `CredentialChange` (what a new password
//! voids), and — from the rest of the core — the `Notifier` and the `AuditTrail`.

mod credential_change;
mod devices;
mod login;
mod password_change;
mod password_check;
mod password_reset;
mod registration;
mod second_factor;
mod second_factor_codes;
mod session_tokens;
mod sessions;
mod throttle;
mod verification_links;

pub use credential_change::CredentialChange;
pub use devices::{ForgetDeviceError, RememberedDevices};
pub use login::{
    LoginChallengeView, LoginError, LoginOutcome, LoginRequest, ResendCodeError, SignIn,
    SignInPorts, VerifyCodeError, VerifyCodeRequest,
};
pub use password_change::{ChangePasswordError, ChangePasswordRequest, PasswordChange};
pub use password_check::{PasswordCheck, PasswordChecker};
pub use password_reset::{
    PasswordRecovery, PasswordRecoveryPorts, ResetPasswordError, ResetPasswordRequest,
};
pub use registration::{
    CreateManagerError, RegisterError, RegisterRequest, Registration, RegistrationFollowUp,
    RegistrationPorts, VerifyEmailError,
};
pub use second_factor::{
    ConfirmTotpError, DisableTotpError, RegenerateRecoveryCodesError, SecondFactorSettings,
    SecondFactorSettingsPorts, SetUpTotpError,
};
pub use second_factor_codes::SecondFactorCodes;
pub use session_tokens::{SessionIssuer, SessionTokens};
pub use sessions::{AuthenticateError, EndSessionError, RefreshError, SessionView, Sessions};
pub use throttle::{Throttle, Throttled};
pub use verification_links::VerificationLinks;
