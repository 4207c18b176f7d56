//! Adapters layer: turns a core `Mail` into a MIME message — plain text and HTML alternatives
//! from the shared templates. May depend on the core, the mail templates, lettre and uuid.

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use thiserror::Error;
use uuid::Uuid;

use super::super::links::NotABaseUrl;
use super::super::templates::RenderedMail;

#[derive(Debug, Error)]
pub enum ComposeError {
    #[error(transparent)]
    PublicUrl(#[from] NotABaseUrl),
    /// The core's `Email` is stricter than RFC 5322, so this means the two disagree.
    #[error("the recipient address is not accepted by the message builder")]
    Recipient(#[source] lettre::address::AddressError),
    #[error("the message could not be built")]
    Build(#[source] lettre::error::Error),
}

/// The MIME message for a rendered mail, sent by `from`. `id` names the message
/// (`Message-ID: <id@from's domain>`): the outbox passes the mail's own id, so a mail sent
/// again after a lost acknowledgement carries the same id, and mail clients show it once.
pub fn compose_rendered(
    rendered: RenderedMail,
    from: &Mailbox,
    id: Uuid,
) -> Result<Message, ComposeError> {
    let address = rendered.to.parse().map_err(ComposeError::Recipient)?;
    let name = display_name(&rendered.to_name);
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(name, address))
        .subject(rendered.subject)
        // Our own id, on the sender's domain: relays would otherwise add one, and lettre's
        // default would name this machine's host.
        .message_id(Some(format!("<{}@{}>", id.simple(), from.email.domain())))
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .map_err(ComposeError::Build)
}

/// The recipient's name as a `To` display name, or none if blank. The name is user input:
/// lettre quotes and encodes it (RFC 2047), so quotes or angle brackets in it cannot add
/// headers or recipients, but it panics on control characters — which the core's `Name`
/// refuses anyway — so they become spaces here rather than take a request down.
fn display_name(name: &str) -> Option<String> {
    let printable: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = printable.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::mail::links::MailLinks;
    use crate::adapters::mail::templates::render;
    use crate::core::model::{Email, Mail, MailMessage};
    use mail_parser::MessageParser;
    use url::Url;

    /// The MIME message for `mail`, sent by `from`, with links built from `public_url`.
    fn compose(mail: &Mail, from: &Mailbox, public_url: &Url) -> Result<Message, ComposeError> {
        let links = MailLinks::new(public_url.clone())?;
        compose_rendered(render(mail, &links)?, from, Uuid::now_v7())
    }

    fn login_code_mail(to_name: &str) -> Mail {
        Mail {
            to: Email::parse("amina@example.com").unwrap(),
            to_name: to_name.to_owned(),
            locale: crate::core::model::Locale::En,
            message: MailMessage::LoginCode {
                code: "042137".to_owned(),
                valid_minutes: 10,
            },
        }
    }

    fn composed(mail: &Mail) -> Message {
        let from: Mailbox = "allomedia <no-reply@allomedia.example>".parse().unwrap();
        compose(
            mail,
            &from,
            &Url::parse("https://allomedia.example").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_name_in_any_script_reaches_the_to_header_intact() {
        let message = composed(&login_code_mail("أمينة Zoë"));

        let raw = message.formatted();
        let parsed = MessageParser::default().parse(&raw).unwrap();
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.name(), Some("أمينة Zoë"));
        assert_eq!(to.address(), Some("amina@example.com"));
    }

    #[test]
    fn a_hostile_name_cannot_add_headers_or_recipients() {
        for (name, shown) in [
            (
                "Amina\r\nBcc: thief@evil.example",
                "Amina  Bcc: thief@evil.example",
            ),
            (
                "\"Amina\" <thief@evil.example>, x",
                "\"Amina\" <thief@evil.example>, x",
            ),
            ("back\\slash\ttab\0nul", "back\\slash tab nul"),
        ] {
            let message = composed(&login_code_mail(name));

            let raw = message.formatted();
            let text = String::from_utf8_lossy(&raw);
            let (headers, _body) = text.split_once("\r\n\r\n").unwrap();
            assert!(
                !headers
                    .lines()
                    .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
                "{text}"
            );
            let recipients: Vec<String> = message
                .envelope()
                .to()
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(recipients, ["amina@example.com"], "{name:?}");
            let parsed = MessageParser::default().parse(&raw).unwrap();
            let to: Vec<_> = parsed.to().unwrap().iter().collect();
            assert_eq!(to.len(), 1, "{text}");
            assert_eq!(to[0].name(), Some(shown), "{text}");
            assert_eq!(to[0].address(), Some("amina@example.com"));
        }
    }

    #[test]
    fn a_long_name_is_folded_and_comes_back_whole() {
        let long = "Amina ".repeat(40);

        let raw = composed(&login_code_mail(&long)).formatted();

        let text = String::from_utf8_lossy(&raw);
        assert!(text.lines().all(|line| line.len() <= 998), "{text}");
        let parsed = MessageParser::default().parse(&raw).unwrap();
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.name(), Some(long.trim()));
    }

    #[test]
    fn an_empty_name_leaves_a_bare_address() {
        let message = composed(&login_code_mail("  "));

        let raw = message.formatted();
        let parsed = MessageParser::default().parse(&raw).unwrap();
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.name(), None);
    }

    #[test]
    fn the_message_id_is_on_the_sender_domain() {
        let message = composed(&login_code_mail("Amina"));

        let raw = message.formatted();
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert!(
            parsed.message_id().unwrap().ends_with("@allomedia.example"),
            "{:?}",
            parsed.message_id()
        );
    }
}
