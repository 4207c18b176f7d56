//! The SMTP transport over real SMTP conversations with a sink on loopback: what arrives, and
//! that a relay which refuses, is down or hangs fails the delivery within the time limit,
//! without the address or the code in the error, and never stops later mails.

use std::sync::Arc;
use std::time::Duration;

use allomedia::adapters::crypto::Sealer;
use allomedia::adapters::mail::{MAIL_SEAL_PURPOSE, MailSealing, SmtpSettings, SmtpTransport};
use allomedia::core::model::{ClaimedMail, Email, Mail, MailMessage, OutboxMailId};
use allomedia::core::ports::{DeliveryError, MailSealer, MailTransport};
use chrono::Utc;
use mail_parser::{MessageParser, MimeHeaders};
use testkit::smtp_sink::{Fault, Received, SmtpSink};
use url::Url;

const FROM: &str = "allomedia <no-reply@allomedia.example>";
const PUBLIC_URL: &str = "https://allomedia.example/shop";
/// Generous: only a broken mailer comes near it.
const ARRIVAL: Duration = Duration::from_secs(5);

fn fast_settings() -> SmtpSettings {
    SmtpSettings {
        timeout: Duration::from_millis(300),
    }
}

fn sealing() -> Arc<MailSealing> {
    let sealer = Sealer::new(&[4; 32], MAIL_SEAL_PURPOSE).unwrap();
    Arc::new(MailSealing::new(
        sealer,
        allomedia::adapters::mail::MailLinks::new(Url::parse(PUBLIC_URL).unwrap()).unwrap(),
    ))
}

/// One SMTP connection, and the sealing the outbox would have used for its mails.
struct Mailer {
    sealing: Arc<MailSealing>,
    transport: SmtpTransport,
}

impl Mailer {
    /// Seals `mail` as the outbox does and delivers it as a claimed mail.
    async fn send(&self, mail: Mail) -> Result<(), DeliveryError> {
        let claimed = ClaimedMail {
            id: OutboxMailId::new(),
            kind: mail.message.kind().to_owned(),
            body: self.sealing.seal(&mail).unwrap(),
            attempt: 1,
            created_at: Utc::now(),
            lease_until: Utc::now(),
        };
        self.transport.deliver(&claimed).await
    }
}

fn mailer_for(url: &Url, settings: SmtpSettings) -> Mailer {
    let sealing = sealing();
    let transport = SmtpTransport::new(url, FROM, sealing.clone(), &settings).unwrap();
    Mailer { sealing, transport }
}

/// The whole error chain of a failed delivery.
fn failure(result: Result<(), DeliveryError>) -> String {
    format!("{:#}", anyhow::Error::new(result.unwrap_err()))
}

fn mail(to: &str, message: MailMessage) -> Mail {
    Mail {
        to: Email::parse(to).unwrap(),
        to_name: "Amina Benali".to_owned(),
        locale: allomedia::core::model::Locale::En,
        message,
    }
}

fn login_code(to: &str, code: &str) -> Mail {
    mail(
        to,
        MailMessage::LoginCode {
            code: code.to_owned(),
            valid_minutes: 10,
        },
    )
}

fn parse(received: &Received) -> mail_parser::Message<'_> {
    MessageParser::default().parse(&received.data).unwrap()
}

/// The content types of the message and its parts, in order.
fn structure(message: &mail_parser::Message<'_>) -> Vec<String> {
    message
        .parts
        .iter()
        .filter_map(|part| part.content_type())
        .map(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn the_verification_mail_arrives_with_the_exact_link_in_text_and_html() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url(), fast_settings());
    let verify = mail(
        "amina@example.com",
        MailMessage::VerifyEmail {
            token: "tok_EN-123abc".to_owned(),
            valid_hours: 24,
        },
    );

    mailer.send(verify).await.unwrap();

    let received = sink.wait_for_messages(1, ARRIVAL).await;
    assert_eq!(received[0].mail_from, "no-reply@allomedia.example");
    assert_eq!(received[0].rcpt_to, ["amina@example.com"]);
    let message = parse(&received[0]);
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("allomedia"));
    assert_eq!(from.address(), Some("no-reply@allomedia.example"));
    let to = message.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("Amina Benali"));
    assert_eq!(to.address(), Some("amina@example.com"));
    assert_eq!(
        message.subject(),
        Some("Confirm your email address for allomedia")
    );
    assert_eq!(
        structure(&message),
        ["multipart/alternative", "text/plain", "text/html"]
    );
    let link = "https://allomedia.example/shop/account/verify-email?token=tok_EN-123abc&lang=en";
    let text = message.body_text(0).unwrap();
    assert!(text.lines().any(|line| line == link), "{text}");
    let html = message.body_html(0).unwrap();
    // askama escapes `&` as the numeric reference `&#38;`, which every mail client reads as `&`.
    let escaped = link.replace('&', "&#38;");
    assert!(html.contains(&format!("href=\"{escaped}\"")), "{html}");
}

#[tokio::test]
async fn the_login_code_mail_arrives_with_the_six_digit_code_in_text_and_html() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url(), fast_settings());

    mailer
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();

    let received = sink.wait_for_messages(1, ARRIVAL).await;
    assert_eq!(received[0].rcpt_to, ["amina@example.com"]);
    let message = parse(&received[0]);
    assert_eq!(message.subject(), Some("Your allomedia sign-in code"));
    assert_eq!(
        message.from().unwrap().first().unwrap().address(),
        Some("no-reply@allomedia.example")
    );
    assert_eq!(
        structure(&message),
        ["multipart/alternative", "text/plain", "text/html"]
    );
    let text = message.body_text(0).unwrap();
    assert!(text.lines().any(|line| line == "042137"), "{text}");
    assert!(message.body_html(0).unwrap().contains(">042137</p>"));
}

#[tokio::test]
async fn mails_in_a_row_arrive_in_order_over_one_connection() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url(), fast_settings());

    for code in ["111111", "222222", "333333"] {
        mailer
            .send(login_code("amina@example.com", code))
            .await
            .unwrap();
    }

    let received = sink.wait_for_messages(3, ARRIVAL).await;
    let codes: Vec<String> = received
        .iter()
        .map(|r| {
            let text = parse(r).body_text(0).unwrap().into_owned();
            text.lines()
                .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(codes, ["111111", "222222", "333333"]);
    assert_eq!(sink.transcript().connections, 1);
}

#[tokio::test]
async fn a_refused_recipient_fails_without_address_or_code_and_the_next_mail_goes_through() {
    let sink = SmtpSink::start_with([("bounce@example.com", Fault::Refuse)]).await;
    let mailer = mailer_for(&sink.url(), fast_settings());

    let refused = mailer
        .send(login_code("bounce@example.com", "918273"))
        .await;
    mailer
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();

    let received = sink.wait_for_messages(1, ARRIVAL).await;
    assert_eq!(received[0].rcpt_to, ["amina@example.com"]);
    let error = failure(refused);
    assert!(error.contains("550"), "{error}");
    assert!(!error.contains("bounce@"), "{error}");
    assert!(!error.contains("918273"), "{error}");
}

#[tokio::test]
async fn a_relay_that_is_down_fails_the_delivery() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("smtp://127.0.0.1:{closed_port}")).unwrap();
    let mailer = mailer_for(&url, fast_settings());

    let delivered = mailer.send(login_code("amina@example.com", "042137")).await;

    let error = failure(delivered);
    assert!(
        error.contains("conversation with the relay failed"),
        "{error}"
    );
}

#[tokio::test]
async fn a_relay_that_never_greets_is_abandoned_at_the_timeout() {
    // Bound but never accepted: the kernel completes the handshake, then nothing is said.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("smtp://{}", silent.local_addr().unwrap())).unwrap();
    let mailer = mailer_for(&url, fast_settings());

    let delivered = mailer.send(login_code("amina@example.com", "042137")).await;

    let error = failure(delivered);
    assert!(error.contains("did not finish within 300ms"), "{error}");
}

#[tokio::test]
async fn a_relay_that_hangs_mid_mail_fails_at_the_timeout_and_the_next_mail_gets_a_new_connection()
{
    let sink = SmtpSink::start_with([("slow@example.com", Fault::Hang)]).await;
    let mailer = mailer_for(&sink.url(), fast_settings());

    let hung = mailer.send(login_code("slow@example.com", "918273")).await;
    mailer
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();

    assert!(failure(hung).contains("did not finish within 300ms"));
    let received = sink.wait_for_messages(1, ARRIVAL).await;
    assert_eq!(received[0].rcpt_to, ["amina@example.com"]);
    assert_eq!(sink.transcript().connections, 2);
}

#[tokio::test]
async fn a_connection_the_relay_closed_is_replaced_before_the_next_mail() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url(), fast_settings());
    mailer
        .send(login_code("amina@example.com", "111111"))
        .await
        .unwrap();
    sink.wait_for_messages(1, ARRIVAL).await;

    sink.drop_connections();
    mailer
        .send(login_code("amina@example.com", "222222"))
        .await
        .unwrap();

    let received = sink.wait_for_messages(2, ARRIVAL).await;
    assert!(parse(&received[1]).body_text(0).unwrap().contains("222222"));
    assert_eq!(sink.transcript().connections, 2);
}

#[tokio::test]
async fn a_resting_transport_says_goodbye_and_reconnects_for_the_next_mail() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url(), fast_settings());
    mailer
        .send(login_code("amina@example.com", "111111"))
        .await
        .unwrap();

    mailer.transport.rest().await;
    sink.wait_until(
        |t| t.commands.last().map(String::as_str) == Some("QUIT"),
        ARRIVAL,
    )
    .await;
    mailer
        .send(login_code("amina@example.com", "222222"))
        .await
        .unwrap();

    sink.wait_for_messages(2, ARRIVAL).await;
    assert_eq!(sink.transcript().connections, 2);
}

#[tokio::test]
async fn starttls_required_gives_nothing_to_a_relay_that_does_not_offer_it() {
    let sink = SmtpSink::start().await;
    let mut url = sink.url();
    url.set_query(Some("tls=required"));
    let mailer = mailer_for(&url, fast_settings());

    let delivered = mailer.send(login_code("amina@example.com", "042137")).await;

    let transcript = sink.transcript();
    assert!(transcript.connections >= 1);
    assert!(
        transcript.commands.iter().all(|c| c.starts_with("EHLO")),
        "{:?}",
        transcript.commands
    );
    assert!(transcript.messages.is_empty());
    let error = failure(delivered);
    assert!(error.contains("STARTTLS"), "{error}");
}

#[tokio::test]
async fn the_default_mail_from_is_accepted() {
    let url = Url::parse("smtp://127.0.0.1:2525").unwrap();

    let transport = SmtpTransport::new(
        &url,
        "allomedia <no-reply@localhost>",
        sealing(),
        &SmtpSettings::default(),
    );

    assert!(transport.is_ok());
}

#[tokio::test]
async fn each_bad_setting_is_refused_naming_its_variable_and_never_the_password() {
    let relay = Url::parse("smtp://127.0.0.1:2525").unwrap();
    let clear_credentials = Url::parse("smtp://user:hunter2@mail.example.com").unwrap();
    let mailto = Url::parse("mailto:admin@example.com").unwrap();
    let settings = SmtpSettings::default();

    for (error, variable) in [
        (
            SmtpTransport::new(&relay, "no mailbox here", sealing(), &settings)
                .err()
                .unwrap()
                .to_string(),
            "MAIL_FROM",
        ),
        (
            SmtpTransport::new(&clear_credentials, FROM, sealing(), &settings)
                .err()
                .unwrap()
                .to_string(),
            "MAIL_URL",
        ),
        (
            allomedia::adapters::mail::MailLinks::new(mailto)
                .err()
                .unwrap()
                .to_string(),
            "PUBLIC_URL",
        ),
    ] {
        assert!(error.starts_with(variable), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}
