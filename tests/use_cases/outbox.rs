//! The outbox's rules (`core::outbox`) against the in-memory store, a manual clock and a
//! transport the test controls: the per-recipient hourly cap, sealed bodies, delivery, back-off
//! from the policy, abandonment after the last attempt, leases and the purge.

use std::sync::{Arc, Mutex};

use allomedia::adapters::crypto::{HmacDigester, ManualClock, Sealer};
use allomedia::adapters::mail::{MAIL_SEAL_PURPOSE, MailSealing};
use allomedia::adapters::memory::MemoryStore;
use allomedia::core::model::{ClaimedMail, Email, Mail, MailMessage};
use allomedia::core::outbox::{Courier, DeliveryRound, MailPolicy, Outbox};
use allomedia::core::ports::{Clock, DeliveryError, MailTransport, Mailer, OutboxStore};
use allomedia::core::request_limit::RequestLimits;
use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use url::Url;

/// A transport that delivers, or fails, as the test says, and keeps what it delivered.
#[derive(Default)]
struct Relay {
    down: Mutex<bool>,
    delivered: Mutex<Vec<ClaimedMail>>,
    attempts: Mutex<usize>,
}

impl Relay {
    fn set_down(&self, down: bool) {
        *self.down.lock().unwrap() = down;
    }
    fn delivered(&self) -> usize {
        self.delivered.lock().unwrap().len()
    }
}

#[async_trait]
impl MailTransport for Relay {
    async fn deliver(&self, mail: &ClaimedMail) -> Result<(), DeliveryError> {
        *self.attempts.lock().unwrap() += 1;
        if *self.down.lock().unwrap() {
            return Err(DeliveryError(anyhow::anyhow!("the relay is down")));
        }
        self.delivered.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

struct Post {
    store: MemoryStore,
    clock: ManualClock,
    sealing: Arc<MailSealing>,
    outbox: Outbox,
    courier: Courier,
    policy: MailPolicy,
}

fn post() -> Post {
    let store = MemoryStore::new();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 2, 9, 10, 0).unwrap());
    let sealer = Sealer::new(&[3; 32], MAIL_SEAL_PURPOSE).unwrap();
    let sealing = Arc::new(MailSealing::new(
        sealer,
        allomedia::adapters::mail::MailLinks::new(Url::parse("https://shop.example").unwrap())
            .unwrap(),
    ));
    let policy = MailPolicy {
        max_per_recipient_per_hour: 3,
        max_attempts: 4,
        ..MailPolicy::default()
    };
    let outbox = Outbox::new(
        Arc::new(store.clone()),
        RequestLimits::new(Arc::new(store.clone()), Arc::new(clock.clone())),
        sealing.clone(),
        Arc::new(HmacDigester::new(&[5; 32]).unwrap()),
        Arc::new(clock.clone()),
        policy.clone(),
    );
    let courier = Courier::new(
        Arc::new(store.clone()),
        Arc::new(clock.clone()),
        policy.clone(),
    );
    Post {
        store,
        clock,
        sealing,
        outbox,
        courier,
        policy,
    }
}

fn login_code(to: &str, code: &str) -> Mail {
    Mail {
        to: Email::parse(to).unwrap(),
        to_name: "Amina".into(),
        locale: allomedia::core::model::Locale::En,
        message: MailMessage::LoginCode {
            code: code.into(),
            valid_minutes: 10,
        },
    }
}

#[tokio::test]
async fn a_recipient_gets_at_most_the_hourly_cap_and_more_the_next_hour() {
    let post = post();

    for n in 0..5 {
        post.outbox
            .send(login_code("amina@example.com", &format!("00000{n}")))
            .await
            .unwrap();
    }
    post.outbox
        .send(login_code("omar@example.com", "111111"))
        .await
        .unwrap();
    post.clock.advance(Duration::minutes(50));
    post.outbox
        .send(login_code("Amina@Example.com", "222222"))
        .await
        .unwrap();

    // Three to Amina in the first hour (the others refused, without an error to the caller),
    // one to Omar, and one to Amina in the next clock hour.
    assert_eq!(post.store.outbox_status().await.unwrap().queued, 5);
}

#[tokio::test]
async fn a_queued_mail_is_sealed_and_opens_to_the_rendered_mail() {
    let post = post();
    post.outbox
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();

    let claimed = post
        .store
        .claim_mails(1, post.clock.now(), post.clock.now())
        .await
        .unwrap();

    let body = claimed[0].body.as_bytes();
    assert!(!body.windows(6).any(|w| w == b"042137"));
    assert!(!body.windows(5).any(|w| w == b"amina"));
    let opened = post.sealing.open(&claimed[0].body).unwrap();
    assert_eq!(opened.to, "amina@example.com");
    assert!(opened.text.contains("042137"));
}

#[tokio::test]
async fn a_delivered_mail_is_marked_sent_and_not_delivered_again() {
    let post = post();
    let relay = Relay::default();
    post.outbox
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();

    let first = post.courier.deliver_due(&relay, 8).await.unwrap();
    post.clock.advance(Duration::hours(1));
    let second = post.courier.deliver_due(&relay, 8).await.unwrap();

    assert_eq!(
        first,
        DeliveryRound {
            claimed: 1,
            sent: 1,
            ..DeliveryRound::default()
        }
    );
    assert_eq!(second, DeliveryRound::default());
    assert_eq!(relay.delivered(), 1);
    let status = post.store.outbox_status().await.unwrap();
    assert_eq!((status.queued, status.sent), (0, 1));
}

#[tokio::test]
async fn a_failed_attempt_waits_the_policy_back_off_and_is_delivered_when_the_relay_is_back() {
    let post = post();
    let relay = Relay::default();
    relay.set_down(true);
    post.outbox
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();

    let failed = post.courier.deliver_due(&relay, 8).await.unwrap();
    relay.set_down(false);
    post.clock
        .advance(post.policy.retry_delay(1) - Duration::milliseconds(1));
    let too_soon = post.courier.deliver_due(&relay, 8).await.unwrap();
    post.clock.advance(Duration::milliseconds(1));
    let after_back_off = post.courier.deliver_due(&relay, 8).await.unwrap();

    assert_eq!(failed.retried, 1);
    assert_eq!(too_soon.claimed, 0);
    assert_eq!(after_back_off.sent, 1);
    assert_eq!(relay.delivered.lock().unwrap()[0].attempt, 2);
}

#[tokio::test]
async fn a_mail_is_given_up_after_the_last_attempt_and_its_body_dropped() {
    let post = post();
    let relay = Relay::default();
    relay.set_down(true);
    post.outbox
        .send(login_code("amina@example.com", "042137"))
        .await
        .unwrap();

    let mut rounds = Vec::new();
    for attempt in 1..=post.policy.max_attempts {
        rounds.push(post.courier.deliver_due(&relay, 8).await.unwrap());
        post.clock.advance(post.policy.retry_delay(attempt));
    }
    let after = post.courier.deliver_due(&relay, 8).await.unwrap();

    assert!(rounds[..3].iter().all(|round| round.retried == 1));
    assert_eq!(rounds[3].abandoned, 1);
    assert_eq!(after.claimed, 0);
    assert_eq!(*relay.attempts.lock().unwrap(), 4);
    let status = post.store.outbox_status().await.unwrap();
    assert_eq!((status.queued, status.abandoned), (0, 1));
}

#[tokio::test]
async fn finished_mails_are_purged_after_the_retention_and_queued_ones_never() {
    let post = post();
    let relay = Relay::default();
    post.outbox
        .send(login_code("amina@example.com", "111111"))
        .await
        .unwrap();
    post.courier.deliver_due(&relay, 8).await.unwrap();
    relay.set_down(true);
    post.outbox
        .send(login_code("omar@example.com", "222222"))
        .await
        .unwrap();

    post.clock
        .advance(post.policy.retention - Duration::milliseconds(1));
    let early = post.courier.purge().await.unwrap();
    post.clock.advance(Duration::milliseconds(2));
    let due = post.courier.purge().await.unwrap();

    assert_eq!((early, due), (0, 1));
    let status = post.store.outbox_status().await.unwrap();
    assert_eq!((status.queued, status.sent), (1, 0));
}
