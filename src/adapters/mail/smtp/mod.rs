//! Adapters layer: a `core::ports::Mailer` that delivers through an SMTP relay
//! (`MAIL_URL=smtp://…` or `smtps://…`). May depend on the core, the mail templates, lettre,
//! tokio and tracing.
//!
//! `send` renders the mail and puts it on a bounded queue; one background worker delivers the
//! queue in order over one reused connection. So `send` takes microseconds whatever the relay
//! does, and the answer to register, resend or login cannot reveal by its latency which mail
//! (if any) was sent. The price: `Ok` from `send` means "queued", not "delivered". A mail that
//! then fails is logged by the worker with its kind and the recipient's domain — never the
//! address, the code or the link — and the next one is tried as usual. A full queue (the relay
//! far slower than the traffic) refuses the mail at once rather than hold the request.

mod endpoint;
mod message;
mod relay;

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use url::Url;

pub use endpoint::InvalidMailUrl;

use super::templates::{NotABaseUrl, verification_link};
use crate::core::model::Mail;
use crate::core::ports::{MailError, Mailer};
use endpoint::SmtpEndpoint;
use message::compose;
use relay::Relay;

/// Tuning of the SMTP mailer; the defaults suit production.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Bounds one delivery from connecting to the relay's final reply.
    pub timeout: Duration,
    /// Mails waiting for the worker; beyond this `send` fails at once.
    pub queue_capacity: usize,
    /// How long the connection stays open without a mail (RFC 5321 lets a relay close it
    /// after 5 minutes; we hang up well before).
    pub idle_timeout: Duration,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            queue_capacity: 1024,
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// The SMTP mailer cannot start with this configuration. Each message starts with the
/// variable to fix and never repeats a password.
#[derive(Debug, Error)]
pub enum SmtpConfigError {
    #[error("MAIL_URL: {0}")]
    MailUrl(InvalidMailUrl),
    #[error("MAIL_URL: TLS cannot be set up for this relay: {0}")]
    Tls(lettre::transport::smtp::Error),
    #[error("MAIL_FROM: `{0}` is not a mailbox such as `allomedia <no-reply@example.com>`")]
    MailFrom(String),
    #[error(transparent)]
    PublicUrl(#[from] NotABaseUrl),
    #[error("the SMTP mailer starts a background task and must be created inside a Tokio runtime")]
    NoRuntime,
}

/// One mail on its way to the worker.
struct Outgoing {
    message: lettre::Message,
    kind: &'static str,
    recipient_domain: String,
}

/// Delivers mails through an SMTP relay, from a background queue.
pub struct SmtpMailer {
    from: Mailbox,
    public_url: Url,
    /// `None` once shut down; `send` then refuses.
    queue: Mutex<Option<mpsc::Sender<Outgoing>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpMailer {
    /// A mailer for `url` (`MAIL_URL`), sending as `from` (`MAIL_FROM`) with links built from
    /// `public_url` (`PUBLIC_URL`). Starts its worker, so it must run inside a Tokio runtime.
    pub fn new(url: &Url, from: &str, public_url: Url) -> Result<Self, SmtpConfigError> {
        Self::with_settings(url, from, public_url, SmtpSettings::default())
    }

    pub fn with_settings(
        url: &Url,
        from: &str,
        public_url: Url,
        settings: SmtpSettings,
    ) -> Result<Self, SmtpConfigError> {
        let endpoint = SmtpEndpoint::from_url(url).map_err(SmtpConfigError::MailUrl)?;
        let from: Mailbox = from
            .parse()
            .map_err(|_| SmtpConfigError::MailFrom(from.to_owned()))?;
        // Every mail with a link would fail later; better to refuse to start.
        verification_link(&public_url, "probe")?;
        let relay = Relay::new(endpoint, settings.timeout).map_err(SmtpConfigError::Tls)?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| SmtpConfigError::NoRuntime)?;
        let (queue, waiting) = mpsc::channel(settings.queue_capacity.max(1));
        let worker = runtime.spawn(deliver_queue(waiting, relay, settings.idle_timeout));
        Ok(Self {
            from,
            public_url,
            queue: Mutex::new(Some(queue)),
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Stops taking mails and lets the worker deliver those already queued, for at most
    /// `grace`; what is left after that is dropped (and logged). For graceful shutdown.
    pub async fn shutdown(&self, grace: Duration) {
        // Dropping the only sender ends the worker's loop once the queue is empty.
        drop(lock(&self.queue).take());
        let Some(mut worker) = lock(&self.worker).take() else {
            return;
        };
        if tokio::time::timeout(grace, &mut worker).await.is_err() {
            worker.abort();
            tracing::warn!(
                grace_seconds = grace.as_secs_f64(),
                "mail queue not delivered in time at shutdown; the remaining mails are dropped"
            );
        }
    }
}

/// The guarded value even if a thread panicked while holding the lock: an `Option` swapped in
/// one step cannot be left half-changed.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message =
            compose(&mail, &self.from, &self.public_url).map_err(|e| MailError(e.into()))?;
        let outgoing = Outgoing {
            message,
            kind: mail.message.kind(),
            recipient_domain: recipient_domain(&mail),
        };
        let queue = lock(&self.queue);
        let queue = queue
            .as_ref()
            .ok_or_else(|| MailError(anyhow::anyhow!("the SMTP mailer is shut down")))?;
        queue.try_send(outgoing).map_err(|error| {
            MailError(match error {
                mpsc::error::TrySendError::Full(_) => {
                    anyhow::anyhow!("the mail queue is full: the SMTP relay is slow or down")
                }
                mpsc::error::TrySendError::Closed(_) => {
                    anyhow::anyhow!("the mail worker has stopped")
                }
            })
        })
    }
}

fn recipient_domain(mail: &Mail) -> String {
    let address = mail.to.as_str();
    address
        .rsplit_once('@')
        .map_or(address, |(_, domain)| domain)
        .to_owned()
}

/// The worker: delivers queued mails in order until every sender is gone and the queue is
/// empty, hanging up after `idle_timeout` without mail.
async fn deliver_queue(
    mut queue: mpsc::Receiver<Outgoing>,
    mut relay: Relay,
    idle_timeout: Duration,
) {
    loop {
        let next = if relay.is_connected() {
            match tokio::time::timeout(idle_timeout, queue.recv()).await {
                Ok(next) => next,
                Err(_idle) => {
                    relay.close().await;
                    continue;
                }
            }
        } else {
            queue.recv().await
        };
        let Some(outgoing) = next else { break };
        match relay.deliver(&outgoing.message).await {
            Ok(()) => tracing::debug!(mail_kind = outgoing.kind, "mail handed to the relay"),
            Err(error) => {
                let error = anyhow::Error::new(error);
                tracing::warn!(
                    mail_kind = outgoing.kind,
                    recipient_domain = outgoing.recipient_domain,
                    error = format!("{error:#}"),
                    "mail could not be delivered to the SMTP relay"
                );
            }
        }
    }
    relay.close().await;
}
