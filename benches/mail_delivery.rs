//! Benchmark: how fast the outbox delivers to an SMTP relay on loopback. Queues `MAILS` login
//! codes (default 3000, to distinct addresses) in a SQLite outbox, then starts the sender with
//! `CONNECTIONS` SMTP connections (default: the `MAIL_CONNECTIONS` default) against the test
//! SMTP sink and times until the outbox has none queued. `scripts/bench.sh` reports the rate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use allomedia::adapters::crypto::{HmacDigester, Sealer, SystemClock};
use allomedia::adapters::mail::{
    MAIL_SEAL_PURPOSE, MailSealing, MailSender, SenderSettings, SmtpSettings, SmtpTransport,
};
use allomedia::adapters::metrics::Metrics;
use allomedia::adapters::sqlite::SqliteStore;
use allomedia::config::MailDelivery;
use allomedia::core::model::{Email, Locale, Mail, MailMessage};
use allomedia::core::outbox::{Courier, MailPolicy, Outbox};
use allomedia::core::ports::{Clock, MailTransport, Mailer, OutboxStore};
use allomedia::core::request_limit::RequestLimits;
use testkit::smtp_sink::SmtpSink;
use url::Url;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mails = setting("MAILS", 3000);
    let connections = setting("CONNECTIONS", MailDelivery::default().connections);
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).expect("a SQLite file"));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sealer = Sealer::new(&[7; 32], MAIL_SEAL_PURPOSE).expect("a 32-byte key");
    let sealing = Arc::new(MailSealing::new(
        sealer,
        allomedia::adapters::mail::MailLinks::new(Url::parse("http://127.0.0.1:8080").unwrap())
            .expect("a base URL"),
    ));
    let policy = MailPolicy::default();
    let outbox = Outbox::new(
        store.clone(),
        RequestLimits::new(store.clone(), clock.clone()),
        sealing.clone(),
        Arc::new(HmacDigester::new(&[9; 32]).expect("a 32-byte key")),
        clock.clone(),
        policy.clone(),
    );

    let queueing = Instant::now();
    for n in 0..mails {
        let mail = Mail {
            to: Email::parse(&format!("person{n}@example.com")).unwrap(),
            to_name: "Amina".to_owned(),
            locale: Locale::default(),
            message: MailMessage::LoginCode {
                code: format!("{:06}", n % 1_000_000),
                valid_minutes: 10,
            },
        };
        outbox.send(mail).await.expect("queued");
    }
    let queued_per_second = mails as f64 / queueing.elapsed().as_secs_f64();

    let transports: Vec<Arc<dyn MailTransport>> = (0..connections)
        .map(|_| {
            Arc::new(
                SmtpTransport::new(
                    &sink.url(),
                    "allomedia <no-reply@allomedia.test>",
                    sealing.clone(),
                    &SmtpSettings::default(),
                )
                .expect("a loopback relay"),
            ) as Arc<dyn MailTransport>
        })
        .collect();
    let delivering = Instant::now();
    let sender = MailSender::start(
        Courier::new(store.clone(), clock, policy),
        transports,
        SenderSettings::default(),
        Metrics::new(),
    );
    loop {
        let status = store.outbox_status().await.expect("the outbox's status");
        if status.queued == 0 {
            break;
        }
        assert!(
            delivering.elapsed() < Duration::from_secs(600),
            "not delivered within 10 minutes: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered_per_second = mails as f64 / delivering.elapsed().as_secs_f64();
    sender.shutdown(Duration::from_secs(10)).await;
    let received = sink.transcript().messages.len();
    assert_eq!(received, mails, "the relay received every mail once");

    println!("mail_delivery_mails={mails}");
    println!("mail_delivery_connections={connections}");
    println!("mail_queued_per_second={queued_per_second:.1}");
    println!("mail_delivered_per_second={delivered_per_second:.1}");
}
