//! Core layer: the per-address request limit — counts each request in the store, shared by
//! every instance, and judges the count with a `FixedWindowLimit`. Talks to the world only
//! through the `RateWindowStore` and `Clock` ports.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use super::model::{FixedWindowLimit, RateKey, RateVerdict};
use super::ports::{Clock, RateWindowStore, StoreError};

/// Counts requests per client key and says whether each is within a limit.
#[derive(Clone)]
pub struct RequestLimits {
    store: Arc<dyn RateWindowStore>,
    clock: Arc<dyn Clock>,
    /// The start of the last window this process purged the ended windows for: one purge per
    /// window per instance keeps the store's windows bounded without a background task.
    purged_for: Arc<Mutex<Option<DateTime<Utc>>>>,
}

impl RequestLimits {
    pub fn new(store: Arc<dyn RateWindowStore>, clock: Arc<dyn Clock>) -> Self {
        RequestLimits {
            store,
            clock,
            purged_for: Arc::new(Mutex::new(None)),
        }
    }

    /// Counts one request for `key` now and judges it against `limit`. Refused requests are
    /// counted too: a client that keeps knocking stays refused until the window ends.
    pub async fn admit(
        &self,
        key: &RateKey,
        limit: &FixedWindowLimit,
    ) -> Result<RateVerdict, StoreError> {
        let now = self.clock.now();
        let window = limit.window_at(now);
        let counted = self.store.count_request(key, &window).await?;
        if self.first_in(window.start) {
            // Housekeeping: a failure here does not change the verdict; the next window retries.
            if let Err(error) = self.store.purge_rate_windows(now).await {
                tracing::warn!(error = ?error, "purging ended rate windows failed");
            }
        }
        Ok(limit.judge(counted, &window, now))
    }

    /// Whether this is the first request this process sees in the window starting at `start`.
    fn first_in(&self, start: DateTime<Utc>) -> bool {
        let mut purged_for = self
            .purged_for
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if purged_for.is_some_and(|purged| purged >= start) {
            return false;
        }
        *purged_for = Some(start);
        true
    }
}
