//! Adapters layer: the background tasks that deliver the outbox — one worker per transport
//! (so per SMTP connection), each running the core's `Courier` in a loop, and one
//! housekeeping task that reports the outbox in the metrics and purges it. May depend on the
//! core, tokio, tracing and the metrics adapter.
//!
//! Workers wake when this process queues a mail (`WakingMailer`) and otherwise poll, which is
//! how they see mails queued by other instances and mails whose back-off ended. Stopping them
//! loses nothing: what they have not delivered stays queued in the store for the next start
//! (or another instance) to deliver once its lease ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::adapters::metrics::Metrics;
use crate::core::model::Mail;
use crate::core::outbox::{Courier, DeliveryRound};
use crate::core::ports::{MailError, MailTransport, Mailer};

/// How the sender runs; the defaults suit production.
#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// Mails one worker claims at a time. Their lease must cover the batch at the transport's
    /// time limit (`MailPolicy::lease`).
    pub batch: usize,
    /// How often an idle worker looks for due mails.
    pub poll_interval: Duration,
    /// After this long without a mail a worker lets its transport rest (closes the SMTP
    /// connection; RFC 5321 lets a relay close it after 5 minutes, we hang up well before).
    pub idle_timeout: Duration,
    /// How often the outbox's counts are refreshed in the metrics.
    pub status_interval: Duration,
    /// How often delivered and abandoned mails past their retention are purged.
    pub purge_interval: Duration,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            batch: 8,
            poll_interval: Duration::from_millis(500),
            idle_timeout: Duration::from_secs(30),
            status_interval: Duration::from_secs(5),
            purge_interval: Duration::from_secs(10 * 60),
        }
    }
}

/// The running workers and housekeeper.
pub struct MailSender {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl MailSender {
    /// Starts one worker per transport, and the housekeeper. Must run inside a Tokio runtime.
    pub fn start(
        courier: Courier,
        transports: Vec<Arc<dyn MailTransport>>,
        settings: SenderSettings,
        metrics: Metrics,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::with_capacity(transports.len() + 1);
        for transport in transports {
            tasks.push(tokio::spawn(work(
                courier.clone(),
                transport,
                settings.clone(),
                wake.clone(),
                stopped.clone(),
                metrics.clone(),
            )));
        }
        tasks.push(tokio::spawn(keep_house(
            courier, settings, stopped, metrics,
        )));
        Self {
            wake,
            stop,
            tasks: Mutex::new(tasks),
        }
    }

    /// `mailer` (the outbox), waking the workers after each mail it takes.
    pub fn waking(&self, mailer: Arc<dyn Mailer>) -> WakingMailer {
        WakingMailer {
            inner: mailer,
            wake: self.wake.clone(),
        }
    }

    /// Stops the workers after their current mail, waiting at most `grace`. What is still
    /// queued stays in the store.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.stop.send(true);
        let tasks: Vec<_> = std::mem::take(&mut *lock(&self.tasks));
        let deadline = Instant::now() + grace;
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                tracing::warn!(
                    "a mail worker did not stop in time; its claimed mails are delivered after their lease"
                );
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The outbox, waking the sender's workers after each mail queued.
pub struct WakingMailer {
    inner: Arc<dyn Mailer>,
    wake: Arc<Notify>,
}

#[async_trait]
impl Mailer for WakingMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        self.inner.send(mail).await?;
        self.wake.notify_waiters();
        Ok(())
    }
}

/// One worker: delivers due mails through its transport until told to stop.
async fn work(
    courier: Courier,
    transport: Arc<dyn MailTransport>,
    settings: SenderSettings,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    metrics: Metrics,
) {
    let mut last_mail = Instant::now();
    let mut resting = true;
    while !*stop.borrow() {
        match courier
            .deliver_due(transport.as_ref(), settings.batch)
            .await
        {
            Ok(round) => {
                count(&metrics, round);
                if round.claimed > 0 {
                    last_mail = Instant::now();
                    resting = false;
                }
                if round.claimed == settings.batch {
                    // More may be due right now.
                    continue;
                }
            }
            Err(error) => {
                let error = anyhow::Error::new(error);
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the mail outbox cannot be read; trying again shortly"
                );
            }
        }
        if !resting && last_mail.elapsed() >= settings.idle_timeout {
            transport.rest().await;
            resting = true;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(settings.poll_interval) => {}
            _ = stop.changed() => {}
        }
    }
    transport.rest().await;
}

fn count(metrics: &Metrics, round: DeliveryRound) {
    for (outcome, n) in [
        ("sent", round.sent),
        ("retried", round.retried),
        ("abandoned", round.abandoned),
    ] {
        if n > 0 {
            metrics
                .mail_deliveries
                .get_or_create(&crate::adapters::metrics::OutcomeLabels {
                    outcome: outcome.to_owned(),
                })
                .inc_by(n as u64);
        }
    }
}

/// Reports the outbox in the metrics and purges it, until told to stop.
async fn keep_house(
    courier: Courier,
    settings: SenderSettings,
    mut stop: watch::Receiver<bool>,
    metrics: Metrics,
) {
    let mut next_purge = Instant::now();
    while !*stop.borrow() {
        match courier.status().await {
            Ok(status) => metrics.report_outbox(status, courier.now()),
            Err(error) => tracing::warn!(
                error = format!("{:#}", anyhow::Error::new(error)),
                "the mail outbox's status cannot be read"
            ),
        }
        if Instant::now() >= next_purge {
            next_purge = Instant::now() + settings.purge_interval;
            match courier.purge().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "old delivered and abandoned mails purged"),
                Err(error) => tracing::warn!(
                    error = format!("{:#}", anyhow::Error::new(error)),
                    "the mail outbox cannot be purged"
                ),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(settings.status_interval) => {}
            _ = stop.changed() => {}
        }
    }
}
