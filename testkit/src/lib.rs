//! Test support, shared by every test crate under `tests/` (a dev-only library, so it compiles
//! once): the core wired to in-memory adapters, a manual clock and a mailer that keeps what it
//! is asked to send, so tests read codes and links the way a user reads their inbox. It may
//! depend on the whole `allomedia` library; nothing in `src/` depends on it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};

use allomedia::adapters::crypto::{
    Argon2Hashing, Argon2Settings, HmacDigester, JwtAccessTokens, ManualClock, OsSecretGenerator,
    SealedTotpEngine,
};
use allomedia::adapters::http::AfterResponse;
use allomedia::adapters::memory::MemoryStore;
use allomedia::adapters::metrics::Metrics;
use allomedia::core::auth::{
    AuthPorts, AuthService, LoginChallengeView, LoginOutcome, LoginRequest, RegisterRequest,
    SessionTokens, VerifyCodeRequest,
};
use allomedia::core::catalogue::CatalogueService;
use allomedia::core::model::{ClientInfo, Currency};
use allomedia::core::model::{Mail, MailMessage};
use allomedia::core::orders::{OrderPorts, OrderService};
use allomedia::core::people::UserAdministration;
use allomedia::core::policy::AuthPolicy;
use allomedia::core::ports::{AuditLog, MailError, Mailer};
use allomedia::core::profile::ProfileService;

pub mod authenticator;
pub mod http;
pub mod process;
pub mod smtp_sink;

pub const PASSWORD: &str = "tulipe-marteau-orage";

/// Where the test's requests come from, as the HTTP layer would report it.
pub fn client() -> ClientInfo {
    ClientInfo {
        ip: Some("203.0.113.7".into()),
        user_agent: Some("allomedia-tests/1.0".into()),
    }
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

/// The account use cases over in-memory state, with a clock the test moves.
pub struct World {
    pub auth: AuthService,
    pub profile: ProfileService,
    pub people: UserAdministration,
    pub catalogue: CatalogueService,
    pub orders: OrderService,
    pub store: MemoryStore,
    pub clock: ManualClock,
    pub mailer: Arc<CapturingMailer>,
    pub metrics: Metrics,
    /// What the HTTP adapter runs after answering; tests wait for it before reading mails.
    pub after_response: AfterResponse,
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
        Self::assemble(mailer, capture, None)
    }

    /// A world whose security events go to `audit` (a mock, say) instead of the store.
    pub fn with_audit_log(audit: Arc<dyn AuditLog>) -> Self {
        let mailer = Arc::new(CapturingMailer::default());
        Self::assemble(mailer.clone(), mailer, Some(audit))
    }

    fn assemble(
        mailer: Arc<dyn Mailer>,
        capture: Arc<CapturingMailer>,
        audit: Option<Arc<dyn AuditLog>>,
    ) -> Self {
        let store = MemoryStore::new();
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap());
        let metrics = Metrics::new();
        let shared_clock = Arc::new(clock.clone());
        let ports = AuthPorts {
            users: Arc::new(store.clone()),
            tokens: Arc::new(store.clone()),
            challenges: Arc::new(store.clone()),
            sessions: Arc::new(store.clone()),
            throttles: Arc::new(store.clone()),
            mailer,
            clock: shared_clock.clone(),
            secrets: Arc::new(OsSecretGenerator),
            digester: Arc::new(HmacDigester::new(b"test digest key, 32 bytes long!!").unwrap()),
            passwords: Arc::new(
                Argon2Hashing::new(
                    Argon2Settings::FAST_FOR_TESTS,
                    2,
                    metrics.hashes_waiting.clone(),
                    metrics.hashes_running.clone(),
                )
                .unwrap(),
            ),
            access_tokens: Arc::new(
                JwtAccessTokens::new(
                    b"test signing key, 32 bytes long!",
                    "allomedia".into(),
                    "allomedia-api".into(),
                    chrono::Duration::minutes(15),
                    shared_clock.clone(),
                )
                .unwrap(),
            ),
            second_factors: Arc::new(store.clone()),
            totp: Arc::new(
                SealedTotpEngine::new(b"test totp sealing key, 32 bytes!", "allomedia").unwrap(),
            ),
            devices: Arc::new(store.clone()),
            audit: audit.unwrap_or_else(|| Arc::new(store.clone())),
        };
        let orders = OrderService::new(
            OrderPorts {
                orders: Arc::new(store.clone()),
                products: Arc::new(store.clone()),
                users: Arc::new(store.clone()),
                mailer: ports.mailer.clone(),
                clock: shared_clock.clone(),
                secrets: Arc::new(OsSecretGenerator),
            },
            Currency::parse("MAD").unwrap(),
        );
        let auth = AuthService::new(ports, AuthPolicy::default());
        Self {
            orders,
            people: UserAdministration::new(
                Arc::new(store.clone()),
                Arc::new(store.clone()),
                auth.clone(),
                shared_clock.clone(),
            ),
            auth,
            profile: ProfileService::new(Arc::new(store.clone()), shared_clock.clone()),
            catalogue: CatalogueService::new(
                Arc::new(store.clone()),
                shared_clock,
                Currency::parse("MAD").unwrap(),
            ),
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

    /// Registers `email` as a client and clicks the verification link.
    pub async fn verified_client(&self, email: &str) {
        self.auth
            .register(Self::registration("Amina", email))
            .await
            .unwrap();
        let token = self.mailer.verification_token(email);
        self.auth.verify_email(&token, &client()).await.unwrap();
    }

    /// Logs `email` in with the mailed code and returns the session's tokens.
    pub async fn signed_in(&self, email: &str) -> SessionTokens {
        let challenge = self
            .auth
            .login(Self::login_request(email, PASSWORD))
            .await
            .unwrap()
            .challenge();
        self.auth
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
