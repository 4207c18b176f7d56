//! Adapters layer: mails written to the log instead of sent, for development
//! (`MAIL_URL=console://`; production refuses it, since the log then holds live codes and
//! links): `ConsoleTransport` delivers the outbox's mails there, and `ConsoleMailer` writes a
//! mail straight away (for commands that run no sender). May depend on the core, the mail
//! templates and sealing, url and tracing.

use std::sync::Arc;

use async_trait::async_trait;

use super::links::MailLinks;
use super::sealing::MailSealing;
use super::templates::{RenderedMail, render};
use crate::core::model::{ClaimedMail, Mail};
use crate::core::ports::{DeliveryError, MailError, MailTransport, Mailer};

/// The outbox's mails, delivered to the log at `info` in the same form as `ConsoleMailer`.
pub struct ConsoleTransport {
    sealing: Arc<MailSealing>,
}

impl ConsoleTransport {
    pub fn new(sealing: Arc<MailSealing>) -> Self {
        Self { sealing }
    }
}

#[async_trait]
impl MailTransport for ConsoleTransport {
    async fn deliver(&self, mail: &ClaimedMail) -> Result<(), DeliveryError> {
        let rendered = self.sealing.open(&mail.body).map_err(DeliveryError)?;
        log_mail(&mail.kind, &rendered);
        Ok(())
    }
}

/// Logs every mail at `info`: recipient, subject and the plain-text body.
#[derive(Debug, Clone)]
pub struct ConsoleMailer {
    links: MailLinks,
}

impl ConsoleMailer {
    pub fn new(links: MailLinks) -> Self {
        Self { links }
    }
}

#[async_trait]
impl Mailer for ConsoleMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let rendered = render(&mail, &self.links).map_err(|error| MailError(error.into()))?;
        log_mail(mail.message.kind(), &rendered);
        Ok(())
    }
}

/// Logs one mail: recipient, subject and the plain-text body.
fn log_mail(kind: &str, rendered: &RenderedMail) {
    // The body goes into the message, not a field: `fmt` prints the message verbatim, while a
    // `?` field would quote it and turn its line breaks into `\n`. So the link and the code
    // each stand on a line of their own, ready to copy. The fields follow the message, after
    // the closing rule.
    tracing::info!(
        mail_kind = kind,
        "mail to {} <{}>, not sent (console transport)\nSubject: {}\n\n{}\n---",
        rendered.to_name,
        rendered.to,
        rendered.subject,
        rendered.text,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Email, MailMessage};
    use std::io::Write;
    use std::sync::Mutex;

    /// Collects what the log subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// Sends `message` through the console mailer with the default `fmt` log format.
    async fn logged(message: MailMessage, ansi: bool) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(ansi)
            .with_writer(move || writer.clone())
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let links = MailLinks::new(url::Url::parse("https://example.com/shop/").unwrap()).unwrap();
        let mailer = ConsoleMailer::new(links);
        let mail = Mail {
            to: Email::parse("amina@example.com").unwrap(),
            to_name: "Amina".to_owned(),
            locale: crate::core::model::Locale::En,
            message,
        };

        mailer.send(mail).await.unwrap();
        captured.text()
    }

    #[tokio::test]
    async fn the_verification_link_is_logged_on_a_line_of_its_own_as_is() {
        let token = "Ab_9-xY".to_owned();

        for ansi in [false, true] {
            let log = logged(
                MailMessage::VerifyEmail {
                    token: token.clone(),
                    valid_hours: 24,
                },
                ansi,
            )
            .await;

            let link = "https://example.com/shop/account/verify-email?token=Ab_9-xY&lang=en";
            assert!(log.lines().any(|line| line == link), "{log}");
        }
    }

    #[tokio::test]
    async fn the_login_code_is_logged_on_a_line_of_its_own() {
        let log = logged(
            MailMessage::LoginCode {
                code: "042137".to_owned(),
                valid_minutes: 10,
            },
            false,
        )
        .await;

        assert!(log.lines().any(|line| line == "042137"), "{log}");
    }

    #[tokio::test]
    async fn the_log_names_the_recipient_the_subject_and_the_kind_of_mail() {
        let log = logged(MailMessage::RegistrationAttempt, false).await;

        assert!(log.contains("mail to Amina <amina@example.com>"), "{log}");
        assert!(log.contains("Subject: Someone tried to register with your address at allomedia"));
        assert!(log.contains("mail_kind=\"registration_attempt\""), "{log}");
    }
}
