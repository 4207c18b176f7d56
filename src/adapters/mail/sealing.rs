//! Adapters layer: mails sealed for the outbox. A mail is rendered when it is queued (links
//! from `PUBLIC_URL`, every template of `templates`), and the rendered mail — address, name,
//! subject, text and HTML — is sealed with the crypto adapter's `Sealer` under its own key.
//! May depend on the core, the templates, the crypto adapter's sealing and serde_json.

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::links::MailLinks;
use super::templates::{RenderedMail, render};
use crate::adapters::crypto::Sealer;
use crate::core::model::{Mail, SealedMail};
use crate::core::ports::{MailError, MailSealer};

/// Authenticated with every sealed mail, so a blob sealed for anything else never opens.
pub const MAIL_SEAL_PURPOSE: &[u8] = b"allomedia/outbox-mail/v1";

/// The rendered mail as sealed. A private format of this adapter: the store sees only the
/// sealed bytes.
#[derive(Serialize, Deserialize)]
struct MailBody {
    to: String,
    to_name: String,
    subject: String,
    text: String,
    html: String,
}

/// Seals mails for the outbox and opens them for the transports.
pub struct MailSealing {
    sealer: Sealer,
    links: MailLinks,
}

impl MailSealing {
    /// Mails sealed with `sealer` (keyed for mails only), their links from `links`. A mail is
    /// rendered — in its recipient's language — before it is queued, so the language is in
    /// the sealed text and survives the queue.
    pub fn new(sealer: Sealer, links: MailLinks) -> Self {
        Self { sealer, links }
    }

    /// The rendered mail inside `sealed`.
    pub fn open(&self, sealed: &SealedMail) -> anyhow::Result<RenderedMail> {
        let plain = self
            .sealer
            .open(sealed.as_bytes())
            .context("opening a queued mail")?;
        let body: MailBody =
            serde_json::from_slice(&plain).context("reading an opened queued mail")?;
        Ok(RenderedMail {
            to: body.to,
            to_name: body.to_name,
            subject: body.subject,
            text: body.text,
            html: body.html,
        })
    }
}

impl MailSealer for MailSealing {
    fn seal(&self, mail: &Mail) -> Result<SealedMail, MailError> {
        let rendered = render(mail, &self.links).map_err(|e| MailError(e.into()))?;
        let body = MailBody {
            to: rendered.to,
            to_name: rendered.to_name,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        };
        let plain = serde_json::to_vec(&body).map_err(|e| MailError(e.into()))?;
        self.sealer
            .seal(&plain)
            .map(SealedMail::from_bytes)
            .map_err(MailError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Email, MailMessage};

    fn sealing() -> MailSealing {
        let sealer = Sealer::new(b"test mail sealing key, 32 bytes!", MAIL_SEAL_PURPOSE).unwrap();
        MailSealing::new(sealer, links())
    }

    fn links() -> MailLinks {
        MailLinks::new(url::Url::parse("https://shop.example/").unwrap()).unwrap()
    }

    fn login_code() -> Mail {
        Mail {
            to: Email::parse("amina@example.com").unwrap(),
            to_name: "Amina".into(),
            locale: crate::core::model::Locale::En,
            message: MailMessage::LoginCode {
                code: "042137".into(),
                valid_minutes: 10,
            },
        }
    }

    #[test]
    fn a_sealed_mail_opens_to_the_rendered_mail() {
        let sealing = sealing();

        let sealed = sealing.seal(&login_code()).unwrap();

        let expected = render(&login_code(), &links());
        assert_eq!(sealing.open(&sealed).unwrap(), expected.unwrap());
    }

    #[test]
    fn neither_the_code_nor_the_address_can_be_read_in_the_sealed_mail() {
        let sealed = sealing().seal(&login_code()).unwrap();

        let bytes = sealed.as_bytes();
        assert!(!bytes.windows(6).any(|w| w == b"042137"));
        assert!(!bytes.windows(5).any(|w| w == b"amina"));
    }

    #[test]
    fn the_language_of_a_queued_mail_is_sealed_with_it() {
        let sealing = sealing();
        let in_french = Mail {
            locale: crate::core::model::Locale::Fr,
            ..login_code()
        };

        let opened = sealing.open(&sealing.seal(&in_french).unwrap()).unwrap();

        assert_eq!(opened.subject, "Votre code de connexion allomedia");
        assert!(opened.html.contains("<html lang=\"fr\""), "{}", opened.html);
    }

    #[test]
    fn a_mail_sealed_under_another_key_does_not_open() {
        let sealed = sealing().seal(&login_code()).unwrap();
        let other = MailSealing::new(
            Sealer::new(b"another mail sealing key 32 byte", MAIL_SEAL_PURPOSE).unwrap(),
            links(),
        );

        assert!(other.open(&sealed).is_err());
    }
}
