//! The outbox survives a crash: the real binary answers a registration, fails to reach the
//! SMTP relay (not listening yet), and is killed with SIGKILL before any delivery. Restarted on
//! the same SQLite file once the relay is up, it delivers the verification mail, whose link
//! then confirms the account.

use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use reqwest::StatusCode;
use serde_json::json;
use tokio::time::sleep;

use crate::ALLOMEDIA;
use testkit::PASSWORD;
use testkit::process::Server;
use testkit::smtp_sink::SmtpSink;

const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_queued_before_a_sigkill_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("allomedia.db").display());
    // A port with nothing behind it yet: the relay is "down" until the sink takes it.
    let relay = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mail_url = format!("smtp://{relay}");
    let settings = [
        ("MAIL_URL", mail_url.as_str()),
        ("MAIL_FROM", "allomedia <no-reply@allomedia.test>"),
        ("MAIL_RETRY_MAX_SECONDS", "1"),
    ];
    let first = Server::start_with(&ALLOMEDIA, &database_url, dir.path(), "first", &settings).await;

    let answer = first
        .post(
            "/api/v1/auth/register",
            None,
            json!({"name": "Amina", "email": "amina@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    // The sender tried, the relay was not there, and the mail stays queued.
    let deadline = Instant::now() + DEADLINE;
    while !first
        .log_text()
        .contains("mail not delivered; it stays queued")
    {
        assert!(
            Instant::now() < deadline,
            "no failed attempt logged:\n{}",
            first.log_text()
        );
        sleep(Duration::from_millis(50)).await;
    }
    first.kill();

    let sink = SmtpSink::start_at(relay).await;
    let second =
        Server::start_with(&ALLOMEDIA, &database_url, dir.path(), "second", &settings).await;

    let mails = sink.wait_for_messages(1, DEADLINE).await;
    assert_eq!(mails[0].rcpt_to, ["amina@example.com"]);
    let parsed = MessageParser::default().parse(&mails[0].data).unwrap();
    let text = parsed.body_text(0).unwrap().into_owned();
    let token = text
        .split_whitespace()
        .find_map(|word| word.split("token=").nth(1)?.split('&').next())
        .expect("the mail carries the verification link")
        .to_owned();
    let verified = second
        .post("/api/v1/auth/verify-email", None, json!({"token": token}))
        .await;
    assert_eq!(verified.status, StatusCode::NO_CONTENT, "{verified:?}");
    // Delivered once: nothing more arrives while the sender keeps polling.
    sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.transcript().messages.len(), 1);
}
