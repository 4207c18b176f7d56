//! Test support, shared by every test crate under `tests/` (a dev-only library, so it compiles
//! once): the core wired to in-memory adapters, a manual clock and a mailer that keeps what it
//! is asked to send, so tests read codes and links the way a user reads their inbox. It may
//! depend on the whole `allomedia` library; nothing in `src/` depends on it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};

use allomedia::adapters::crypto::{Argon2Settings, ManualClock};
use allomedia::adapters::http::AfterResponse;
use allomedia::adapters::memory::MemoryStore;
use allomedia::adapters::metrics::Metrics;
use allomedia::app::{CoreServices, CoreSettings, CryptoPorts, Stores, build_core};
use allomedia::core::auth::{
    LoginChallengeView, LoginOutcome, LoginRequest, RegisterRequest, SessionTokens,
    VerifyCodeRequest,
};
use allomedia::core::model::{ClientInfo, Currency, Email, Locale, UserId};
use allomedia::core::model::{Mail, MailMessage};
use allomedia::core::ports::{AuditLog, Clock, MailError, Mailer, UserStore};

pub mod authenticator;
pub mod http;
pub mod process;
pub mod smtp_sink;
pub mod yielding;

pub const PASSWORD: &str = "tulipe-marteau-orage";

/// Where the test's requests come from, as the HTTP layer would report it.
pub fn client() -> ClientInfo {
    ClientInfo {
        ip: Some("203.0.113.7".into()),
        user_agent: Some("allomedia-tests/1.0".into()),
    }
}

/// The answer to a login challenge with `code`, from the test's client.
pub fn code_request(challenge_id: impl ToString, code: &str) -> VerifyCodeRequest {
    VerifyCodeRequest {
        challenge_id: challenge_id.to_string(),
        code: code.into(),
        ..VerifyCodeRequest::default()
    }
}

/// A six-digit code that is not `code`.
pub fn other_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

/// Reads a login's outcome as the challenge a test expects it to be.
pub trait ExpectChallenge {
    fn challenge(self) -> LoginChallengeView;
}

impl ExpectChallenge for LoginOutcome {
    #[track_caller]
    fn challenge(self) -> LoginChallengeView {
        match self {
            LoginOutcome::Challenge(challenge) => challenge,
            LoginOutcome::SignedIn(_) => panic!("expected a challenge, the login signed in"),
        }
    }
}

/// Keeps every mail instead of sending it.
#[derive(Default)]
pub struct CapturingMailer {
    mails: Mutex<Vec<Mail>>,
}

impl CapturingMailer {
    pub fn sent(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    pub fn sent_to(&self, email: &str) -> Vec<MailMessage> {
        self.sent()
            .into_iter()
            .filter(|m| m.to.as_str() == email)
            .map(|m| m.message)
            .collect()
    }

    /// The token of the newest verification mail to `email`.
    /// Waits until at least `count` mails went to `email`: a running app sends some mails
    /// just after answering. Polls for at most ten seconds, then fails the test.
    pub async fn wait_for_mails(&self, email: &str, count: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.sent_to(email).len() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "{count} mail(s) to {email} never came"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    pub fn verification_token(&self, email: &str) -> String {
        self.sent_to(email)
            .into_iter()
            .rev()
            .find_map(|m| match m {
                MailMessage::VerifyEmail { token, .. } => Some(token),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no verification mail to {email}"))
    }

    /// The token of the newest password-reset mail to `email`.
    pub fn reset_token(&self, email: &str) -> String {
        self.sent_to(email)
            .into_iter()
            .rev()
            .find_map(|m| match m {
                MailMessage::PasswordReset { token, .. } => Some(token),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no password-reset mail to {email}"))
    }

    /// The "this wasn't me" token of the newest "authenticator app turned on" mail to `email`.
    pub fn disown_token(&self, email: &str) -> String {
        self.sent_to(email)
            .into_iter()
            .rev()
            .find_map(|m| match m {
                MailMessage::TotpEnabled { disown_token, .. } => Some(disown_token),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no authenticator-app mail to {email}"))
    }

    /// The code of the newest login-code mail to `email`.
    pub fn login_code(&self, email: &str) -> String {
        self.sent_to(email)
            .into_iter()
            .rev()
            .find_map(|m| match m {
                MailMessage::LoginCode { code, .. } => Some(code),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no login code mailed to {email}"))
    }
}

#[async_trait]
impl Mailer for CapturingMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        self.mails.lock().unwrap().push(mail);
        Ok(())
    }
}

/// The master secret of every test world: fixed, so a test can build a second service over
/// the same store and have it accept the first one's tokens.
const TEST_MASTER_SECRET: &[u8] = b"the test master secret, at least 32 bytes long";

/// The core's use cases over in-memory state, with a clock the test moves and a mailer that
/// keeps what it is given — built by `app::build_core`, as `serve` builds them. Dereferences
/// to the services (`world.sign_in.login(…)`).
pub struct World {
    pub core: CoreServices,
    pub store: MemoryStore,
    pub clock: ManualClock,
    pub mailer: Arc<CapturingMailer>,
    pub metrics: Metrics,
    /// What the HTTP adapter runs after answering; tests wait for it before reading mails.
    pub after_response: AfterResponse,
}

impl std::ops::Deref for World {
    type Target = CoreServices;

    fn deref(&self) -> &CoreServices {
        &self.core
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        let mailer = Arc::new(CapturingMailer::default());
        Self::with_mailer(mailer.clone(), mailer)
    }

    /// A world whose mails go to `mailer` (a mock, say); `capture` stays empty unless it is
    /// the same mailer.
    pub fn with_mailer(mailer: Arc<dyn Mailer>, capture: Arc<CapturingMailer>) -> Self {
        Self::assemble(mailer, capture, |_| {}, |_| {})
    }

    /// A world whose security events go to `audit` (a mock, say) instead of the store.
    pub fn with_audit_log(audit: Arc<dyn AuditLog>) -> Self {
        Self::with_stores(|stores| stores.audit = audit)
    }

    /// A world whose store ports the test replaced in part (one that fails, say); the others
    /// stay the in-memory store.
    pub fn with_stores(replace: impl FnOnce(&mut Stores)) -> Self {
        let mailer = Arc::new(CapturingMailer::default());
        Self::assemble(mailer.clone(), mailer, replace, |_| {})
    }

    /// A world whose crypto ports the test replaced in part (hashing that counts, say).
    pub fn with_crypto(replace: impl FnOnce(&mut CryptoPorts)) -> Self {
        let mailer = Arc::new(CapturingMailer::default());
        Self::assemble(mailer.clone(), mailer, |_| {}, replace)
    }

    fn assemble(
        mailer: Arc<dyn Mailer>,
        capture: Arc<CapturingMailer>,
        replace_stores: impl FnOnce(&mut Stores),
        replace_crypto: impl FnOnce(&mut CryptoPorts),
    ) -> Self {
        let store = MemoryStore::new();
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap());
        let metrics = Metrics::new();
        let mut settings = CoreSettings::new(TEST_MASTER_SECRET, Currency::parse("MAD").unwrap());
        // Production parameters would make every test hash take a quarter of a second.
        settings.hashing = Argon2Settings::FAST_FOR_TESTS;
        settings.hashing_slots = 2;
        let mut stores = Stores::from_adapter(store.clone());
        replace_stores(&mut stores);
        let mut crypto = CryptoPorts::new(&settings, Arc::new(clock.clone()), &metrics)
            .expect("the test crypto settings are valid");
        replace_crypto(&mut crypto);
        let core = build_core(&settings, &stores, crypto, mailer, Arc::new(clock.clone()));
        Self {
            core,
            store,
            clock,
            mailer: capture,
            metrics,
            after_response: AfterResponse::new(),
        }
    }

    pub fn registration(name: &str, email: &str) -> RegisterRequest {
        RegisterRequest {
            name: name.into(),
            email: email.into(),
            password: PASSWORD.into(),
            role: None,
            phone: None,
            locale: Locale::default(),
            client: client(),
        }
    }

    pub fn login_request(email: &str, password: &str) -> LoginRequest {
        LoginRequest {
            email: email.into(),
            password: password.into(),
            client: client(),
            ..LoginRequest::default()
        }
    }

    /// The id of the account of `email`.
    pub async fn user_id(&self, email: &str) -> UserId {
        let email = Email::parse(email).unwrap();
        self.store.user_by_email(&email).await.unwrap().unwrap().id
    }

    /// Makes `email` a verified client with the authenticator app (TOTP) on: its id, the
    /// base32 secret and the recovery codes. The clock stays at the step the confirmation used.
    pub async fn totp_client(&self, email: &str) -> (UserId, String, Vec<String>) {
        self.verified_client(email).await;
        let id = self.user_id(email).await;
        let secret = self
            .second_factor
            .set_up_totp(id, PASSWORD, &client())
            .await
            .unwrap()
            .secret_base32;
        let code = authenticator::code_at(&secret, self.clock.now());
        let codes = self
            .second_factor
            .confirm_totp(id, &code, &client())
            .await
            .unwrap();
        (id, secret, codes)
    }

    /// Registers `email` as a client and clicks the verification link.
    pub async fn verified_client(&self, email: &str) {
        self.registration
            .register(Self::registration("Amina", email))
            .await
            .unwrap();
        let token = self.mailer.verification_token(email);
        self.registration
            .verify_email(&token, &client())
            .await
            .unwrap();
    }

    /// Logs `email` in with the mailed code and returns the session's tokens.
    pub async fn signed_in(&self, email: &str) -> SessionTokens {
        let challenge = self
            .sign_in
            .login(Self::login_request(email, PASSWORD))
            .await
            .unwrap()
            .challenge();
        self.sign_in
            .verify_code(VerifyCodeRequest {
                challenge_id: challenge.challenge_id.to_string(),
                code: self.mailer.login_code(email),
                client: client(),
                ..VerifyCodeRequest::default()
            })
            .await
            .unwrap()
    }
}
