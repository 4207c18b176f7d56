//! Adapters layer (memory): throttle records, implementing `core::ports::AttemptThrottleStore`.
//! The compare-and-set is one critical section, hence atomic; the back-off is the core's.

use async_trait::async_trait;

use super::MemoryStore;
use crate::core::model::{SecretDigest, ThrottleRecord};
use crate::core::ports::{AttemptThrottleStore, StoreError};

#[async_trait]
impl AttemptThrottleStore for MemoryStore {
    async fn throttle_record(
        &self,
        key: &SecretDigest,
    ) -> Result<Option<ThrottleRecord>, StoreError> {
        Ok(self.state()?.throttles.get(key.as_bytes()).copied())
    }

    async fn replace_throttle_record(
        &self,
        key: &SecretDigest,
        expected: Option<&ThrottleRecord>,
        record: &ThrottleRecord,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let stored = state.throttles.get(key.as_bytes());
        if stored != expected {
            return Ok(false);
        }
        state.throttles.insert(*key.as_bytes(), *record);
        Ok(true)
    }

    async fn clear_attempts(&self, key: &SecretDigest) -> Result<(), StoreError> {
        self.state()?.throttles.remove(key.as_bytes());
        Ok(())
    }
}
