//! Adapters layer: reads `MAIL_URL` into where and how to reach the SMTP relay.
//! May depend on url and percent-encoding only; pure, so every form is unit-tested.
//!
//! | `MAIL_URL` | connection | default port |
//! |---|---|---|
//! | `smtp://host:port` | plain, never upgraded — local relays and mail catchers | 25 |
//! | `smtp://[user:pass@]host:port?tls=required` | STARTTLS, refused if the relay does not offer it | 587 |
//! | `smtps://[user:pass@]host:port` | implicit TLS (RFC 8314) | 465 |
//!
//! Opportunistic STARTTLS ("upgrade if offered") is deliberately not offered: whoever sits on
//! the path can strip the offer and read the mails, which carry login codes. Credentials on a
//! plain connection are refused for the same reason. The query spelling follows lettre's own
//! connection URLs.

use std::fmt;

use percent_encoding::percent_decode_str;
use url::{Host, Url};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportSecurity {
    /// No TLS at all (`smtp://`).
    Plain,
    /// A plain connection upgraded with STARTTLS before anything else is sent; a relay that
    /// does not offer it gets neither credentials nor mail (`smtp://…?tls=required`).
    StartTlsRequired,
    /// TLS from the first byte (`smtps://`).
    ImplicitTls,
}

/// The account the relay knows us by, percent-decoded from the URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpCredentials({}, <redacted>)", self.username)
    }
}

/// Where and how to reach the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpEndpoint {
    /// A domain name or an IP address without brackets, as TLS and DNS want it.
    pub host: String,
    pub port: u16,
    pub security: TransportSecurity,
    pub credentials: Option<SmtpCredentials>,
}

/// Why a `MAIL_URL` cannot be used. The text never repeats the URL, which may hold a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMailUrl(pub &'static str);

impl fmt::Display for InvalidMailUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

const SMTP_PORT: u16 = 25;
const SUBMISSION_PORT: u16 = 587;
const SUBMISSIONS_PORT: u16 = 465;

impl SmtpEndpoint {
    pub fn from_url(url: &Url) -> Result<Self, InvalidMailUrl> {
        let host = match url.host() {
            Some(Host::Domain(domain)) if !domain.is_empty() => domain.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(InvalidMailUrl("expected a relay host, e.g. smtp://mail:25")),
        };
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(InvalidMailUrl(
                "a path or fragment means nothing here; expected smtp://host:port or smtps://user:pass@host:port",
            ));
        }
        let security = security(url)?;
        let credentials = credentials(url)?;
        if credentials.is_some() && security == TransportSecurity::Plain {
            return Err(InvalidMailUrl(
                "credentials would cross the network in clear text; use smtps:// or add ?tls=required",
            ));
        }
        let default_port = match security {
            TransportSecurity::Plain => SMTP_PORT,
            TransportSecurity::StartTlsRequired => SUBMISSION_PORT,
            TransportSecurity::ImplicitTls => SUBMISSIONS_PORT,
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            credentials,
        })
    }
}

fn security(url: &Url) -> Result<TransportSecurity, InvalidMailUrl> {
    let mut tls = None;
    for (key, value) in url.query_pairs() {
        match (key.as_ref(), tls) {
            ("tls", None) => tls = Some(value.into_owned()),
            _ => {
                return Err(InvalidMailUrl(
                    "the only query parameter understood is a single `tls=required` on smtp://",
                ));
            }
        }
    }
    match (url.scheme(), tls.as_deref()) {
        ("smtp", None) => Ok(TransportSecurity::Plain),
        ("smtp", Some("required")) => Ok(TransportSecurity::StartTlsRequired),
        ("smtp", Some("opportunistic")) => Err(InvalidMailUrl(
            "tls=opportunistic can be silently downgraded to clear text; use tls=required or smtps://",
        )),
        ("smtps", None) => Ok(TransportSecurity::ImplicitTls),
        ("smtp" | "smtps", Some(_)) => Err(InvalidMailUrl(
            "the only query parameter understood is a single `tls=required` on smtp://",
        )),
        _ => Err(InvalidMailUrl(
            "expected smtp://host:port or smtps://user:pass@host:port",
        )),
    }
}

fn credentials(url: &Url) -> Result<Option<SmtpCredentials>, InvalidMailUrl> {
    let decode = |text: &str| {
        percent_decode_str(text)
            .decode_utf8()
            .map(|decoded| decoded.into_owned())
            .map_err(|_| InvalidMailUrl("the user name and password must be UTF-8 once decoded"))
    };
    match (url.username(), url.password()) {
        ("", None) => Ok(None),
        ("", Some(_)) => Err(InvalidMailUrl("a password needs a user name")),
        (username, password) => Ok(Some(SmtpCredentials {
            username: decode(username)?,
            password: decode(password.unwrap_or_default())?,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(raw: &str) -> Result<SmtpEndpoint, InvalidMailUrl> {
        SmtpEndpoint::from_url(&Url::parse(raw).unwrap())
    }

    #[test]
    fn smtp_is_a_plain_connection_to_port_25_unless_told_otherwise() {
        let default_port = endpoint("smtp://mail.internal").unwrap();
        let catcher = endpoint("smtp://127.0.0.1:1025").unwrap();

        assert_eq!(
            default_port,
            SmtpEndpoint {
                host: "mail.internal".into(),
                port: 25,
                security: TransportSecurity::Plain,
                credentials: None,
            }
        );
        assert_eq!((catcher.host.as_str(), catcher.port), ("127.0.0.1", 1025));
        assert_eq!(catcher.security, TransportSecurity::Plain);
    }

    #[test]
    fn smtps_is_implicit_tls_on_port_465_with_decoded_credentials() {
        let endpoint =
            endpoint("smtps://no-reply%40example.com:p%40ss%3Aw%2Frd%20%C3%A9@smtp.example.com")
                .unwrap();

        assert_eq!(endpoint.host, "smtp.example.com");
        assert_eq!(endpoint.port, 465);
        assert_eq!(endpoint.security, TransportSecurity::ImplicitTls);
        assert_eq!(
            endpoint.credentials,
            Some(SmtpCredentials {
                username: "no-reply@example.com".into(),
                password: "p@ss:w/rd é".into(),
            })
        );
    }

    #[test]
    fn tls_required_is_starttls_on_the_submission_port() {
        let endpoint = endpoint("smtp://user:secret@smtp.example.com?tls=required").unwrap();

        assert_eq!(endpoint.port, 587);
        assert_eq!(endpoint.security, TransportSecurity::StartTlsRequired);
        assert_eq!(endpoint.credentials.unwrap().password, "secret");
    }

    #[test]
    fn an_explicit_port_wins_over_the_default_of_the_mode() {
        assert_eq!(
            endpoint("smtps://u:p@smtp.example.com:2465").unwrap().port,
            2465
        );
        assert_eq!(endpoint("smtp://h:2587?tls=required").unwrap().port, 2587);
    }

    #[test]
    fn an_ipv6_relay_is_named_without_brackets() {
        let endpoint = endpoint("smtp://[::1]:2525").unwrap();

        assert_eq!((endpoint.host.as_str(), endpoint.port), ("::1", 2525));
    }

    #[test]
    fn a_user_without_password_authenticates_with_an_empty_one() {
        let endpoint = endpoint("smtps://apikey@smtp.example.com").unwrap();

        assert_eq!(
            endpoint.credentials,
            Some(SmtpCredentials {
                username: "apikey".into(),
                password: String::new(),
            })
        );
    }

    #[test]
    fn credentials_over_a_plain_connection_are_refused() {
        let error = endpoint("smtp://user:secret@smtp.example.com:25").unwrap_err();

        assert!(error.0.contains("clear text"), "{error}");
    }

    #[test]
    fn opportunistic_starttls_is_refused_as_downgradable() {
        let error = endpoint("smtp://smtp.example.com?tls=opportunistic").unwrap_err();

        assert!(error.0.contains("downgraded"), "{error}");
    }

    #[test]
    fn anything_not_understood_is_refused_rather_than_ignored() {
        for raw in [
            "smtp://smtp.example.com?tls=require",
            "smtp://smtp.example.com?tls=required&tls=required",
            "smtp://smtp.example.com?timeout=5",
            "smtps://u:p@smtp.example.com?tls=required",
            "smtp://smtp.example.com/ehlo-name",
            "smtp://smtp.example.com#x",
            "smtps://:secret@smtp.example.com",
            "smtps://u:%FF@smtp.example.com",
            "imap://mail.example.com",
        ] {
            assert!(endpoint(raw).is_err(), "{raw} should be refused");
        }
    }

    #[test]
    fn errors_and_debug_output_never_show_the_password() {
        let error = endpoint("smtp://user:hunter2@smtp.example.com").unwrap_err();
        let endpoint = endpoint("smtps://user:hunter2@smtp.example.com").unwrap();

        assert!(!error.to_string().contains("hunter2"));
        assert!(!format!("{endpoint:?}").contains("hunter2"));
    }
}
