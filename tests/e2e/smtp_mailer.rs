//! The SMTP mailer over real SMTP conversations with a sink on loopback: what arrives, and
//! that a relay which refuses, is down or hangs never holds a request nor stops later mails.
//!
//! Tests run on the current-thread runtime of `#[tokio::test]`: the mailer's worker then runs
//! on the test's thread, so a log subscriber set for the test also sees the worker's lines.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use allomedia::adapters::mail::{SmtpConfigError, SmtpMailer, SmtpSettings};
use allomedia::core::model::{Email, Mail, MailMessage};
use allomedia::core::ports::Mailer;
use mail_parser::{MessageParser, MimeHeaders};
use testkit::smtp_sink::{Fault, Received, SmtpSink};
use tracing::subscriber::DefaultGuard;
use url::Url;

const FROM: &str = "allomedia <no-reply@allomedia.example>";
const PUBLIC_URL: &str = "https://allomedia.example/shop";
/// Generous: only a broken mailer comes near it.
const ARRIVAL: Duration = Duration::from_secs(5);

fn fast_settings() -> SmtpSettings {
    SmtpSettings {
        timeout: Duration::from_millis(300),
        ..SmtpSettings::default()
    }
}

fn mailer_for(url: &Url, settings: SmtpSettings) -> SmtpMailer {
    SmtpMailer::with_settings(url, FROM, Url::parse(PUBLIC_URL).unwrap(), settings).unwrap()
}

fn mail(to: &str, message: MailMessage) -> Mail {
    Mail {
        to: Email::parse(to).unwrap(),
        to_name: "Amina Benali".to_owned(),
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

/// Collects what the log subscriber writes.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures the logs of this thread until the guard is dropped.
    fn capture() -> (Self, DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
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
    let link = "https://allomedia.example/shop/api/v1/auth/verify-email?token=tok_EN-123abc";
    let text = message.body_text(0).unwrap();
    assert!(text.lines().any(|line| line == link), "{text}");
    let html = message.body_html(0).unwrap();
    assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
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
async fn a_refused_recipient_is_logged_without_address_or_code_and_the_next_mail_goes_through() {
    let (logs, _guard) = Logs::capture();
    let sink = SmtpSink::start_with([("bounce@example.com", Fault::Refuse)]).await;
    let mailer = mailer_for(&sink.url(), fast_settings());

    let refused = mailer
        .send(login_code("bounce@example.com", "918273"))
        .await;
    mailer
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();

    assert!(refused.is_ok(), "queued: the relay has not been asked yet");
    let received = sink.wait_for_messages(1, ARRIVAL).await;
    assert_eq!(received[0].rcpt_to, ["amina@example.com"]);
    // One worker delivers in order, so the refusal was logged before the second mail left.
    let logs = logs.text();
    let failure = logs
        .lines()
        .find(|line| line.contains("could not be delivered"))
        .unwrap_or_else(|| panic!("no failure logged: {logs}"));
    assert!(failure.contains("mail_kind=\"login_code\""), "{failure}");
    assert!(
        failure.contains("recipient_domain=\"example.com\""),
        "{failure}"
    );
    assert!(failure.contains("550"), "{failure}");
    assert!(!logs.contains("bounce@"), "{logs}");
    assert!(!logs.contains("918273"), "{logs}");
}

#[tokio::test]
async fn a_relay_that_is_down_is_logged_and_nothing_panics() {
    let (logs, _guard) = Logs::capture();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("smtp://127.0.0.1:{closed_port}")).unwrap();
    let mailer = mailer_for(&url, fast_settings());

    mailer
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();
    mailer.shutdown(ARRIVAL).await;

    let logs = logs.text();
    assert!(
        logs.lines()
            .any(|line| line.contains("could not be delivered")
                && line.contains("mail_kind=\"login_code\"")),
        "{logs}"
    );
}

#[tokio::test]
async fn a_relay_that_never_greets_is_abandoned_at_the_timeout() {
    let (logs, _guard) = Logs::capture();
    // Bound but never accepted: the kernel completes the handshake, then nothing is said.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("smtp://{}", silent.local_addr().unwrap())).unwrap();
    let mailer = mailer_for(&url, fast_settings());
    let started = Instant::now();

    mailer
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();
    mailer.shutdown(ARRIVAL).await;

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let logs = logs.text();
    assert!(logs.contains("did not finish within 300ms"), "{logs}");
}

#[tokio::test]
async fn a_relay_that_hangs_mid_mail_holds_no_request_and_the_next_mail_gets_a_new_connection() {
    let sink = SmtpSink::start_with([("slow@example.com", Fault::Hang)]).await;
    // Long enough that a `send` waiting on the relay could not pass for a quick one.
    let settings = SmtpSettings {
        timeout: Duration::from_secs(1),
        ..SmtpSettings::default()
    };
    let mailer = mailer_for(&sink.url(), settings);

    let started = Instant::now();
    mailer
        .send(login_code("slow@example.com", "918273"))
        .await
        .unwrap();
    mailer
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();
    let both_sends = started.elapsed();

    assert!(both_sends < Duration::from_millis(250), "{both_sends:?}");
    let received = sink.wait_for_messages(1, ARRIVAL).await;
    assert_eq!(received[0].rcpt_to, ["amina@example.com"]);
    assert!(started.elapsed() >= Duration::from_secs(1));
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
async fn an_idle_connection_is_closed_politely_and_reopened_for_the_next_mail() {
    let sink = SmtpSink::start().await;
    let settings = SmtpSettings {
        idle_timeout: Duration::from_millis(50),
        ..fast_settings()
    };
    let mailer = mailer_for(&sink.url(), settings);
    mailer
        .send(login_code("amina@example.com", "111111"))
        .await
        .unwrap();

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
async fn a_full_queue_refuses_the_mail_at_once() {
    let sink = SmtpSink::start().await;
    let settings = SmtpSettings {
        queue_capacity: 1,
        ..fast_settings()
    };
    let mailer = mailer_for(&sink.url(), settings);

    // Nothing in between yields to the worker, so the first mail still fills the queue.
    let first = mailer.send(login_code("amina@example.com", "111111")).await;
    let second = mailer.send(login_code("amina@example.com", "222222")).await;

    assert!(first.is_ok());
    let error = format!("{:#}", anyhow::Error::new(second.unwrap_err()));
    assert!(error.contains("queue is full"), "{error}");
    let received = sink.wait_for_messages(1, ARRIVAL).await;
    assert!(parse(&received[0]).body_text(0).unwrap().contains("111111"));
}

#[tokio::test]
async fn shutdown_delivers_what_is_queued_says_goodbye_and_refuses_later_mails() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url(), fast_settings());
    for code in ["111111", "222222"] {
        mailer
            .send(login_code("amina@example.com", code))
            .await
            .unwrap();
    }

    mailer.shutdown(ARRIVAL).await;

    let transcript = sink.transcript();
    assert_eq!(transcript.messages.len(), 2);
    assert_eq!(transcript.commands.last().map(String::as_str), Some("QUIT"));
    let late = mailer.send(login_code("amina@example.com", "333333")).await;
    assert!(late.is_err());
}

#[tokio::test]
async fn starttls_required_gives_nothing_to_a_relay_that_does_not_offer_it() {
    let (logs, _guard) = Logs::capture();
    let sink = SmtpSink::start().await;
    let mut url = sink.url();
    url.set_query(Some("tls=required"));
    let mailer = mailer_for(&url, fast_settings());

    mailer
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();
    mailer.shutdown(ARRIVAL).await;

    let transcript = sink.transcript();
    assert!(transcript.connections >= 1);
    assert!(
        transcript.commands.iter().all(|c| c.starts_with("EHLO")),
        "{:?}",
        transcript.commands
    );
    assert!(transcript.messages.is_empty());
    assert!(logs.text().contains("STARTTLS"), "{}", logs.text());
}

#[tokio::test]
async fn the_default_mail_from_is_accepted() {
    let url = Url::parse("smtp://127.0.0.1:2525").unwrap();

    let mailer = SmtpMailer::new(
        &url,
        "allomedia <no-reply@localhost>",
        Url::parse(PUBLIC_URL).unwrap(),
    );

    assert!(mailer.is_ok());
}

#[tokio::test]
async fn each_bad_setting_is_refused_naming_its_variable_and_never_the_password() {
    let public_url = Url::parse(PUBLIC_URL).unwrap();
    let relay = Url::parse("smtp://127.0.0.1:2525").unwrap();
    let clear_credentials = Url::parse("smtp://user:hunter2@mail.example.com").unwrap();
    let mailto = Url::parse("mailto:admin@example.com").unwrap();

    for (result, variable) in [
        (
            SmtpMailer::new(&relay, "no mailbox here", public_url.clone()),
            "MAIL_FROM",
        ),
        (
            SmtpMailer::new(&clear_credentials, FROM, public_url.clone()),
            "MAIL_URL",
        ),
        (SmtpMailer::new(&relay, FROM, mailto), "PUBLIC_URL"),
    ] {
        let error = result.err().unwrap().to_string();
        assert!(error.starts_with(variable), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}

#[test]
fn outside_a_tokio_runtime_the_mailer_refuses_to_start() {
    let url = Url::parse("smtp://127.0.0.1:2525").unwrap();

    let result = SmtpMailer::new(&url, FROM, Url::parse(PUBLIC_URL).unwrap());

    assert!(matches!(result, Err(SmtpConfigError::NoRuntime)));
}
