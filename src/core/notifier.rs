//! Core layer: sending the mails the use cases owe their users, through the `Mailer` port,
//! without letting a mail's failure change the outcome of a request.

use std::sync::Arc;

use super::model::Mail;
use super::ports::Mailer;

/// Sends mails on behalf of the use cases.
#[derive(Clone)]
pub struct Notifier {
    mailer: Arc<dyn Mailer>,
}

impl Notifier {
    pub fn new(mailer: Arc<dyn Mailer>) -> Self {
        Self { mailer }
    }

    /// Sends `mail`; a failure is logged, not returned: what the mail reports has already
    /// happened, and the user can always ask for another one. The log names the kind of mail,
    /// never its secret.
    pub async fn send(&self, mail: Mail) {
        let kind = mail.message.kind();
        if let Err(error) = self.mailer.send(mail).await {
            let error = anyhow::Error::new(error);
            tracing::warn!(
                mail_kind = kind,
                error = format!("{error:#}"),
                "mail could not be sent"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Email, MailMessage};
    use crate::core::testing::{RecordingMailer, block_on};

    #[test]
    fn a_mail_that_cannot_be_sent_is_tried_once_and_does_not_fail_the_caller() {
        let mailer = Arc::new(RecordingMailer::failing());
        let notifier = Notifier::new(mailer.clone());
        let mail = Mail {
            to: Email::parse("amina@example.com").unwrap(),
            to_name: "Amina".into(),
            locale: crate::core::model::Locale::En,
            message: MailMessage::PasswordChanged,
        };

        // `send` has no error to return: the request it belongs to goes on.
        block_on(notifier.send(mail.clone()));

        assert_eq!(mailer.attempted(), vec![mail]);
    }
}
