//! Adapters layer (HTTP): work a request starts but does not wait for. Operations that must
//! answer the same whatever the address (`password/forgot`, `verify-email/resend`) do the
//! part that differs — a store write and a mail for a known address, nothing for an unknown
//! one — after answering, so that neither the answer nor its timing tells who is registered.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Semaphore, watch};
use tracing::Instrument;

/// At most this many pieces of deferred work run at once; more wait for a slot before their
/// request is answered, so a flood is slowed down at the door instead of piling up tasks.
const MAX_RUNNING: usize = 64;

/// Runs work after the answer, bounded, and knows when all of it has finished.
#[derive(Clone)]
pub struct AfterResponse {
    slots: Arc<Semaphore>,
    /// How many pieces of work are running; `idle` waits for zero.
    running: Arc<watch::Sender<usize>>,
}

impl Default for AfterResponse {
    fn default() -> Self {
        Self::new()
    }
}

impl AfterResponse {
    pub fn new() -> Self {
        Self {
            slots: Arc::new(Semaphore::new(MAX_RUNNING)),
            running: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Starts `work` in the background once a slot is free, in the request's tracing span so
    /// its log lines keep the request id. A failure is logged with its cause; the client, who
    /// has been answered already, never sees it.
    pub async fn run<W>(&self, what: &'static str, work: W)
    where
        W: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await else {
            // The semaphore is never closed; if it were, doing the work here is still right.
            log_failure(what, work.await);
            return;
        };
        self.running.send_modify(|running| *running += 1);
        let running = Arc::clone(&self.running);
        tokio::spawn(
            async move {
                log_failure(what, work.await);
                drop(slot);
                running.send_modify(|running| *running -= 1);
            }
            .instrument(tracing::Span::current()),
        );
    }

    /// Resolves once no deferred work is running: at shutdown, before the mail queue is
    /// flushed, and in tests, before reading what the work mailed.
    pub async fn idle(&self) {
        let mut running = self.running.subscribe();
        // `wait_for` only fails once the sender is gone, and `self` holds it.
        let _ = running.wait_for(|running| *running == 0).await;
    }
}

/// The client was answered already: a failure can only be logged, with its whole cause.
fn log_failure(what: &'static str, outcome: anyhow::Result<()>) {
    if let Err(error) = outcome {
        tracing::error!(error = %format!("{error:#}"), what, "deferred work failed");
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Waker};

    use super::*;

    #[tokio::test]
    async fn idle_waits_for_every_piece_of_work_including_failed_ones() {
        let after = AfterResponse::new();
        let done = Arc::new(AtomicUsize::new(0));
        for fails in [false, true, false] {
            let done = Arc::clone(&done);
            after
                .run("counting", async move {
                    tokio::task::yield_now().await;
                    done.fetch_add(1, Ordering::SeqCst);
                    if fails {
                        anyhow::bail!("this one fails");
                    }
                    Ok(())
                })
                .await;
        }

        after.idle().await;

        assert_eq!(done.load(Ordering::SeqCst), 3);
    }

    /// Whether `future` is finished at its first poll, without waiting for anything.
    fn ready_at_once<F: Future>(future: F) -> bool {
        let mut context = Context::from_waker(Waker::noop());
        pin!(future).poll(&mut context).is_ready()
    }

    #[tokio::test]
    async fn idle_with_nothing_to_do_resolves_at_once() {
        let after = AfterResponse::new();

        assert!(ready_at_once(after.idle()));
    }

    #[tokio::test]
    async fn idle_is_pending_while_work_runs() {
        let after = AfterResponse::new();
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        after
            .run("waiting", async move {
                let _ = finished.await;
                Ok(())
            })
            .await;

        let busy = ready_at_once(after.idle());
        finish.send(()).unwrap();
        after.idle().await;

        assert!(!busy);
        assert!(ready_at_once(after.idle()));
    }
}
