//! Adapters layer: one connection to the SMTP relay, kept open between mails and dropped at
//! the first sign of trouble. May depend on lettre, tokio and the endpoint settings.
//!
//! Why not lettre's `AsyncSmtpTransport` pool: in lettre 0.11 an async connection has a
//! timeout on connecting only, never on reading, so a relay that stops answering hangs a send
//! for ever; and a send cancelled by an outer timeout hands its half-finished connection back
//! to the pool as healthy, where the next mail waits on it too (seen against the test sink).
//! Owning the connection lets every step be bounded and a connection that timed out be
//! dropped, never reused.

use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Code;
use thiserror::Error;

use super::endpoint::{SmtpEndpoint, TransportSecurity};

/// Why a mail did not reach the relay. Deliberately without the relay's reply text, which
/// often repeats the recipient's address: the reply code says enough to act on.
#[derive(Debug, Error)]
pub enum DeliveryError {
    /// A 4xx (transient) or 5xx (permanent) reply, to the mail or to our credentials.
    #[error("the relay refused with reply code {0}")]
    Refused(Code),
    #[error("the relay did not finish within {0:?}")]
    TimedOut(Duration),
    /// lettre's message already ends with its cause, so it is shown here rather than chained
    /// as a source, which would print the cause twice.
    #[error("the conversation with the relay failed: {0}")]
    Transport(lettre::transport::smtp::Error),
}

impl From<lettre::transport::smtp::Error> for DeliveryError {
    fn from(error: lettre::transport::smtp::Error) -> Self {
        match error.status() {
            Some(code) => DeliveryError::Refused(code),
            None => DeliveryError::Transport(error),
        }
    }
}

/// The relay and, between mails, an open connection to it.
pub struct Relay {
    endpoint: SmtpEndpoint,
    /// Built once: loading the root certificates is not free.
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello_name: ClientId,
    timeout: Duration,
    connection: Option<AsyncSmtpConnection>,
}

impl Relay {
    /// `timeout` bounds each delivery as a whole: connecting, TLS, greeting, authentication
    /// and the transaction.
    pub fn new(
        endpoint: SmtpEndpoint,
        timeout: Duration,
    ) -> Result<Self, lettre::transport::smtp::Error> {
        let tls = match endpoint.security {
            TransportSecurity::Plain => None,
            TransportSecurity::StartTlsRequired | TransportSecurity::ImplicitTls => {
                Some(TlsParameters::new(endpoint.host.clone())?)
            }
        };
        let credentials = endpoint
            .credentials
            .as_ref()
            .map(|c| Credentials::new(c.username.clone(), c.password.clone()));
        Ok(Self {
            endpoint,
            tls,
            credentials,
            hello_name: ClientId::default(),
            timeout,
            connection: None,
        })
    }

    /// Hands `message` to the relay, within the timeout. On any failure the connection is
    /// dropped, so the next mail starts afresh.
    pub async fn deliver(&mut self, message: &Message) -> Result<(), DeliveryError> {
        match tokio::time::timeout(self.timeout, self.deliver_unbounded(message)).await {
            Ok(result) => result,
            // The cancelled future owned the connection, so it is already closed.
            Err(_) => Err(DeliveryError::TimedOut(self.timeout)),
        }
    }

    /// Says goodbye to the relay, if connected (bounded by the timeout).
    pub async fn close(&mut self) {
        if let Some(mut connection) = self.connection.take() {
            let _ = tokio::time::timeout(self.timeout, connection.quit()).await;
        }
    }

    async fn deliver_unbounded(&mut self, message: &Message) -> Result<(), DeliveryError> {
        // Taken out while in use: if the timeout cancels us, it is dropped with the future.
        let reusable = match self.connection.take() {
            // The relay may have closed an idle connection; NOOP finds out cheaply.
            Some(mut connection) => connection.test_connected().await.then_some(connection),
            None => None,
        };
        let mut connection = match reusable {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        connection
            .send(message.envelope(), &message.formatted())
            .await?;
        self.connection = Some(connection);
        Ok(())
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, DeliveryError> {
        let implicit_tls = match self.endpoint.security {
            TransportSecurity::ImplicitTls => self.tls.clone(),
            TransportSecurity::Plain | TransportSecurity::StartTlsRequired => None,
        };
        let mut connection = AsyncSmtpConnection::connect_tokio1(
            (self.endpoint.host.as_str(), self.endpoint.port),
            Some(self.timeout),
            &self.hello_name,
            implicit_tls,
            None,
        )
        .await?;
        if let (TransportSecurity::StartTlsRequired, Some(tls)) =
            (self.endpoint.security, &self.tls)
        {
            // Fails when the relay does not offer STARTTLS, before credentials or mail.
            connection.starttls(tls.clone(), &self.hello_name).await?;
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(connection)
    }
}
