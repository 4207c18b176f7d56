//! End to end: the durable outbox through an SMTP outage. The application runs on a free port
//! with a SQLite file and `MAIL_URL` on a loopback sink; the sink goes away for 30 seconds in
//! the middle of a burst of registrations and comes back on the same port. Every verification
//! mail arrives, each exactly once (one message per address, no Message-ID twice), and the
//! metrics show the retries.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use mail_parser::MessageParser;
use reqwest::StatusCode;
use serde_json::json;

use allomedia::app;
use allomedia::config::Config;
use testkit::smtp_sink::SmtpSink;

const PASSWORD: &str = "tulipe-marteau-orage";
const OUTAGE: Duration = Duration::from_secs(30);
/// Generous: with retries capped at 2 s, the queue drains within seconds of the relay's return.
const CATCH_UP: Duration = Duration::from_secs(60);

async fn register(http: &reqwest::Client, base: &str, email: &str) {
    let answer = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"name": "Amina", "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mail_of_a_burst_arrives_once_after_a_thirty_second_relay_outage() {
    let sink = SmtpSink::start().await;
    let relay = sink.address();
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("allomedia.db").display());
    let mail_url = sink.url().to_string();
    let config = Config::from_lookup(|name| match name {
        "HTTP_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(database_url.clone()),
        "MAIL_URL" => Some(mail_url.clone()),
        "MAIL_FROM" => Some("allomedia <no-reply@allomedia.test>".into()),
        "JWT_SECRET" => Some("an end-to-end secret of 32+ bytes!".into()),
        // So that the test need not wait out the production back-off once the relay is back;
        // 24 attempts 2 s apart outlast the 30 s outage (at 1 s the mails would be given up).
        "MAIL_RETRY_MAX_SECONDS" => Some("2".into()),
        "MAIL_SEND_TIMEOUT_SECONDS" => Some("2".into()),
        "METRICS_ADDR" => Some("127.0.0.1:0".into()),
        _ => None,
    })
    .unwrap();
    let running = app::start(config).await.unwrap();
    let base = format!("http://{}", running.local_addr);
    let http = reqwest::Client::new();
    let addresses: Vec<String> = (0..30).map(|n| format!("person{n}@example.com")).collect();

    // A third registers while the relay is up…
    for email in &addresses[..10] {
        register(&http, &base, email).await;
    }
    let before_outage = sink.wait_for_messages(10, CATCH_UP).await;
    // …then the relay goes away, the burst goes on, and it stays away for 30 s.
    drop(sink);
    let outage_started = tokio::time::Instant::now();
    for email in &addresses[10..] {
        register(&http, &base, email).await;
    }
    tokio::time::sleep_until(outage_started + OUTAGE).await;
    let sink = SmtpSink::start_at(relay).await;

    // The first ten reached the first sink; the twenty others arrive at the new one.
    // Together: every address, once.
    let arrived = sink
        .wait_until(|t| t.messages.len() >= 20, CATCH_UP)
        .await
        .messages;
    // Let the sender finish what it might still (wrongly) send twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let arrived_late = sink.transcript().messages;
    assert!(arrived_late.len() >= arrived.len());
    let mut per_address: HashMap<String, usize> = HashMap::new();
    let mut message_ids = HashSet::new();
    for message in before_outage.iter().chain(&arrived_late) {
        *per_address.entry(message.rcpt_to.join(",")).or_default() += 1;
        let parsed = MessageParser::default().parse(&message.data).unwrap();
        let id = parsed.message_id().unwrap().to_owned();
        assert!(message_ids.insert(id), "a mail was delivered twice");
    }
    assert!(
        per_address.values().all(|&count| count == 1),
        "{per_address:?}"
    );
    for email in &addresses {
        assert_eq!(per_address.get(email), Some(&1), "no mail to {email}");
    }

    // The metrics tell the story: attempts failed during the outage and were retried.
    let metrics = http
        .get(format!(
            "http://{}/metrics",
            running.metrics_addr.expect("a metrics listener")
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("allomedia_mail_deliveries_total{outcome=\"retried\"}"),
        "{metrics}"
    );
    running.stop().await.unwrap();
}
