//! Core layer: the two-step login — password, then a second factor (an emailed code, an
//! authenticator-app code or a recovery code). This is where signing in decides; it talks to
//! the world only through the ports it holds.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::password_check::MAX_CANDIDATE_PASSWORD_BYTES;
use super::second_factor_codes::SecondFactorCodes;
use super::session_tokens::{SessionIssuer, SessionTokens};
use super::throttle::{PasswordSource, Throttle};
use super::verification_links::VerificationLinks;
use crate::core::audit::AuditTrail;
use crate::core::model::{
    AccountStatus, AuditKind, ChallengeId, ClientInfo, DeviceId, Email, LoginChallenge, Mail,
    MailMessage, RememberedDevice, SecondFactor, SecretDigest, User, UserId,
};
use crate::core::notifier::Notifier;
use crate::core::policy::AuthPolicy;
use crate::core::ports::{
    AttemptOutcome, ChallengeStore, Clock, DeviceStore, PasswordHashing, ReplaceCodeOutcome,
    SecretDigester, SecretGenerator, UserStore,
};
use crate::core::unexpected::port_failures_are_unexpected;

/// Device tokens are 43 characters; anything much longer is not one of ours.
const MAX_DEVICE_TOKEN_BYTES: usize = 256;

#[derive(Debug, Clone, Default)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// A remembered device's token, which skips the second factor when it is a live device of
    /// this very user; anything else is ignored and the login asks for the second factor.
    pub device_token: Option<String>,
    pub client: ClientInfo,
}

/// Where a correct password leads.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// The second factor is next.
    Challenge(LoginChallengeView),
    /// A remembered device of this user vouched for the second factor: a session is open.
    SignedIn(SessionTokens),
}

/// The open challenge a correct password leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginChallengeView {
    pub challenge_id: ChallengeId,
    pub methods: Vec<SecondFactor>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Error)]
pub enum LoginError {
    /// Unknown email, wrong password, or an address not yet verified — deliberately not
    /// told apart.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account pending approval")]
    PendingApproval,
    #[error("account suspended")]
    Suspended,
    /// Too many wrong passwords for this email lately; nothing was judged.
    #[error("login throttled")]
    Throttled { retry_after_seconds: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Clone, Default)]
pub struct VerifyCodeRequest {
    pub challenge_id: String,
    pub code: String,
    /// `email` when absent.
    pub method: Option<String>,
    /// Remember this device: the tokens then carry a `device_token` for later logins.
    pub remember_device: bool,
    pub client: ClientInfo,
}

#[derive(Debug, Error)]
pub enum VerifyCodeError {
    /// Wrong code, or an unknown, expired or completed challenge — not told apart.
    #[error("invalid code")]
    InvalidCode,
    /// The challenge has used all its attempts; the user must log in again.
    #[error("too many attempts")]
    TooManyAttempts,
    /// Too many wrong codes for this account lately, across its challenges; nothing was judged.
    #[error("second factor throttled")]
    Throttled { retry_after_seconds: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Error)]
pub enum ResendCodeError {
    /// Unknown, expired, completed or burned challenge.
    #[error("invalid challenge")]
    InvalidChallenge,
    #[error("a code was sent recently")]
    TooSoon { retry_after_seconds: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(LoginError, VerifyCodeError, ResendCodeError);

/// Signing in: the password step, the second-factor step, and mailing a new code.
#[derive(Clone)]
pub struct SignIn {
    users: Arc<dyn UserStore>,
    challenges: Arc<dyn ChallengeStore>,
    devices: Arc<dyn DeviceStore>,
    passwords: Arc<dyn PasswordHashing>,
    secrets: Arc<dyn SecretGenerator>,
    digester: Arc<dyn SecretDigester>,
    clock: Arc<dyn Clock>,
    codes: SecondFactorCodes,
    throttle: Throttle,
    issuer: SessionIssuer,
    verification: VerificationLinks,
    notifier: Notifier,
    audit: AuditTrail,
    policy: AuthPolicy,
}

/// The ports signing in uses, besides the shared collaborators.
#[derive(Clone)]
pub struct SignInPorts {
    pub users: Arc<dyn UserStore>,
    pub challenges: Arc<dyn ChallengeStore>,
    pub devices: Arc<dyn DeviceStore>,
    pub passwords: Arc<dyn PasswordHashing>,
    pub secrets: Arc<dyn SecretGenerator>,
    pub digester: Arc<dyn SecretDigester>,
    pub clock: Arc<dyn Clock>,
}

impl SignIn {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ports: SignInPorts,
        codes: SecondFactorCodes,
        throttle: Throttle,
        issuer: SessionIssuer,
        verification: VerificationLinks,
        notifier: Notifier,
        audit: AuditTrail,
        policy: AuthPolicy,
    ) -> Self {
        let SignInPorts {
            users,
            challenges,
            devices,
            passwords,
            secrets,
            digester,
            clock,
        } = ports;
        Self {
            users,
            challenges,
            devices,
            passwords,
            secrets,
            digester,
            clock,
            codes,
            throttle,
            issuer,
            verification,
            notifier,
            audit,
            policy,
        }
    }

    /// Checks the password and, when it is right and the account may sign in, opens a
    /// challenge and mails its code. Unknown emails cost a full hash verification too, so
    /// neither the answer nor its timing says whether an account exists; account-state
    /// errors come only after a correct password. An unverified address answers exactly like
    /// a wrong password — the same error, the same throttle count, nothing cleared — and a
    /// correct password on it quietly re-mails the confirmation link to the address itself:
    /// registering an address and then signing in with it must not tell whether it was free.
    ///
    /// A live remembered device of this user skips the second factor and is throttled on its
    /// own, so an owner's device is judged even while the account is throttled for others;
    /// any other device token (unknown, expired, forgotten, another user's) is ignored
    /// without a word, so it reveals nothing. Presenting a live device marks it used, whatever
    /// the password.
    ///
    /// Each attempt is reserved in the throttle (per client network, and per account with a
    /// higher ceiling) before the hash is verified, so parallel guesses cannot exceed the
    /// limit, and a locked-out client is refused — even with the right password — without
    /// verifying anything. A right password clears its network's (or device's) count.
    pub async fn login(&self, request: LoginRequest) -> Result<LoginOutcome, LoginError> {
        let user = match Email::parse(&request.email) {
            Ok(email) => self.users.user_by_email(&email).await?,
            Err(_) => None,
        };
        let user_id = user.as_ref().map(|user| user.id);
        let device = match (&user, request.device_token.as_deref()) {
            (Some(user), Some(token)) => self.use_remembered_device(user, token).await?,
            _ => None,
        };
        let source = match &device {
            Some(device) => PasswordSource::RememberedDevice(device),
            None => PasswordSource::Client(&request.client),
        };
        let attempt = match self
            .throttle
            .reserve_password_attempt(&request.email, source)
            .await?
        {
            Ok(attempt) => attempt,
            Err(throttled) => {
                let throttled_login = AuditKind::Throttled.concerning(user_id).detail("password");
                self.audit.record(throttled_login, &request.client).await;
                return Err(LoginError::Throttled {
                    retry_after_seconds: throttled.retry_after_seconds,
                });
            }
        };
        let candidate = if request.password.len() > MAX_CANDIDATE_PASSWORD_BYTES {
            ""
        } else {
            request.password.as_str()
        };
        let hash = user
            .as_ref()
            .map_or(self.passwords.dummy_hash(), |u| &u.password_hash);
        let matches = self.passwords.verify(candidate, hash).await?;
        let user = match user {
            Some(user) if matches && !candidate.is_empty() => user,
            _ => {
                let failed = AuditKind::LoginFailed.concerning(user_id);
                self.audit.record(failed, &request.client).await;
                return Err(LoginError::InvalidCredentials);
            }
        };
        if !user.email_verified() {
            // The throttle is not cleared: its count must not tell a right password either.
            let refused = AuditKind::LoginRefused
                .about(user.id)
                .detail(SignInRefusal::EmailNotVerified.as_str());
            self.audit.record(refused, &request.client).await;
            self.verification.send(&user).await?;
            return Err(LoginError::InvalidCredentials);
        }
        self.throttle.clear_password_attempt(&attempt).await?;
        if let Err(refusal) = ensure_may_sign_in(&user) {
            let refused = AuditKind::LoginRefused
                .about(user.id)
                .detail(refusal.as_str());
            self.audit.record(refused, &request.client).await;
            return Err(refusal.into());
        }
        if device.is_some() {
            let signed_in = AuditKind::LoginSucceeded
                .about(user.id)
                .detail("remembered_device");
            self.audit.record(signed_in, &request.client).await;
            let tokens = self.issuer.open(&user, request.client).await?;
            return Ok(LoginOutcome::SignedIn(tokens));
        }
        let challenge = self.open_challenge(&user).await?;
        let challenged = AuditKind::LoginSucceeded.about(user.id).detail("challenge");
        self.audit.record(challenged, &request.client).await;
        Ok(LoginOutcome::Challenge(challenge))
    }

    /// The digest of `token` if it is a live remembered device of `user`; marks it used if so.
    async fn use_remembered_device(
        &self,
        user: &User,
        token: &str,
    ) -> Result<Option<SecretDigest>, LoginError> {
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_DEVICE_TOKEN_BYTES {
            return Ok(None);
        }
        let digest = self.digester.digest(&RememberedDevice::token_text(token));
        let now = self.clock.now();
        let live = self.devices.use_device(user.id, &digest, now).await?;
        Ok(live.then_some(digest))
    }

    /// Remembers the device that just passed the second factor; returns its token, which
    /// exists only in the client's hands from now on.
    async fn remember_device(
        &self,
        user: &User,
        client: ClientInfo,
    ) -> Result<String, anyhow::Error> {
        let now = self.clock.now();
        let token = self.secrets.url_token();
        let device = RememberedDevice {
            id: DeviceId::new(),
            user_id: user.id,
            token_digest: self.digester.digest(&RememberedDevice::token_text(&token)),
            created_at: now,
            last_used_at: None,
            expires_at: now + self.policy.remembered_device_ttl,
            client,
        };
        self.devices.insert_device(&device).await?;
        Ok(token)
    }

    async fn open_challenge(&self, user: &User) -> Result<LoginChallengeView, LoginError> {
        let now = self.clock.now();
        let id = ChallengeId::new();
        let methods = self.second_factors_of(user).await?;
        // With an authenticator app on, the code is drawn and digested but never mailed:
        // nobody knows it, and `judge` refuses the emailed method anyway.
        let code = self.secrets.numeric_code(self.policy.login_code_digits);
        let challenge = LoginChallenge {
            id,
            user_id: user.id,
            code_digest: self.digester.digest(&login_code_text(id, &code)),
            code_sent_at: now,
            attempts: 0,
            expires_at: now + self.policy.login_code_ttl,
            completed_at: None,
        };
        self.challenges.insert_challenge(&challenge).await?;
        if methods.contains(&SecondFactor::Email) {
            self.mail_code(user, code).await;
        }
        Ok(LoginChallengeView {
            challenge_id: id,
            methods,
            expires_at: challenge.expires_at,
        })
    }

    /// The ways `user` can pass the second step: the emailed code until an authenticator
    /// app is on; then the app, and recovery codes while some are left — no longer the
    /// mailbox, or TOTP would add nothing against a mailbox takeover.
    async fn second_factors_of(&self, user: &User) -> Result<Vec<SecondFactor>, anyhow::Error> {
        if !self.codes.totp_enabled(user.id).await? {
            return Ok(vec![SecondFactor::Email]);
        }
        let mut methods = vec![SecondFactor::Totp];
        if self.codes.unused_recovery_codes(user.id).await? > 0 {
            methods.push(SecondFactor::RecoveryCode);
        }
        Ok(methods)
    }

    /// Passes the second factor and opens a session. Every attempt is counted in the store
    /// before the code is judged, so concurrent guesses cannot exceed the limit, and exactly
    /// one of several concurrent right answers wins.
    pub async fn verify_code(
        &self,
        request: VerifyCodeRequest,
    ) -> Result<SessionTokens, VerifyCodeError> {
        let Ok(challenge_id) = request.challenge_id.trim().parse::<ChallengeId>() else {
            return Err(VerifyCodeError::InvalidCode);
        };
        let now = self.clock.now();
        let outcome = self
            .challenges
            .count_attempt(challenge_id, self.policy.login_code_max_attempts, now)
            .await?;
        let challenge = match outcome {
            AttemptOutcome::Counted(challenge) => challenge,
            AttemptOutcome::Exhausted => {
                let burned = self.challenges.challenge(challenge_id).await?;
                let exhausted = AuditKind::Throttled
                    .concerning(burned.map(|challenge| challenge.user_id))
                    .detail("challenge_attempts");
                self.audit.record(exhausted, &request.client).await;
                return Err(VerifyCodeError::TooManyAttempts);
            }
            AttemptOutcome::Closed => return Err(VerifyCodeError::InvalidCode),
        };
        let user_id = challenge.user_id;
        if let Err(throttled) = self.throttle.reserve_second_factor_attempt(user_id).await? {
            let throttled_code = AuditKind::Throttled.about(user_id).detail("second_factor");
            self.audit.record(throttled_code, &request.client).await;
            return Err(VerifyCodeError::Throttled {
                retry_after_seconds: throttled.retry_after_seconds,
            });
        }
        let method = match request.method.as_deref() {
            None => Some(SecondFactor::Email),
            Some(name) => SecondFactor::parse(name.trim()),
        };
        let Some(method) = method else {
            let failed = AuditKind::SecondFactorFailed
                .about(user_id)
                .detail("method=unknown");
            self.audit.record(failed, &request.client).await;
            return Err(VerifyCodeError::InvalidCode);
        };
        let method_detail = format!("method={}", method.as_str());
        if !self.judge(method, &challenge, &request.code).await? {
            let failed = AuditKind::SecondFactorFailed
                .about(user_id)
                .detail(method_detail);
            self.audit.record(failed, &request.client).await;
            return Err(VerifyCodeError::InvalidCode);
        }
        self.throttle.clear_second_factor(user_id).await?;
        if method == SecondFactor::RecoveryCode {
            let used = AuditKind::RecoveryCodeUsed.about(user_id);
            self.audit.record(used, &request.client).await;
            self.mail_recovery_code_used(user_id).await?;
        }
        let won = self
            .challenges
            .complete_challenge(challenge_id, now)
            .await?;
        if !won {
            return Err(VerifyCodeError::InvalidCode);
        }
        // The account may have been suspended while the code was in the mail.
        let user = self
            .users
            .user_by_id(user_id)
            .await?
            .ok_or(VerifyCodeError::InvalidCode)?;
        if let Err(refusal) = ensure_may_sign_in(&user) {
            let refused = AuditKind::LoginRefused
                .about(user_id)
                .detail(refusal.as_str());
            self.audit.record(refused, &request.client).await;
            return Err(VerifyCodeError::InvalidCode);
        }
        let mut tokens = self.issuer.open(&user, request.client.clone()).await?;
        let passed = if request.remember_device {
            tokens.device_token = Some(self.remember_device(&user, request.client.clone()).await?);
            format!("{method_detail} remembered_device")
        } else {
            method_detail
        };
        let passed = AuditKind::SecondFactorPassed.about(user_id).detail(passed);
        self.audit.record(passed, &request.client).await;
        Ok(tokens)
    }

    /// Whether `code` passes `method` for the challenge's user. TOTP steps and recovery codes
    /// are used up here, atomically in the store, so each is accepted at most once.
    async fn judge(
        &self,
        method: SecondFactor,
        challenge: &LoginChallenge,
        code: &str,
    ) -> Result<bool, anyhow::Error> {
        let user_id = challenge.user_id;
        match method {
            SecondFactor::Email => {
                if self.codes.totp_enabled(user_id).await? {
                    return Ok(false);
                }
                let submitted = self
                    .digester
                    .digest(&login_code_text(challenge.id, code.trim()));
                Ok(submitted == challenge.code_digest)
            }
            SecondFactor::Totp => match self.codes.enabled_totp(user_id).await? {
                Some(enrolment) => {
                    self.codes
                        .accept_totp_code(user_id, &enrolment.secret, code)
                        .await
                }
                None => Ok(false),
            },
            SecondFactor::RecoveryCode => {
                if !self.codes.totp_enabled(user_id).await? {
                    return Ok(false);
                }
                self.codes.accept_recovery_code(user_id, code).await
            }
        }
    }

    /// Tells the owner a recovery code was used: if it was not them, they learn it at once.
    async fn mail_recovery_code_used(&self, user_id: UserId) -> Result<(), anyhow::Error> {
        let Some(user) = self.users.user_by_id(user_id).await? else {
            return Ok(());
        };
        let remaining = self.codes.unused_recovery_codes(user_id).await?;
        self.notifier
            .send(Mail::to_user(
                &user,
                MailMessage::RecoveryCodeUsed { remaining },
            ))
            .await;
        Ok(())
    }

    /// Mails a new code for an open challenge; the previous code stops working.
    pub async fn resend_code(&self, challenge_id: &str) -> Result<(), ResendCodeError> {
        let Ok(challenge_id) = challenge_id.trim().parse::<ChallengeId>() else {
            return Err(ResendCodeError::InvalidChallenge);
        };
        // No emailed code for an account with an authenticator app: told like a closed one.
        if let Some(challenge) = self.challenges.challenge(challenge_id).await?
            && self.codes.totp_enabled(challenge.user_id).await?
        {
            return Err(ResendCodeError::InvalidChallenge);
        }
        let now = self.clock.now();
        let code = self.secrets.numeric_code(self.policy.login_code_digits);
        let digest = self.digester.digest(&login_code_text(challenge_id, &code));
        let outcome = self
            .challenges
            .replace_code(
                challenge_id,
                &digest,
                self.policy.login_code_max_attempts,
                self.policy.login_code_resend_cooldown,
                now,
            )
            .await?;
        match outcome {
            ReplaceCodeOutcome::Replaced => {}
            ReplaceCodeOutcome::TooSoon { sent_at } => {
                let wait = (sent_at + self.policy.login_code_resend_cooldown - now).num_seconds();
                return Err(ResendCodeError::TooSoon {
                    retry_after_seconds: wait.max(1) as u64,
                });
            }
            ReplaceCodeOutcome::Closed => return Err(ResendCodeError::InvalidChallenge),
        }
        // The challenge exists, so its user does; a user deleted meanwhile just gets no mail.
        if let Some(user) = self.user_of_challenge(challenge_id).await? {
            self.mail_code(&user, code).await;
        }
        Ok(())
    }

    async fn user_of_challenge(
        &self,
        challenge_id: ChallengeId,
    ) -> Result<Option<User>, anyhow::Error> {
        let Some(challenge) = self.challenges.challenge(challenge_id).await? else {
            return Ok(None);
        };
        Ok(self.users.user_by_id(challenge.user_id).await?)
    }

    async fn mail_code(&self, user: &User, code: String) {
        self.notifier
            .send(Mail::to_user(
                user,
                MailMessage::LoginCode {
                    code,
                    valid_minutes: self.policy.login_code_ttl.num_minutes(),
                },
            ))
            .await;
    }
}

/// Why an account with a correct password may not sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignInRefusal {
    EmailNotVerified,
    PendingApproval,
    Suspended,
}

impl SignInRefusal {
    /// The audit detail naming it.
    fn as_str(self) -> &'static str {
        match self {
            SignInRefusal::EmailNotVerified => "email_not_verified",
            SignInRefusal::PendingApproval => "pending_approval",
            SignInRefusal::Suspended => "suspended",
        }
    }
}

impl From<SignInRefusal> for LoginError {
    fn from(refusal: SignInRefusal) -> Self {
        match refusal {
            // `login` answers an unverified address before this rule, like a wrong password.
            SignInRefusal::EmailNotVerified => LoginError::InvalidCredentials,
            SignInRefusal::PendingApproval => LoginError::PendingApproval,
            SignInRefusal::Suspended => LoginError::Suspended,
        }
    }
}

/// The account-state rule for signing in, applied only after a correct password.
fn ensure_may_sign_in(user: &User) -> Result<(), SignInRefusal> {
    if !user.email_verified() {
        return Err(SignInRefusal::EmailNotVerified);
    }
    match user.status {
        AccountStatus::Active => Ok(()),
        AccountStatus::PendingApproval => Err(SignInRefusal::PendingApproval),
        AccountStatus::Suspended => Err(SignInRefusal::Suspended),
    }
}

/// Binds a code to its challenge, so one digest never matches another challenge's code.
fn login_code_text(challenge_id: ChallengeId, code: &str) -> String {
    format!("login-code|{challenge_id}|{code}")
}
