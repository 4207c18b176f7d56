//! Adapters layer: a `core::ports::MailTransport` that delivers through an SMTP relay
//! (`MAIL_URL=smtp://…` or `smtps://…`). May depend on the core, the mail templates and
//! sealing, lettre, tokio and tracing.
//!
//! One `SmtpTransport` is one connection to the relay, kept open between mails and bounded in
//! time at every step (see `relay`). The sender (`super::sender`) runs several side by side;
//! what to deliver, and what to do after a failure, is the outbox's (`core::outbox`). A failed
//! delivery is reported with the reply code only — never the address, the code or the link.

mod endpoint;
mod message;
mod relay;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use thiserror::Error;
use tokio::sync::Mutex;
use url::Url;

pub use endpoint::InvalidMailUrl;

use super::sealing::MailSealing;
use crate::core::model::ClaimedMail;
use crate::core::ports::{DeliveryError, MailTransport};
use endpoint::SmtpEndpoint;
use message::compose_rendered;
use relay::Relay;

/// Tuning of one SMTP connection; the defaults suit production.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Bounds one delivery from connecting to the relay's final reply.
    pub timeout: Duration,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
        }
    }
}

/// The SMTP transport cannot start with this configuration. Each message starts with the
/// variable to fix and never repeats a password.
#[derive(Debug, Error)]
pub enum SmtpConfigError {
    #[error("MAIL_URL: {0}")]
    MailUrl(InvalidMailUrl),
    #[error("MAIL_URL: TLS cannot be set up for this relay: {0}")]
    Tls(lettre::transport::smtp::Error),
    #[error("MAIL_FROM: `{0}` is not a mailbox such as `allomedia <no-reply@example.com>`")]
    MailFrom(String),
}

/// The sender's mailbox (`MAIL_FROM`), checked.
pub fn parse_mail_from(from: &str) -> Result<Mailbox, SmtpConfigError> {
    from.parse()
        .map_err(|_| SmtpConfigError::MailFrom(from.to_owned()))
}

/// One connection to the relay, delivering sealed mails from the outbox.
pub struct SmtpTransport {
    from: Mailbox,
    sealing: Arc<MailSealing>,
    /// Held for one delivery at a time; a sender worker owns its transport, so this never
    /// waits in practice.
    relay: Mutex<Relay>,
}

impl SmtpTransport {
    /// A connection (opened at the first mail) to the relay `url` names (`MAIL_URL`), sending
    /// as `from` (`MAIL_FROM`), opening mails with `sealing`.
    pub fn new(
        url: &Url,
        from: &str,
        sealing: Arc<MailSealing>,
        settings: &SmtpSettings,
    ) -> Result<Self, SmtpConfigError> {
        let endpoint = SmtpEndpoint::from_url(url).map_err(SmtpConfigError::MailUrl)?;
        let from = parse_mail_from(from)?;
        let relay = Relay::new(endpoint, settings.timeout).map_err(SmtpConfigError::Tls)?;
        Ok(Self {
            from,
            sealing,
            relay: Mutex::new(relay),
        })
    }
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn deliver(&self, mail: &ClaimedMail) -> Result<(), DeliveryError> {
        let rendered = self.sealing.open(&mail.body).map_err(DeliveryError)?;
        let message = compose_rendered(rendered, &self.from, mail.id.as_uuid())
            .map_err(|error| DeliveryError(error.into()))?;
        self.relay
            .lock()
            .await
            .deliver(&message)
            .await
            .map_err(|error| DeliveryError(error.into()))
    }

    async fn rest(&self) {
        self.relay.lock().await.close().await;
    }
}
