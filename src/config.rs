//! Configuration: typed settings read from the environment (and `.env`, loaded by `main`).
//! Fails fast with a message naming the variable; the rest of the program never reads env vars.
//! Values are parsed here into the types that use them (the core's `Currency`); limits and
//! defaults that belong to an adapter are read from it, not copied.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use url::Url;

use crate::adapters::crypto::MIN_SECRET_BYTES;
use crate::adapters::http::{HttpSettings, TrustedProxies};
use crate::adapters::mail::LinkTemplate;
use crate::core::model::Currency;

/// `STORE_TIMEOUT_MS` unless set (see the API's configuration table).
pub const DEFAULT_STORE_TIMEOUT_MS: u64 = 5_000;
/// A limit above ten minutes is no limit: a request would outlive any client and proxy.
const MAX_STORE_TIMEOUT_MS: u32 = 600_000;

/// Where the accounts and orders live (`DATABASE_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    /// `sqlite://PATH` — the embedded default; PATH is relative to the working directory.
    Sqlite(PathBuf),
    /// `memory://` — gone when the process ends; for trying things out and tests.
    Memory,
    /// `mongodb://…` or `mongodb+srv://…` — the production store.
    Mongo(String),
}

/// How mails leave (`MAIL_URL`).
#[derive(Clone, PartialEq, Eq)]
pub enum MailConfig {
    /// `console://` — mails are printed to the log.
    Console,
    /// `smtp://host:port` (plain, for local relays; `?tls=required` for STARTTLS) or
    /// `smtps://user:pass@host:port` (implicit TLS).
    Smtp(Url),
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailConfig::Console => f.write_str("Console"),
            // The URL may carry a password.
            MailConfig::Smtp(url) => write!(
                f,
                "Smtp({}://{}:{})",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port().unwrap_or_default()
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Dev,
    Prod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The key material for access tokens and secret digests.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterSecret {
    bytes: Vec<u8>,
    /// True when made up at start-up because `APP_ENV=dev` had none.
    pub generated: bool,
}

impl MasterSecret {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterSecret(<redacted>, generated: {})", self.generated)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub http_addr: SocketAddr,
    /// Where `/metrics` is served, apart from the public API; `None`: not served.
    pub metrics_addr: Option<SocketAddr>,
    pub public_url: Url,
    /// `VERIFY_EMAIL_URL`: a shop's own page for confirming an address; unset, mails link to
    /// `{PUBLIC_URL}/account/verify-email`.
    pub verify_email_url: Option<LinkTemplate>,
    /// `RESET_PASSWORD_URL`: a shop's own page for choosing a new password; unset, mails link
    /// to `{PUBLIC_URL}/account/reset-password`.
    pub reset_password_url: Option<LinkTemplate>,
    pub database: DatabaseConfig,
    pub mail: MailConfig,
    pub mail_from: String,
    pub secret: MasterSecret,
    pub app_env: AppEnv,
    pub currency: Currency,
    pub log_format: LogFormat,
    pub auth_rate_limit_per_minute: u32,
    /// `TRUSTED_PROXIES`: the proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// `STORE_TIMEOUT_MS`: how long one store call may take before it fails (and the request
    /// answers 503).
    pub store_timeout: Duration,
    /// `SESSION_IDLE_DAYS`: a refresh token unused for longer ends its session.
    pub session_idle_days: u32,
    /// `AUDIT_RETENTION_DAYS`: audit events older than this are deleted.
    pub audit_retention_days: u32,
    pub mail_delivery: MailDelivery,
}

/// How the outbox delivers (`MAIL_*` besides the URL and sender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailDelivery {
    /// `MAIL_CONNECTIONS` (default 8; 4 measured below the 150 mails/s the login ceiling needs): SMTP connections delivering side by side.
    pub connections: usize,
    /// `MAIL_SEND_TIMEOUT_SECONDS` (default 10): the time limit of one delivery.
    pub send_timeout_seconds: u32,
    /// `MAIL_RETRY_MAX_SECONDS` (default 600): the longest wait between two attempts.
    pub retry_max_seconds: u32,
    /// `MAIL_MAX_PER_RECIPIENT_PER_HOUR` (default 20): mails one address may get per hour.
    pub max_per_recipient_per_hour: u32,
}

impl Default for MailDelivery {
    fn default() -> Self {
        Self {
            connections: 8,
            send_timeout_seconds: 10,
            retry_max_seconds: 600,
            max_per_recipient_per_hour: 20,
        }
    }
}

impl MailDelivery {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let number = |variable: &'static str, default: u32, max: u32| {
            let raw = lookup(variable)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string());
            whole_number(variable, &raw, 1, max)
        };
        Ok(Self {
            connections: number("MAIL_CONNECTIONS", 8, 64)? as usize,
            send_timeout_seconds: number(
                "MAIL_SEND_TIMEOUT_SECONDS",
                defaults.send_timeout_seconds,
                300,
            )?,
            retry_max_seconds: number(
                "MAIL_RETRY_MAX_SECONDS",
                defaults.retry_max_seconds,
                86_400,
            )?,
            max_per_recipient_per_hour: number(
                "MAIL_MAX_PER_RECIPIENT_PER_HOUR",
                defaults.max_per_recipient_per_hour,
                100_000,
            )?,
        })
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str, default: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };

        let app_env = match get("APP_ENV", "dev").as_str() {
            "dev" => AppEnv::Dev,
            "prod" => AppEnv::Prod,
            other => {
                return Err(invalid(
                    "APP_ENV",
                    format!("`{other}` is not `dev` or `prod`"),
                ));
            }
        };
        let http_addr = get("HTTP_ADDR", "127.0.0.1:8080").parse().map_err(|_| {
            invalid(
                "HTTP_ADDR",
                "expected HOST:PORT with an IP host, e.g. 0.0.0.0:8080",
            )
        })?;
        let metrics_addr = match get("METRICS_ADDR", "").as_str() {
            "" => None,
            raw => Some(raw.parse().map_err(|_| {
                invalid(
                    "METRICS_ADDR",
                    "expected HOST:PORT with an IP host, e.g. 127.0.0.1:9090, or nothing",
                )
            })?),
        };
        // Port 0 lets the OS pick a free port for each listener, so two of them never clash.
        if metrics_addr.is_some_and(|addr: SocketAddr| addr == http_addr && addr.port() != 0) {
            return Err(invalid(
                "METRICS_ADDR",
                "must differ from HTTP_ADDR: metrics are never served on the public listener",
            ));
        }
        let public_url = parse_public_url(&get("PUBLIC_URL", "http://127.0.0.1:8080"))?;
        let allow_http_public_url = match get("ALLOW_HTTP_PUBLIC_URL", "false").as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(invalid(
                    "ALLOW_HTTP_PUBLIC_URL",
                    format!("`{other}` is not `true` or `false`"),
                ));
            }
        };
        if app_env == AppEnv::Prod && public_url.scheme() != "https" && !allow_http_public_url {
            return Err(invalid(
                "PUBLIC_URL",
                "APP_ENV=prod needs an https URL: mailed links carry tokens and browsers send \
                 sessions over it; behind a local TLS-terminating proxy set \
                 ALLOW_HTTP_PUBLIC_URL=true",
            ));
        }
        let verify_email_url = link_template("VERIFY_EMAIL_URL", &get("VERIFY_EMAIL_URL", ""))?;
        let reset_password_url =
            link_template("RESET_PASSWORD_URL", &get("RESET_PASSWORD_URL", ""))?;
        let database = parse_database_url(&get("DATABASE_URL", "sqlite://data/allomedia.db"))?;
        let mail = parse_mail_url(&get("MAIL_URL", "console://"))?;
        if app_env == AppEnv::Prod && mail == MailConfig::Console {
            return Err(invalid(
                "MAIL_URL",
                "`console://` would print login codes to the log; APP_ENV=prod needs smtp:// or smtps://",
            ));
        }
        let mail_from = get("MAIL_FROM", "allomedia <no-reply@localhost>");
        if !mail_from.contains('@') {
            return Err(invalid(
                "MAIL_FROM",
                "expected a mailbox such as `allomedia <no-reply@example.com>`",
            ));
        }
        let secret = match lookup("JWT_SECRET").filter(|s| !s.is_empty()) {
            Some(secret) if app_env == AppEnv::Prod && secret.len() >= MIN_SECRET_BYTES => {
                if let Some(weakness) = secret_weakness(&secret) {
                    return Err(invalid(
                        "JWT_SECRET",
                        format!(
                            "{weakness}; APP_ENV=prod needs a random one: `openssl rand -base64 48`"
                        ),
                    ));
                }
                MasterSecret {
                    bytes: secret.into_bytes(),
                    generated: false,
                }
            }
            Some(secret) if secret.len() >= MIN_SECRET_BYTES => MasterSecret {
                bytes: secret.into_bytes(),
                generated: false,
            },
            Some(_) => {
                return Err(invalid(
                    "JWT_SECRET",
                    format!(
                        "must be at least {MIN_SECRET_BYTES} bytes; generate one with `openssl rand -base64 48`"
                    ),
                ));
            }
            None if app_env == AppEnv::Dev => MasterSecret {
                bytes: random_secret(),
                generated: true,
            },
            None => return Err(invalid("JWT_SECRET", "is required when APP_ENV=prod")),
        };
        let currency = Currency::parse(&get("CURRENCY", "MAD"))
            .map_err(|_| invalid("CURRENCY", "expected an ISO 4217 code such as MAD or EUR"))?;
        let log_format = match get("LOG_FORMAT", "pretty").as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("`{other}` is not `pretty` or `json`"),
                ));
            }
        };
        let default_rate_limit = HttpSettings::default().auth_rate_limit_per_minute;
        let auth_rate_limit_per_minute = whole_number(
            "AUTH_RATE_LIMIT_PER_MINUTE",
            &get(
                "AUTH_RATE_LIMIT_PER_MINUTE",
                &default_rate_limit.to_string(),
            ),
            1,
            u32::MAX,
        )?;
        let store_timeout = Duration::from_millis(u64::from(whole_number(
            "STORE_TIMEOUT_MS",
            &get("STORE_TIMEOUT_MS", &DEFAULT_STORE_TIMEOUT_MS.to_string()),
            1,
            MAX_STORE_TIMEOUT_MS,
        )?));

        let trusted_proxies = TrustedProxies::parse(&get("TRUSTED_PROXIES", ""))
            .map_err(|problem| invalid("TRUSTED_PROXIES", problem))?;
        // At least a day, and no longer than a session lives at all (30 days).
        let session_idle_days = whole_number(
            "SESSION_IDLE_DAYS",
            &get("SESSION_IDLE_DAYS", &DEFAULT_SESSION_IDLE_DAYS.to_string()),
            1,
            30,
        )?;
        // At least a day (housekeeping runs hourly), at most ten years.
        let audit_retention_days = whole_number(
            "AUDIT_RETENTION_DAYS",
            &get(
                "AUDIT_RETENTION_DAYS",
                &DEFAULT_AUDIT_RETENTION_DAYS.to_string(),
            ),
            1,
            3650,
        )?;

        Ok(Self {
            http_addr,
            metrics_addr,
            public_url,
            verify_email_url,
            reset_password_url,
            database,
            mail,
            mail_from,
            secret,
            app_env,
            currency,
            log_format,
            auth_rate_limit_per_minute,
            trusted_proxies,
            store_timeout,
            session_idle_days,
            audit_retention_days,
            mail_delivery: MailDelivery::from_lookup(&lookup)?,
        })
    }
}

/// Secrets that appear in this repository (its tests, benchmarks and examples): public, so
/// never a production key however long they are.
const REPOSITORY_SECRETS: [&str; 6] = [
    "an end-to-end secret of 32+ bytes!",
    "a secret shared by the processes of one test, 32+ bytes",
    "benchmark-secret-benchmark-secret-0123",
    "blackbox-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "property signing key, 32 bytes!!",
    "replace-with-the-output-of-openssl-rand-base64-48",
];

/// Below this estimate a secret was not drawn at random, or too little of it: 24 random bytes
/// in base64 measure about 145 bits, 32 about 210, 32 in hex about 230; 16 in hex (32
/// characters, 128 bits) measure about 115 and are refused — an HS256 key should carry 256.
const MIN_SECRET_ENTROPY_BITS: f64 = 128.0;

/// Below this, zxcvbn finds the secret built from patterns (words, repeats, keyboard walks,
/// sequences, dates). Measured on its 16-character pieces and summed: on a whole secret its
/// guess count saturates at `u64::MAX` (about 10^19) and tells nothing. Random secrets of 32
/// characters or more measure 100 bits and up.
const MIN_SECRET_PATTERN_BITS: f64 = 80.0;
const PIECE_CHARS: usize = 16;

/// Why `secret` is not fit to be a production key, if it is not: one of the repository's own
/// examples, too few distinct characters for its length (an estimate of its entropy from
/// the frequency of each character), or a guessable pattern (words, repeats, sequences, as
/// zxcvbn finds them).
fn secret_weakness(secret: &str) -> Option<&'static str> {
    if REPOSITORY_SECRETS.contains(&secret) {
        return Some("is an example published in this repository");
    }
    if estimated_entropy_bits(secret) < MIN_SECRET_ENTROPY_BITS {
        return Some("has too little entropy (too few distinct characters)");
    }
    if pattern_aware_bits(secret) < MIN_SECRET_PATTERN_BITS {
        return Some("follows a guessable pattern (words, repeats or sequences)");
    }
    None
}

/// zxcvbn's estimate of the guesses each 16-character piece of the secret needs, in bits,
/// summed over the pieces.
fn pattern_aware_bits(secret: &str) -> f64 {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .chunks(PIECE_CHARS)
        .map(|piece| {
            let piece: String = piece.iter().collect();
            zxcvbn::zxcvbn(&piece, &[]).guesses_log10() * std::f64::consts::LOG2_10
        })
        .sum()
}

/// The Shannon entropy of the secret's own character frequencies, times its length: an upper
/// bound for a random secret, and small for repeats or a short alphabet.
fn estimated_entropy_bits(secret: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in secret.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let length = secret.chars().count() as f64;
    let per_char: f64 = counts
        .values()
        .map(|&count| {
            let p = count as f64 / length;
            -p * p.log2()
        })
        .sum();
    per_char * length
}

/// A week without a refresh ends a session (OWASP ASVS 5.0 V7.3.1; docs/security.md).
pub const DEFAULT_SESSION_IDLE_DAYS: u32 = 7;

/// A year of audit events: long enough to look back on a season of suspicious logins, and
/// bounded, so that failed logins on unknown addresses cannot grow the log for ever.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 365;

/// `raw` as a whole number from `min` to `max`, or an error naming `variable` and the range:
/// every numeric setting is read this one way.
fn whole_number(variable: &'static str, raw: &str, min: u32, max: u32) -> Result<u32, ConfigError> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            invalid(
                variable,
                format!("expected a whole number from {min} to {max}"),
            )
        })
}

/// A mailed-link template (`https://shop.example/reset?token={token}`); empty: unset.
fn link_template(variable: &'static str, raw: &str) -> Result<Option<LinkTemplate>, ConfigError> {
    if raw.is_empty() {
        return Ok(None);
    }
    LinkTemplate::parse(raw)
        .map(Some)
        .map_err(|error| invalid(variable, error.to_string()))
}

fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| invalid("PUBLIC_URL", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(
            "PUBLIC_URL",
            "expected an http(s) URL such as https://api.example.com",
        ));
    }
    Ok(url)
}

fn parse_database_url(raw: &str) -> Result<DatabaseConfig, ConfigError> {
    if raw == "memory://" {
        return Ok(DatabaseConfig::Memory);
    }
    if let Some(path) = raw.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(invalid(
                "DATABASE_URL",
                "sqlite:// needs a file path, e.g. sqlite://data/allomedia.db",
            ));
        }
        return Ok(DatabaseConfig::Sqlite(PathBuf::from(path)));
    }
    if raw.starts_with("mongodb://") || raw.starts_with("mongodb+srv://") {
        return Ok(DatabaseConfig::Mongo(raw.to_owned()));
    }
    Err(invalid(
        "DATABASE_URL",
        "expected sqlite://PATH, memory://, mongodb://… or mongodb+srv://…",
    ))
}

fn parse_mail_url(raw: &str) -> Result<MailConfig, ConfigError> {
    if raw == "console://" {
        return Ok(MailConfig::Console);
    }
    let url = Url::parse(raw).map_err(|_| {
        invalid(
            "MAIL_URL",
            "expected console://, smtp://host:port or smtps://user:pass@host:port",
        )
    })?;
    match url.scheme() {
        "smtp" | "smtps" if url.host_str().is_some_and(|h| !h.is_empty()) => {
            Ok(MailConfig::Smtp(url))
        }
        _ => Err(invalid(
            "MAIL_URL",
            "expected console://, smtp://host:port or smtps://user:pass@host:port",
        )),
    }
}

fn random_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    fn config_error(variable: &str, value: &str) -> String {
        config(&[(variable, value)]).unwrap_err().to_string()
    }

    #[test]
    fn defaults_describe_a_local_dev_service() {
        let config = config(&[]).unwrap();
        assert_eq!(config.http_addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(
            config.database,
            DatabaseConfig::Sqlite("data/allomedia.db".into())
        );
        assert_eq!(config.mail, MailConfig::Console);
        assert_eq!(config.app_env, AppEnv::Dev);
        assert!(config.secret.generated);
        assert!(config.secret.as_bytes().len() >= MIN_SECRET_BYTES);
        assert_eq!(config.currency.as_str(), "MAD");
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(config.auth_rate_limit_per_minute, 60);
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.store_timeout, Duration::from_secs(5));
    }

    #[test]
    fn trusted_proxies_are_addresses_and_ranges_of_both_families() {
        let config = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1, fd00::/8")]).unwrap();

        assert_eq!(
            config.trusted_proxies.to_string(),
            "10.0.0.0/8,127.0.0.1/32,fd00::/8"
        );
        let error = config_error("TRUSTED_PROXIES", "10.0.0.1, proxy.internal");
        assert!(error.contains("`proxy.internal`"), "{error}");
    }

    #[test]
    fn the_store_timeout_is_read_in_milliseconds() {
        let config = config(&[("STORE_TIMEOUT_MS", "750")]).unwrap();

        assert_eq!(config.store_timeout, Duration::from_millis(750));
    }

    /// A fresh secret as `openssl rand -base64 N` makes one (never a string of this
    /// repository, which production refuses).
    fn random_base64(bytes: usize) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(random_bytes(bytes))
    }

    fn random_bytes(count: usize) -> Vec<u8> {
        let mut random = vec![0u8; count];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
        random
    }

    /// A production configuration that starts, with `changes` on top.
    fn prod(changes: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let secret = random_base64(48);
        let mut vars = vec![
            ("APP_ENV", "prod"),
            ("JWT_SECRET", secret.as_str()),
            ("MAIL_URL", "smtp://mail:25"),
            ("PUBLIC_URL", "https://api.example.com"),
        ];
        vars.retain(|(name, _)| !changes.iter().any(|(changed, _)| changed == name));
        vars.extend_from_slice(changes);
        config(&vars)
    }

    #[test]
    fn prod_starts_with_a_random_secret_real_mail_and_an_https_url() {
        let config = prod(&[]).unwrap();
        assert!(!config.secret.generated);
        assert_eq!(config.app_env, AppEnv::Prod);
    }

    #[test]
    fn prod_requires_a_secret() {
        let vars = [
            ("APP_ENV", "prod"),
            ("MAIL_URL", "smtp://mail:25"),
            ("PUBLIC_URL", "https://api.example.com"),
        ];
        assert_eq!(config(&vars).unwrap_err().variable, "JWT_SECRET");
    }

    #[test]
    fn prod_refuses_console_mail() {
        let error = prod(&[("MAIL_URL", "console://")]).unwrap_err();
        assert_eq!(error.variable, "MAIL_URL");
    }

    #[test]
    fn prod_refuses_a_short_secret() {
        let error = prod(&[("JWT_SECRET", &random_base64(18))]).unwrap_err();
        assert_eq!(error.variable, "JWT_SECRET");
    }

    #[test]
    fn prod_refuses_every_secret_published_in_the_repository() {
        for secret in REPOSITORY_SECRETS {
            let error = prod(&[("JWT_SECRET", secret)]).unwrap_err();
            assert_eq!(error.variable, "JWT_SECRET", "{secret}");
        }
    }

    #[test]
    fn prod_refuses_low_entropy_secrets_however_long() {
        for secret in [
            "ssssssssssssssssssssssssssssssssssssssss",
            "abababababababababababababababababababab",
            "0123456789abcdef0123456789abcdef0123456789abcdef",
            "passwordpasswordpasswordpassword1",
        ] {
            let error = prod(&[("JWT_SECRET", secret)]).expect_err(secret);
            assert_eq!(error.variable, "JWT_SECRET", "{secret}");
        }
    }

    #[test]
    fn prod_accepts_what_openssl_rand_makes() {
        for _ in 0..20 {
            let base64 = random_base64(32);
            let hex: String = random_bytes(32)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            for secret in [&base64, &hex] {
                assert!(prod(&[("JWT_SECRET", secret)]).is_ok(), "{secret}");
            }
        }
    }

    #[test]
    fn dev_accepts_a_long_enough_secret_of_any_quality() {
        let config = config(&[("JWT_SECRET", "an end-to-end secret of 32+ bytes!")]).unwrap();
        assert!(!config.secret.generated);
    }

    #[test]
    fn prod_refuses_a_plain_http_public_url_unless_a_local_proxy_is_declared() {
        let error = prod(&[("PUBLIC_URL", "http://api.example.com")]).unwrap_err();
        assert_eq!(error.variable, "PUBLIC_URL");
        let behind_proxy = prod(&[
            ("PUBLIC_URL", "http://localhost:8080"),
            ("ALLOW_HTTP_PUBLIC_URL", "true"),
        ]);
        assert!(behind_proxy.is_ok());
    }

    #[test]
    fn mailed_link_templates_are_checked_at_start_up() {
        assert_eq!(config(&[]).unwrap().verify_email_url, None);
        let set = config(&[
            (
                "VERIFY_EMAIL_URL",
                "https://shop.example/verify?token={token}",
            ),
            (
                "RESET_PASSWORD_URL",
                "https://shop.example/{lang}/reset?t={token}",
            ),
        ])
        .unwrap();
        assert!(set.verify_email_url.is_some() && set.reset_password_url.is_some());

        for (variable, raw, problem) in [
            ("VERIFY_EMAIL_URL", "https://shop.example/verify", "{token}"),
            (
                "RESET_PASSWORD_URL",
                "shop.example/reset?token={token}",
                "absolute",
            ),
            (
                "RESET_PASSWORD_URL",
                "ftp://shop.example/{token}",
                "absolute",
            ),
        ] {
            let error = config(&[(variable, raw)]).unwrap_err();
            assert_eq!(error.variable, variable);
            assert!(error.to_string().contains(problem), "{error}");
        }
    }

    #[test]
    fn metrics_are_not_served_unless_an_address_is_given() {
        assert_eq!(config(&[]).unwrap().metrics_addr, None);
        let config = config(&[("METRICS_ADDR", "127.0.0.1:9090")]).unwrap();
        assert_eq!(config.metrics_addr, Some("127.0.0.1:9090".parse().unwrap()));
    }

    #[test]
    fn metrics_never_share_the_public_listener() {
        let error = config(&[
            ("HTTP_ADDR", "0.0.0.0:8080"),
            ("METRICS_ADDR", "0.0.0.0:8080"),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "METRICS_ADDR");
    }

    #[test]
    fn every_invalid_setting_names_its_variable() {
        for (variable, value) in [
            ("APP_ENV", "staging"),
            ("HTTP_ADDR", "localhost"),
            ("PUBLIC_URL", "ftp://x"),
            ("DATABASE_URL", "postgres://x"),
            ("DATABASE_URL", "sqlite://"),
            ("MAIL_URL", "carrier-pigeon://"),
            ("MAIL_FROM", "nobody"),
            ("JWT_SECRET", "short"),
            ("CURRENCY", "dirham"),
            ("LOG_FORMAT", "xml"),
            ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("STORE_TIMEOUT_MS", "0"),
            ("STORE_TIMEOUT_MS", "5s"),
            ("STORE_TIMEOUT_MS", "600001"),
            ("METRICS_ADDR", "localhost:9090"),
            ("ALLOW_HTTP_PUBLIC_URL", "yes"),
            ("SESSION_IDLE_DAYS", "0"),
            ("SESSION_IDLE_DAYS", "31"),
            ("AUDIT_RETENTION_DAYS", "0"),
            ("AUDIT_RETENTION_DAYS", "3651"),
            ("AUDIT_RETENTION_DAYS", "a year"),
        ] {
            let error = config(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{variable}={value}");
            assert!(error.to_string().starts_with(variable));
        }
    }

    #[test]
    fn the_session_inactivity_limit_defaults_to_a_week_and_reaches_the_policy() {
        let default = config(&[]).unwrap();
        let daily = config(&[("SESSION_IDLE_DAYS", "1")]).unwrap();

        assert_eq!(default.session_idle_days, 7);
        let settings = crate::app::CoreSettings::from_config(&daily);
        assert_eq!(
            settings.policy.auth.session_idle_limit,
            chrono::Duration::days(1)
        );
    }

    #[test]
    fn the_audit_retention_defaults_to_a_year_and_reaches_the_policy() {
        let default = config(&[]).unwrap();
        let longest = config(&[("AUDIT_RETENTION_DAYS", "3650")]).unwrap();
        let shortest = config(&[("AUDIT_RETENTION_DAYS", "1")]).unwrap();

        assert_eq!(default.audit_retention_days, 365);
        assert_eq!(
            crate::app::CoreSettings::from_config(&default)
                .policy
                .retention
                .audit_retention,
            chrono::Duration::days(365)
        );
        assert_eq!(
            crate::app::CoreSettings::from_config(&longest)
                .policy
                .retention
                .audit_retention,
            chrono::Duration::days(3650)
        );
        assert_eq!(
            crate::app::CoreSettings::from_config(&shortest)
                .policy
                .retention
                .audit_retention,
            chrono::Duration::days(1)
        );
    }

    #[test]
    fn reads_every_store_and_mail_form() {
        let c = config(&[
            ("DATABASE_URL", "memory://"),
            ("MAIL_URL", "smtps://u:p@mail.example.com:465"),
        ])
        .unwrap();
        assert_eq!(c.database, DatabaseConfig::Memory);
        assert!(matches!(c.mail, MailConfig::Smtp(ref url) if url.scheme() == "smtps"));
        assert!(
            !format!("{:?}", c.mail).contains(":p@"),
            "debug output must hide the password"
        );
        let c = config(&[(
            "DATABASE_URL",
            "mongodb+srv://cluster.example.com/allomedia",
        )])
        .unwrap();
        assert!(matches!(c.database, DatabaseConfig::Mongo(_)));
    }

    #[test]
    fn mail_delivery_has_defaults_and_refuses_what_it_cannot_use() {
        let defaults = config(&[]).unwrap().mail_delivery;
        let tuned = config(&[
            ("MAIL_CONNECTIONS", "2"),
            ("MAIL_SEND_TIMEOUT_SECONDS", "3"),
            ("MAIL_RETRY_MAX_SECONDS", "1"),
            ("MAIL_MAX_PER_RECIPIENT_PER_HOUR", "5"),
        ])
        .unwrap()
        .mail_delivery;

        assert_eq!(defaults, MailDelivery::default());
        assert_eq!(defaults.connections, 8);
        assert_eq!(
            tuned,
            MailDelivery {
                connections: 2,
                send_timeout_seconds: 3,
                retry_max_seconds: 1,
                max_per_recipient_per_hour: 5,
            }
        );
        for (variable, value) in [
            ("MAIL_CONNECTIONS", "0"),
            ("MAIL_CONNECTIONS", "65"),
            ("MAIL_SEND_TIMEOUT_SECONDS", "ten"),
            ("MAIL_RETRY_MAX_SECONDS", "-1"),
            ("MAIL_MAX_PER_RECIPIENT_PER_HOUR", "0"),
        ] {
            let error = config(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable);
        }
    }
}
