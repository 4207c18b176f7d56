//! Adapters layer (memory): request counts per key and window, implementing
//! `core::ports::RateWindowStore`. Each call is one critical section, hence atomic.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::core::model::{RateKey, RateWindow};
use crate::core::ports::{RateWindowStore, StoreError};

/// One window's count, by key and window start.
#[derive(Default)]
pub(super) struct RateWindows {
    by_key_and_start: HashMap<(RateKey, DateTime<Utc>), Counted>,
}

struct Counted {
    hits: u64,
    end: DateTime<Utc>,
}

#[async_trait]
impl RateWindowStore for MemoryStore {
    async fn count_request(&self, key: &RateKey, window: &RateWindow) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let counted = state
            .rate_windows
            .by_key_and_start
            .entry((key.clone(), window.start))
            .or_insert(Counted {
                hits: 0,
                end: window.end,
            });
        counted.hits = counted.hits.saturating_add(1);
        Ok(counted.hits)
    }

    async fn purge_rate_windows(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let windows = &mut state.rate_windows.by_key_and_start;
        let before = windows.len();
        windows.retain(|_, counted| counted.end > now);
        Ok((before - windows.len()) as u64)
    }
}
