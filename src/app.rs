//! Composition root: chooses adapters from the configuration, builds the services and serves.
//! The only module that knows every adapter; it decides nothing about the business.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use poem::listener::{Acceptor, Listener, TcpListener};
use sha2::Sha256;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::adapters::crypto::{
    Argon2Hashing, Argon2Settings, HmacDigester, JwtAccessTokens, OsSecretGenerator,
    SealedTotpEngine, Sealer, SystemClock,
};
use crate::adapters::http::{self, AfterResponse, HttpServices, HttpSettings};
use crate::adapters::mail::{
    ConsoleMailer, ConsoleTransport, MAIL_SEAL_PURPOSE, MailLinks, MailSealing, MailSender,
    NotABaseUrl, SenderSettings, SmtpSettings, SmtpTransport,
};
use crate::adapters::memory::MemoryStore;
use crate::adapters::metrics::Metrics;
use crate::adapters::mongo::MongoStore;
use crate::adapters::sqlite::SqliteStore;
use crate::adapters::time_limit::TimeLimited;
use crate::config::{Config, DatabaseConfig, LogFormat, MailConfig, MailDelivery};
use crate::core::audit::AuditTrail;
use crate::core::auth::{
    CredentialChange, PasswordChange, PasswordChecker, PasswordRecovery, PasswordRecoveryPorts,
    Registration, RegistrationPorts, RememberedDevices, SecondFactorCodes, SecondFactorSettings,
    SecondFactorSettingsPorts, SessionIssuer, Sessions, SignIn, SignInPorts, Throttle,
    VerificationLinks,
};
use crate::core::catalogue::CatalogueService;
use crate::core::housekeeping::Housekeeping;
use crate::core::model::Currency;
use crate::core::notifier::Notifier;
use crate::core::orders::{OrderPorts, OrderService};
use crate::core::outbox::{Courier, MailPolicy, Outbox};
use crate::core::people::UserAdministration;
use crate::core::policy::Policy;
use crate::core::ports::RateWindowStore;
use crate::core::ports::{
    AccessTokens, AttemptThrottleStore, AuditLog, ChallengeStore, Clock, DeviceStore,
    ExpiredRecordStore, MailTransport, Mailer, OneTimeTokenStore, OrderStore, OutboxStore,
    PasswordHashing, ProductStore, SecondFactorStore, SecretDigester, SecretGenerator,
    SessionStore, StoreHealth, TotpEngine, UserStore,
};
use crate::core::profile::ProfileService;
use crate::core::request_limit::RequestLimits;
pub use crate::core::services::CoreServices;

/// Issuer and audience of our access tokens: this service issues them for itself.
const TOKEN_ISSUER: &str = "allomedia";
const TOKEN_AUDIENCE: &str = "allomedia-api";
/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE_SECONDS: u64 = 30;
/// How often expired records, never-verified accounts and old audit events are purged.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);
/// How long the mail sender may take to finish its current mails at shutdown; what it has
/// not delivered stays queued in the store.
const MAIL_SENDER_STOP_SECONDS: u64 = 10;

/// Every store port, implemented by one adapter chosen by `DATABASE_URL`.
#[derive(Clone)]
pub struct Stores {
    pub users: Arc<dyn UserStore>,
    pub tokens: Arc<dyn OneTimeTokenStore>,
    pub challenges: Arc<dyn ChallengeStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub throttles: Arc<dyn AttemptThrottleStore>,
    pub products: Arc<dyn ProductStore>,
    pub orders: Arc<dyn OrderStore>,
    pub second_factors: Arc<dyn SecondFactorStore>,
    pub devices: Arc<dyn DeviceStore>,
    pub audit: Arc<dyn AuditLog>,
    pub health: Arc<dyn StoreHealth>,
    pub rate_windows: Arc<dyn RateWindowStore>,
    pub expired: Arc<dyn ExpiredRecordStore>,
    pub outbox: Arc<dyn OutboxStore>,
}

impl Stores {
    /// Every port from one adapter that implements them all.
    pub fn from_adapter<S>(store: S) -> Self
    where
        S: UserStore
            + OneTimeTokenStore
            + ChallengeStore
            + SessionStore
            + AttemptThrottleStore
            + ProductStore
            + OrderStore
            + SecondFactorStore
            + DeviceStore
            + AuditLog
            + StoreHealth
            + RateWindowStore
            + ExpiredRecordStore
            + OutboxStore
            + 'static,
    {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            tokens: store.clone(),
            challenges: store.clone(),
            sessions: store.clone(),
            throttles: store.clone(),
            products: store.clone(),
            orders: store.clone(),
            second_factors: store.clone(),
            devices: store.clone(),
            audit: store.clone(),
            rate_windows: store.clone(),
            health: store.clone(),
            outbox: store.clone(),
            expired: store,
        }
    }

    /// Every port of these stores, each call limited to `limit` (`STORE_TIMEOUT_MS`): a call
    /// that runs out fails with `StoreError::TimedOut` instead of waiting for the store.
    pub fn with_time_limit(self, limit: Duration) -> Self {
        Self {
            users: Arc::new(TimeLimited::new(self.users, limit)),
            tokens: Arc::new(TimeLimited::new(self.tokens, limit)),
            challenges: Arc::new(TimeLimited::new(self.challenges, limit)),
            sessions: Arc::new(TimeLimited::new(self.sessions, limit)),
            throttles: Arc::new(TimeLimited::new(self.throttles, limit)),
            products: Arc::new(TimeLimited::new(self.products, limit)),
            orders: Arc::new(TimeLimited::new(self.orders, limit)),
            second_factors: Arc::new(TimeLimited::new(self.second_factors, limit)),
            devices: Arc::new(TimeLimited::new(self.devices, limit)),
            audit: Arc::new(TimeLimited::new(self.audit, limit)),
            rate_windows: Arc::new(TimeLimited::new(self.rate_windows, limit)),
            expired: Arc::new(TimeLimited::new(self.expired, limit)),
            outbox: Arc::new(TimeLimited::new(self.outbox, limit)),
            health: Arc::new(TimeLimited::new(self.health, limit)),
        }
    }

    /// Opens the store named by the configuration, migrating its schema if needed, with every
    /// call — opening included — limited to `limit`.
    pub async fn open(database: &DatabaseConfig, limit: Duration) -> anyhow::Result<Self> {
        Ok(Self::open_unlimited(database, limit)
            .await?
            .with_time_limit(limit))
    }

    async fn open_unlimited(database: &DatabaseConfig, limit: Duration) -> anyhow::Result<Self> {
        match database {
            DatabaseConfig::Memory => Ok(Self::from_adapter(MemoryStore::new())),
            DatabaseConfig::Sqlite(path) => {
                let store = SqliteStore::open(path).with_context(|| {
                    format!(
                        "DATABASE_URL: cannot open SQLite database {}",
                        path.display()
                    )
                })?;
                Ok(Self::from_adapter(store))
            }
            DatabaseConfig::Mongo(url) => {
                let store = MongoStore::connect(url, limit)
                    .await
                    .context("DATABASE_URL: cannot use MongoDB")?;
                Ok(Self::from_adapter(store))
            }
        }
    }
}

/// Starts logging in the configured format; `RUST_LOG` refines the level (default `info`).
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second initialisation (tests starting several apps) keeps the first subscriber.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// A key for one purpose, derived from the master secret (HMAC-SHA256 as a PRF), so that the
/// token-signing key and the digest key are independent even though one variable holds both.
fn derive_key(master: &[u8], purpose: &str) -> anyhow::Result<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(master).context("deriving a key")?;
    mac.update(purpose.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// What the core needs besides its ports: the secret its keys derive from, the deployment's
/// currency, its security numbers, and how hard passwords are hashed.
pub struct CoreSettings {
    master_secret: Vec<u8>,
    pub currency: Currency,
    pub policy: Policy,
    pub hashing: Argon2Settings,
    /// How many password hashes may run at once.
    pub hashing_slots: usize,
}

impl CoreSettings {
    /// The settings of a deployment: the configured secret and currency, the production
    /// policy and hashing parameters.
    pub fn from_config(config: &Config) -> Self {
        let mut settings = Self::new(config.secret.as_bytes(), config.currency.clone());
        settings.policy.auth.session_idle_limit =
            chrono::Duration::days(i64::from(config.session_idle_days));
        settings.policy.retention.audit_retention =
            chrono::Duration::days(i64::from(config.audit_retention_days));
        settings
    }

    /// Production policy and hashing over this master secret and currency; change the public
    /// fields to taste (tests hash with cheap parameters).
    pub fn new(master_secret: &[u8], currency: Currency) -> Self {
        Self {
            master_secret: master_secret.to_vec(),
            currency,
            policy: Policy::default(),
            hashing: Argon2Settings::OWASP,
            hashing_slots: hashing_slots(),
        }
    }
}

/// Every crypto port, implemented by the crypto adapters with their keys derived from the
/// master secret.
#[derive(Clone)]
pub struct CryptoPorts {
    pub secrets: Arc<dyn SecretGenerator>,
    pub digester: Arc<dyn SecretDigester>,
    pub passwords: Arc<dyn PasswordHashing>,
    pub access_tokens: Arc<dyn AccessTokens>,
    pub totp: Arc<dyn TotpEngine>,
}

impl CryptoPorts {
    /// The adapters for these settings; access tokens are dated by `clock`, and the hashing
    /// queue is reported in `metrics`.
    pub fn new(
        settings: &CoreSettings,
        clock: Arc<dyn Clock>,
        metrics: &Metrics,
    ) -> anyhow::Result<Self> {
        let master = settings.master_secret.as_slice();
        let passwords = Argon2Hashing::new(
            settings.hashing,
            settings.hashing_slots,
            metrics.hashes_waiting.clone(),
            metrics.hashes_running.clone(),
            metrics.hash_buffers.clone(),
        )
        .context("setting up password hashing")?;
        let access_tokens = JwtAccessTokens::new(
            &derive_key(master, "allomedia/access-token-signing/v1")?,
            TOKEN_ISSUER.to_owned(),
            TOKEN_AUDIENCE.to_owned(),
            settings.policy.auth.access_token_ttl,
            clock,
        )
        .context("JWT_SECRET")?;
        let digester = HmacDigester::new(&derive_key(master, "allomedia/secret-digest/v1")?)
            .context("deriving the digest key")?;
        let totp = SealedTotpEngine::new(
            &derive_key(master, "allomedia/totp-secret-sealing/v1")?,
            TOKEN_ISSUER,
        )
        .context("deriving the TOTP sealing key")?;
        Ok(Self {
            secrets: Arc::new(OsSecretGenerator),
            digester: Arc::new(digester),
            passwords: Arc::new(passwords),
            access_tokens: Arc::new(access_tokens),
            totp: Arc::new(totp),
        })
    }
}

/// Builds every core service over the given ports: the one wiring of the core, used by
/// `serve`, by `create-manager` and by the tests (which pass in-memory stores, a manual clock
/// and a mailer that keeps what it is given).
pub fn build_core(
    settings: &CoreSettings,
    stores: &Stores,
    crypto: CryptoPorts,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
) -> CoreServices {
    let policy = &settings.policy.auth;

    // The collaborators several use cases share.
    let audit = AuditTrail::new(stores.audit.clone(), clock.clone());
    let notifier = Notifier::new(mailer.clone());
    let throttle = Throttle::new(
        stores.throttles.clone(),
        crypto.digester.clone(),
        clock.clone(),
        policy,
    );
    let checker = PasswordChecker::new(crypto.passwords.clone(), throttle.clone(), audit.clone());
    let codes = SecondFactorCodes::new(
        stores.second_factors.clone(),
        crypto.totp.clone(),
        crypto.secrets.clone(),
        crypto.digester.clone(),
        clock.clone(),
        policy,
    );
    let issuer = SessionIssuer::new(
        stores.sessions.clone(),
        crypto.access_tokens.clone(),
        crypto.digester.clone(),
        clock.clone(),
        policy,
    );
    let devices = RememberedDevices::new(stores.devices.clone(), clock.clone());
    let request_limits = RequestLimits::new(stores.rate_windows.clone(), clock.clone());
    let credentials = CredentialChange::new(
        stores.tokens.clone(),
        stores.challenges.clone(),
        stores.sessions.clone(),
        devices.clone(),
        clock.clone(),
    );
    let verification = VerificationLinks::new(
        stores.tokens.clone(),
        crypto.secrets.clone(),
        crypto.digester.clone(),
        clock.clone(),
        notifier.clone(),
        policy.clone(),
    );

    CoreServices {
        registration: Registration::new(
            RegistrationPorts {
                users: stores.users.clone(),
                tokens: stores.tokens.clone(),
                passwords: crypto.passwords.clone(),
                digester: crypto.digester.clone(),
                clock: clock.clone(),
            },
            verification.clone(),
            notifier.clone(),
            audit.clone(),
        ),
        sign_in: SignIn::new(
            SignInPorts {
                users: stores.users.clone(),
                challenges: stores.challenges.clone(),
                devices: stores.devices.clone(),
                passwords: crypto.passwords.clone(),
                secrets: crypto.secrets.clone(),
                digester: crypto.digester.clone(),
                clock: clock.clone(),
            },
            codes.clone(),
            throttle.clone(),
            issuer.clone(),
            verification,
            notifier.clone(),
            audit.clone(),
            policy.clone(),
        ),
        sessions: Sessions::new(
            stores.sessions.clone(),
            crypto.access_tokens.clone(),
            clock.clone(),
            issuer,
            devices.clone(),
            audit.clone(),
            policy.clone(),
        ),
        password_recovery: PasswordRecovery::new(
            PasswordRecoveryPorts {
                users: stores.users.clone(),
                tokens: stores.tokens.clone(),
                second_factors: stores.second_factors.clone(),
                passwords: crypto.passwords.clone(),
                secrets: crypto.secrets.clone(),
                digester: crypto.digester.clone(),
                clock: clock.clone(),
            },
            credentials.clone(),
            throttle.clone(),
            notifier.clone(),
            audit.clone(),
            policy.clone(),
        ),
        password_change: PasswordChange::new(
            stores.users.clone(),
            credentials,
            crypto.passwords.clone(),
            clock.clone(),
            checker.clone(),
            notifier.clone(),
            audit.clone(),
        ),
        second_factor: SecondFactorSettings::new(
            SecondFactorSettingsPorts {
                users: stores.users.clone(),
                second_factors: stores.second_factors.clone(),
                tokens: stores.tokens.clone(),
                totp: crypto.totp.clone(),
                secrets: crypto.secrets.clone(),
                digester: crypto.digester.clone(),
                clock: clock.clone(),
            },
            codes,
            throttle,
            checker.clone(),
            notifier.clone(),
            audit.clone(),
            policy.clone(),
        ),
        devices,
        profile: ProfileService::new(stores.users.clone(), clock.clone()),
        people: UserAdministration::new(
            stores.users.clone(),
            stores.sessions.clone(),
            clock.clone(),
            checker,
            audit.clone(),
        ),
        catalogue: CatalogueService::new(
            stores.products.clone(),
            clock.clone(),
            settings.currency.clone(),
        ),
        orders: OrderService::new(
            OrderPorts {
                orders: stores.orders.clone(),
                products: stores.products.clone(),
                users: stores.users.clone(),
                mailer,
                clock,
                secrets: crypto.secrets,
            },
            settings.currency.clone(),
            settings.policy.orders,
        ),
        audit,
        request_limits,
    }
}

/// The services the HTTP adapter calls: the core's, and what the adapter itself needs.
pub fn http_services(
    core: CoreServices,
    health: Arc<dyn StoreHealth>,
    metrics: Metrics,
    clock: Arc<dyn Clock>,
    after_response: AfterResponse,
) -> HttpServices {
    HttpServices {
        core,
        health,
        metrics,
        clock,
        after_response,
    }
}

/// One hash per core: argon2 is CPU-bound, so more at once only adds memory and latency.
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A server accepting connections, and the means to stop it.
pub struct RunningApp {
    pub local_addr: SocketAddr,
    /// Where `/metrics` is served, when `METRICS_ADDR` asks for it.
    pub metrics_addr: Option<SocketAddr>,
    /// The metrics listener; scrapes are not drained, it simply stops with the server.
    metrics_task: Option<JoinHandle<std::io::Result<()>>>,
    /// The periodic purge of expired records; stops with the server.
    purge_task: JoinHandle<()>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    /// Work requests left running after their answer; it may still queue mails.
    after_response: AfterResponse,
    /// The outbox's sender, stopped once no request can add to the outbox.
    mail_sender: Option<MailSender>,
}

impl RunningApp {
    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        let served = self.task.await.context("server task")?.context("server");
        if let Some(metrics) = self.metrics_task {
            metrics.abort();
        }
        self.purge_task.abort();
        let grace = std::time::Duration::from_secs(SHUTDOWN_GRACE_SECONDS);
        if tokio::time::timeout(grace, self.after_response.idle())
            .await
            .is_err()
        {
            tracing::warn!("work started by requests was still running at shutdown");
        }
        if let Some(sender) = self.mail_sender {
            sender
                .shutdown(std::time::Duration::from_secs(MAIL_SENDER_STOP_SECONDS))
                .await;
        }
        served
    }

    /// Waits until the server ends on its own (it only does on an I/O error).
    async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.task)
            .await
            .context("server task")?
            .context("server")?;
        Ok(())
    }
}

/// Opens the store, builds every service and starts serving on `config.http_addr`
/// (port 0 picks a free port; see `RunningApp::local_addr`). Mails go through the durable
/// outbox, delivered by a sender to `MAIL_URL`.
pub async fn start(config: Config) -> anyhow::Result<RunningApp> {
    start_serving(config, None).await
}

/// `start`, with mails going to `mailer` whatever `MAIL_URL` says, and no outbox (tests read
/// them there).
pub async fn start_with_mailer(
    config: Config,
    mailer: Arc<dyn Mailer>,
) -> anyhow::Result<RunningApp> {
    start_serving(config, Some(mailer)).await
}

/// The core's mail rules as configured.
pub fn mail_policy(delivery: &MailDelivery, sender: &SenderSettings) -> MailPolicy {
    let defaults = MailPolicy::default();
    let max_retry = chrono::Duration::seconds(i64::from(delivery.retry_max_seconds));
    let send_timeout = chrono::Duration::seconds(i64::from(delivery.send_timeout_seconds));
    MailPolicy {
        max_per_recipient_per_hour: delivery.max_per_recipient_per_hour,
        first_retry: defaults.first_retry.min(max_retry),
        max_retry,
        // A whole batch at the time limit, and a margin: a slow batch's tail is never
        // claimed by another sender while its own still may send it.
        lease: send_timeout * i32::try_from(sender.batch).unwrap_or(i32::MAX)
            + chrono::Duration::seconds(30),
        ..defaults
    }
}

/// The outbox (the mailer the core is given) and its sender, started, for `MAIL_URL`.
/// Where mailed links lead: the configured templates, else the service's own pages.
fn mail_links(config: &Config) -> Result<MailLinks, NotABaseUrl> {
    Ok(MailLinks::new(config.public_url.clone())?
        .with_verify_email(config.verify_email_url.clone())
        .with_reset_password(config.reset_password_url.clone()))
}

fn start_mail(
    config: &Config,
    settings: &CoreSettings,
    stores: &Stores,
    crypto: &CryptoPorts,
    clock: Arc<dyn Clock>,
    metrics: &Metrics,
) -> anyhow::Result<(Arc<dyn Mailer>, MailSender)> {
    let delivery = &config.mail_delivery;
    let sealer = Sealer::new(
        &derive_key(&settings.master_secret, "allomedia/outbox-mail-sealing/v1")?,
        MAIL_SEAL_PURPOSE,
    )
    .context("deriving the mail sealing key")?;
    let sealing = Arc::new(MailSealing::new(sealer, mail_links(config)?));
    let transports: Vec<Arc<dyn MailTransport>> = match &config.mail {
        // The log is one "connection": more would only interleave the lines.
        MailConfig::Console => vec![Arc::new(ConsoleTransport::new(sealing.clone()))],
        MailConfig::Smtp(url) => {
            let smtp = SmtpSettings {
                timeout: std::time::Duration::from_secs(u64::from(delivery.send_timeout_seconds)),
            };
            (0..delivery.connections)
                .map(|_| {
                    SmtpTransport::new(url, &config.mail_from, sealing.clone(), &smtp)
                        .map(|transport| Arc::new(transport) as Arc<dyn MailTransport>)
                })
                .collect::<Result<_, _>>()?
        }
    };
    let sender_settings = SenderSettings::default();
    let policy = mail_policy(delivery, &sender_settings);
    let outbox = Arc::new(Outbox::new(
        stores.outbox.clone(),
        RequestLimits::new(stores.rate_windows.clone(), clock.clone()),
        sealing,
        crypto.digester.clone(),
        clock.clone(),
        policy.clone(),
    ));
    let courier = Courier::new(stores.outbox.clone(), clock, policy);
    let sender = MailSender::start(courier, transports, sender_settings, metrics.clone());
    let mailer = Arc::new(sender.waking(outbox));
    Ok((mailer, sender))
}

async fn start_serving(
    config: Config,
    test_mailer: Option<Arc<dyn Mailer>>,
) -> anyhow::Result<RunningApp> {
    let stores = Stores::open(&config.database, config.store_timeout).await?;
    let metrics = Metrics::new();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = CoreSettings::from_config(&config);
    let crypto = CryptoPorts::new(&settings, clock.clone(), &metrics)?;
    let (mailer, mail_sender) = match test_mailer {
        Some(mailer) => (mailer, None),
        None => {
            let (mailer, sender) = start_mail(
                &config,
                &settings,
                &stores,
                &crypto,
                clock.clone(),
                &metrics,
            )?;
            (mailer, Some(sender))
        }
    };
    let core = build_core(&settings, &stores, crypto, mailer, clock.clone());
    let purge_task = tokio::spawn(purge_periodically(Housekeeping::new(
        stores.expired.clone(),
        clock.clone(),
        settings.policy.retention,
    )));
    let after_response = AfterResponse::new();
    let (metrics_addr, metrics_task) = match config.metrics_addr {
        Some(addr) => {
            let (addr, task) = serve_metrics(addr, metrics.clone()).await?;
            (Some(addr), Some(task))
        }
        None => (None, None),
    };
    let services = http_services(
        core,
        stores.health.clone(),
        metrics,
        clock,
        after_response.clone(),
    );
    let settings = HttpSettings {
        auth_rate_limit_per_minute: config.auth_rate_limit_per_minute,
        trusted_proxies: config.trusted_proxies.clone(),
        server_url: config.public_url.to_string(),
        ..HttpSettings::default()
    };
    let endpoint = http::app(services, settings);

    let acceptor = TcpListener::bind(config.http_addr)
        .into_acceptor()
        .await
        .with_context(|| format!("HTTP_ADDR: cannot listen on {}", config.http_addr))?;
    let local_addr = acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .context("HTTP_ADDR: listener has no socket address")?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                endpoint,
                async {
                    let _ = stopped.await;
                },
                Some(std::time::Duration::from_secs(SHUTDOWN_GRACE_SECONDS)),
            )
            .await
    });
    Ok(RunningApp {
        local_addr,
        metrics_addr,
        metrics_task,
        purge_task,
        shutdown,
        task,
        after_response,
        mail_sender,
    })
}

/// Purges expired records now and every `PURGE_EVERY` after, so that SQLite and the memory
/// store do what MongoDB's TTL indexes do, with never-verified accounts and audit events past
/// their retention on every store. A failed purge is logged and tried again next time.
async fn purge_periodically(housekeeping: Housekeeping) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match housekeeping.purge_expired().await {
            Ok(purged) if purged.total() == 0 => {}
            Ok(purged) => tracing::info!(
                expired_records = purged.expired_records,
                unverified_users = purged.unverified_users,
                audit_events = purged.audit_events,
                "expired records purged"
            ),
            Err(error) => {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::from(error)), "purging expired records failed");
            }
        }
    }
}

/// Serves `/metrics` on its own listener at `addr`, apart from the public API.
async fn serve_metrics(
    addr: SocketAddr,
    metrics: Metrics,
) -> anyhow::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let acceptor = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .with_context(|| format!("METRICS_ADDR: cannot listen on {addr}"))?;
    let local_addr = acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .context("METRICS_ADDR: listener has no socket address")?;
    let endpoint = http::metrics_app(metrics);
    let task = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(endpoint));
    Ok((local_addr, task))
}

/// `allomedia serve`: runs until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    if config.secret.generated {
        tracing::warn!(
            "JWT_SECRET is not set: using a random one for this run (APP_ENV=dev). Sessions and \
             mailed links stop working at restart; set JWT_SECRET to keep them."
        );
    }
    let mut app = start(config).await?;
    // Start-up (migrations, the spec, the dummy hash) freed more than a quiet server needs.
    crate::adapters::allocator::return_free_memory_to_the_system();
    tracing::info!(address = %app.local_addr, "allomedia listening; API docs at /docs");
    match app.metrics_addr {
        Some(address) => tracing::info!(%address, "metrics at /metrics"),
        None => tracing::info!("metrics not served (METRICS_ADDR is not set)"),
    }
    tokio::select! {
        result = app.wait() => return result,
        () = shutdown_signal() => {}
    }
    tracing::info!("shutting down: draining in-flight requests");
    app.stop().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// `allomedia create-manager`: provisions an active, verified manager in the configured store.
pub async fn create_manager(
    config: Config,
    name: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    use crate::core::auth::CreateManagerError;

    if config.database == DatabaseConfig::Memory {
        bail!(
            "DATABASE_URL: memory:// lives inside a running server, so a separate command cannot \
             add a manager to it; use sqlite:// or mongodb://"
        );
    }
    let stores = Stores::open(&config.database, config.store_timeout).await?;
    let metrics = Metrics::new();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Provisioning a manager sends no mail, so no mail transport is opened.
    let no_mail = Arc::new(ConsoleMailer::new(mail_links(&config)?));
    let settings = CoreSettings::from_config(&config);
    let crypto = CryptoPorts::new(&settings, clock.clone(), &metrics)?;
    let core = build_core(&settings, &stores, crypto, no_mail, clock);
    match core
        .registration
        .create_manager(name, email, password)
        .await
    {
        Ok(manager) => {
            println!("manager {} created with id {}", manager.email, manager.id);
            Ok(())
        }
        Err(CreateManagerError::Invalid(errors)) => bail!("invalid manager: {errors}"),
        Err(CreateManagerError::EmailTaken) => bail!("an account with this email already exists"),
        Err(CreateManagerError::Unexpected(error)) => Err(error),
    }
}
