//! Core layer: the durable outbox. `Outbox` takes the mails the use cases owe (it is the
//! `Mailer` they are given in a deployment): it caps what one recipient receives per hour,
//! seals the mail and queues it in the store before returning. `Courier` delivers what is
//! queued — claim with a lease, hand to a transport, record the outcome — retrying with
//! back-off and giving up after a bounded number of attempts. Running couriers (tasks,
//! connections) is the adapters' job; every decision is here.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::model::{
    FixedWindowLimit, Mail, OutboxMailId, OutboxStatus, QueuedMail, RateKey, RateVerdict,
};
use super::ports::{
    Clock, MailError, MailSealer, MailTransport, Mailer, OutboxStore, SecretDigester, StoreError,
};
use super::request_limit::RequestLimits;

/// The numbers behind mail delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPolicy {
    /// Mails one address may be sent per clock hour (the hour starting on the hour); beyond
    /// it, mails are dropped and logged. Counted in the store's rate windows like the
    /// per-address request limit, so shared by all instances.
    pub max_per_recipient_per_hour: u32,
    /// Attempts before a mail is given up (the claim counts each).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled after each further one…
    pub first_retry: Duration,
    /// …up to this.
    pub max_retry: Duration,
    /// How long a claimed mail stays invisible to other senders. Must exceed what one claim
    /// of a batch can take (batch size × the transport's time limit), or a slow batch's tail
    /// may be claimed and sent twice.
    pub lease: Duration,
    /// How long delivered and abandoned mails (without their bodies) are kept before purging.
    pub retention: Duration,
}

impl Default for MailPolicy {
    fn default() -> Self {
        Self {
            // Registration, a resend, two forgotten passwords and a handful of logins fit;
            // an inbox flood through the public endpoints does not.
            max_per_recipient_per_hour: 20,
            // With retries from 5 s doubling to 10 min, 24 attempts span about three hours
            // of relay outage before a mail is given up.
            max_attempts: 24,
            first_retry: Duration::seconds(5),
            max_retry: Duration::minutes(10),
            lease: Duration::minutes(5),
            retention: Duration::days(7),
        }
    }
}

impl MailPolicy {
    /// How long to wait after the failed attempt number `attempt` (1 for the first).
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let delay = self
            .first_retry
            .checked_mul(1_i32 << doublings)
            .unwrap_or(self.max_retry);
        delay.min(self.max_retry)
    }
}

/// Queues the mails the use cases send: the `Mailer` a deployment gives them.
pub struct Outbox {
    store: Arc<dyn OutboxStore>,
    /// Counts mails per recipient (`RateKey::of_mail_recipient`), in the same store windows
    /// as requests per address.
    limits: RequestLimits,
    sealer: Arc<dyn MailSealer>,
    digester: Arc<dyn SecretDigester>,
    clock: Arc<dyn Clock>,
    policy: MailPolicy,
}

impl Outbox {
    pub fn new(
        store: Arc<dyn OutboxStore>,
        limits: RequestLimits,
        sealer: Arc<dyn MailSealer>,
        digester: Arc<dyn SecretDigester>,
        clock: Arc<dyn Clock>,
        policy: MailPolicy,
    ) -> Self {
        Self {
            store,
            limits,
            sealer,
            digester,
            clock,
            policy,
        }
    }
}

#[async_trait]
impl Mailer for Outbox {
    /// Queues `mail` durably, unless its recipient has had the hour's share: that mail is
    /// logged (kind and domain, never the address) and dropped, and the caller — so the
    /// client — sees no difference.
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let recipient = self
            .digester
            .digest(&format!("mail-recipient|{}", mail.to.as_str()));
        let cap = FixedWindowLimit::per_hour(self.policy.max_per_recipient_per_hour);
        let verdict = self
            .limits
            .admit(&RateKey::of_mail_recipient(&recipient), &cap)
            .await
            .map_err(|error| MailError(error.into()))?;
        if verdict != RateVerdict::Admitted {
            tracing::warn!(
                mail_kind = mail.message.kind(),
                recipient_domain = mail.to.as_str().rsplit_once('@').map_or("", |(_, d)| d),
                limit = self.policy.max_per_recipient_per_hour,
                "mail not queued: its recipient reached the hourly limit of mails"
            );
            return Ok(());
        }
        let queued = QueuedMail {
            id: OutboxMailId::new(),
            kind: mail.message.kind().to_owned(),
            body: self.sealer.seal(&mail)?,
            created_at: self.clock.now(),
        };
        self.store
            .enqueue_mail(&queued)
            .await
            .map_err(|error| MailError(error.into()))
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryRound {
    pub claimed: usize,
    pub sent: usize,
    /// Failed, to be tried again later.
    pub retried: usize,
    /// Failed for the last time.
    pub abandoned: usize,
}

/// Delivers queued mails.
#[derive(Clone)]
pub struct Courier {
    store: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
    policy: MailPolicy,
}

impl Courier {
    pub fn new(store: Arc<dyn OutboxStore>, clock: Arc<dyn Clock>, policy: MailPolicy) -> Self {
        Self {
            store,
            clock,
            policy,
        }
    }

    /// Claims up to `limit` due mails and delivers them one after the other through
    /// `transport`. A delivered mail is marked sent (its body forgotten); a failed one is due
    /// again after the back-off, or given up after the last attempt. A mail whose lease ran
    /// out before its turn is left alone: another sender may hold it now.
    pub async fn deliver_due(
        &self,
        transport: &dyn MailTransport,
        limit: usize,
    ) -> Result<DeliveryRound, StoreError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_mails(limit, now, now + self.policy.lease)
            .await?;
        let mut round = DeliveryRound {
            claimed: claimed.len(),
            ..DeliveryRound::default()
        };
        for mail in claimed {
            if self.clock.now() >= mail.lease_until {
                continue;
            }
            match transport.deliver(&mail).await {
                Ok(()) => {
                    // Delivered whatever this says: if the store fails here, the mail is
                    // sent again once the lease ends — at least once, not exactly once.
                    self.store
                        .mark_mail_sent(mail.id, mail.attempt, self.clock.now())
                        .await?;
                    round.sent += 1;
                }
                Err(error) if mail.attempt >= self.policy.max_attempts => {
                    let error = anyhow::Error::new(error);
                    tracing::error!(
                        mail_kind = mail.kind,
                        mail_id = %mail.id,
                        attempts = mail.attempt,
                        error = format!("{error:#}"),
                        "mail given up after its last attempt"
                    );
                    self.store
                        .abandon_mail(mail.id, mail.attempt, self.clock.now())
                        .await?;
                    round.abandoned += 1;
                }
                Err(error) => {
                    let error = anyhow::Error::new(error);
                    let delay = self.policy.retry_delay(mail.attempt);
                    tracing::warn!(
                        mail_kind = mail.kind,
                        mail_id = %mail.id,
                        attempt = mail.attempt,
                        retry_in_seconds = delay.num_seconds(),
                        error = format!("{error:#}"),
                        "mail not delivered; it stays queued and will be tried again"
                    );
                    self.store
                        .retry_mail_at(mail.id, mail.attempt, self.clock.now() + delay)
                        .await?;
                    round.retried += 1;
                }
            }
        }
        Ok(round)
    }

    /// Deletes delivered and abandoned mails older than the retention; how many.
    pub async fn purge(&self) -> Result<u64, StoreError> {
        self.store
            .purge_mails(self.clock.now() - self.policy.retention)
            .await
    }

    /// The courier's clock's now (to age what `status` reports).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The outbox at a glance, for metrics.
    pub async fn status(&self) -> Result<OutboxStatus, StoreError> {
        self.store.outbox_status().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_delay_doubles_from_the_first_and_stops_at_the_cap() {
        let policy = MailPolicy::default();

        let delays: Vec<i64> = (1..=9)
            .map(|attempt| policy.retry_delay(attempt).num_seconds())
            .collect();

        assert_eq!(delays, vec![5, 10, 20, 40, 80, 160, 320, 600, 600]);
        assert_eq!(policy.retry_delay(u32::MAX), Duration::minutes(10));
    }
}
