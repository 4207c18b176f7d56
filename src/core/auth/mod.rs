//! Core layer: account-security use cases — registration, email verification, two-step login,
//! passwords and sessions. Talks to the world only through `crate::core::ports`.

mod devices;
mod login;
mod own_sessions;
mod password_change;
mod password_check;
mod password_reset;
mod registration;
mod second_factor;
mod sessions;
mod throttle;

use std::sync::Arc;

use super::audit::AuditTrail;
use super::model::{AccountStatus, Mail, Role, SessionId, User, UserId};
use super::policy::AuthPolicy;
use super::ports::{
    AccessTokens, AttemptThrottleStore, AuditLog, ChallengeStore, Clock, DeviceStore, Mailer,
    OneTimeTokenStore, PasswordHashing, SecondFactorStore, SecretDigester, SecretGenerator,
    SessionStore, TotpEngine, UserStore,
};

pub use devices::ForgetDeviceError;
pub use login::{
    LoginChallengeView, LoginError, LoginOutcome, LoginRequest, ResendCodeError, VerifyCodeError,
    VerifyCodeRequest,
};
pub use own_sessions::{EndSessionError, SessionView};
pub use password_change::{ChangePasswordError, ChangePasswordRequest};
pub(crate) use password_check::PasswordCheck;
pub use password_reset::{ResetPasswordError, ResetPasswordRequest};
pub use registration::{
    CreateManagerError, RegisterError, RegisterRequest, RegistrationFollowUp, VerifyEmailError,
};
pub use second_factor::{
    ConfirmTotpError, DisableTotpError, RegenerateRecoveryCodesError, SetUpTotpError,
};
pub use sessions::{AuthenticateError, RefreshError, SessionTokens};
pub use throttle::Throttled;

/// Everything the account use cases need from the world.
#[derive(Clone)]
pub struct AuthPorts {
    pub users: Arc<dyn UserStore>,
    pub tokens: Arc<dyn OneTimeTokenStore>,
    pub challenges: Arc<dyn ChallengeStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub throttles: Arc<dyn AttemptThrottleStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Arc<dyn SecretGenerator>,
    pub digester: Arc<dyn SecretDigester>,
    pub passwords: Arc<dyn PasswordHashing>,
    pub access_tokens: Arc<dyn AccessTokens>,
    pub second_factors: Arc<dyn SecondFactorStore>,
    pub totp: Arc<dyn TotpEngine>,
    pub devices: Arc<dyn DeviceStore>,
    pub audit: Arc<dyn AuditLog>,
}

/// The account-security use cases.
#[derive(Clone)]
pub struct AuthService {
    ports: AuthPorts,
    policy: AuthPolicy,
    audit: AuditTrail,
}

/// Who is calling, once their access token has been checked against a live session and
/// their account read: the role is the current one, not the one at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub role: Role,
}

impl AuthService {
    pub fn new(ports: AuthPorts, policy: AuthPolicy) -> Self {
        let audit = AuditTrail::new(Arc::clone(&ports.audit), Arc::clone(&ports.clock));
        Self {
            ports,
            policy,
            audit,
        }
    }

    /// The security-event log these use cases record into, for the other use cases that
    /// record account events (people administration) and for managers' listing.
    pub fn audit_trail(&self) -> &AuditTrail {
        &self.audit
    }

    pub fn policy(&self) -> &AuthPolicy {
        &self.policy
    }

    /// Whether `user` may act with a session right now. Suspension revokes sessions at once;
    /// this also covers a session opened just before its account was suspended.
    fn may_act(user: &User) -> bool {
        user.status == AccountStatus::Active
    }

    /// Sends a mail without letting its failure change the outcome of the request: the user
    /// can always ask for another one. The log names the kind of mail, never its secret.
    async fn send_mail(&self, mail: Mail) {
        let kind = mail.message.kind();
        if let Err(error) = self.ports.mailer.send(mail).await {
            let error = anyhow::Error::new(error);
            tracing::warn!(
                mail_kind = kind,
                error = format!("{error:#}"),
                "mail could not be sent"
            );
        }
    }
}
