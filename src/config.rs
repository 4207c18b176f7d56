//! Configuration: typed settings read from the environment (and `.env`, loaded by `main`).
//! Fails fast with a message naming the variable; the rest of the program never reads env vars.
//! Values are parsed here into the types that use them (the core's `Currency`); limits and
//! defaults that belong to an adapter are read from it, not copied.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;
use url::Url;

use crate::adapters::crypto::MIN_SECRET_BYTES;
use crate::adapters::http::HttpSettings;
use crate::core::model::Currency;

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
    pub public_url: Url,
    pub database: DatabaseConfig,
    pub mail: MailConfig,
    pub mail_from: String,
    pub secret: MasterSecret,
    pub app_env: AppEnv,
    pub currency: Currency,
    pub log_format: LogFormat,
    pub auth_rate_limit_per_minute: u32,
    pub mail_delivery: MailDelivery,
}

/// How the outbox delivers (`MAIL_*` besides the URL and sender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailDelivery {
    /// `MAIL_CONNECTIONS` (default 4): SMTP connections delivering side by side.
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
            connections: 4,
            send_timeout_seconds: 10,
            retry_max_seconds: 600,
            max_per_recipient_per_hour: 20,
        }
    }
}

impl MailDelivery {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let number = |variable: &'static str, default: u32, max: u32| match lookup(variable)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    invalid(variable, format!("expected a whole number from 1 to {max}"))
                }),
        };
        Ok(Self {
            connections: number("MAIL_CONNECTIONS", 4, 64)? as usize,
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
        let public_url = parse_public_url(&get("PUBLIC_URL", "http://127.0.0.1:8080"))?;
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
        let auth_rate_limit_per_minute = get(
            "AUTH_RATE_LIMIT_PER_MINUTE",
            &default_rate_limit.to_string(),
        )
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            invalid(
                "AUTH_RATE_LIMIT_PER_MINUTE",
                "expected a whole number of at least 1",
            )
        })?;

        Ok(Self {
            http_addr,
            public_url,
            database,
            mail,
            mail_from,
            secret,
            app_env,
            currency,
            log_format,
            auth_rate_limit_per_minute,
            mail_delivery: MailDelivery::from_lookup(&lookup)?,
        })
    }
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
    }

    #[test]
    fn prod_requires_a_secret_and_real_mail() {
        let error = config(&[("APP_ENV", "prod"), ("MAIL_URL", "smtp://mail:25")]).unwrap_err();
        assert_eq!(error.variable, "JWT_SECRET");
        let secret = "s".repeat(32);
        let error = config(&[("APP_ENV", "prod"), ("JWT_SECRET", &secret)]).unwrap_err();
        assert_eq!(error.variable, "MAIL_URL");
        let ok = config(&[
            ("APP_ENV", "prod"),
            ("JWT_SECRET", &secret),
            ("MAIL_URL", "smtp://mail:25"),
        ]);
        assert!(!ok.unwrap().secret.generated);
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
        ] {
            let error = config(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{variable}={value}");
            assert!(error.to_string().starts_with(variable));
        }
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
            ("MAIL_CONNECTIONS", "8"),
            ("MAIL_SEND_TIMEOUT_SECONDS", "3"),
            ("MAIL_RETRY_MAX_SECONDS", "1"),
            ("MAIL_MAX_PER_RECIPIENT_PER_HOUR", "5"),
        ])
        .unwrap()
        .mail_delivery;

        assert_eq!(defaults, MailDelivery::default());
        assert_eq!(
            tuned,
            MailDelivery {
                connections: 8,
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
