//! Core: the purge of expired records, on the Clock's time. Pure: the caller (the composition
//! root) decides how often it runs.

use std::sync::Arc;

use chrono::Duration;

use crate::core::ports::{Clock, ExpiredRecordStore, StoreError};

/// How long an expired record is kept before it is purged, as MongoDB's TTL indexes do: the
/// margin covers clock drift between instances and the database, and leaves a day to look at
/// a suspicious login before its traces go. Nothing reads a record after its expiry.
pub const KEPT_AFTER_EXPIRY: Duration = Duration::hours(24);

/// Purges what expired more than `KEPT_AFTER_EXPIRY` ago.
#[derive(Clone)]
pub struct Housekeeping {
    records: Arc<dyn ExpiredRecordStore>,
    clock: Arc<dyn Clock>,
}

impl Housekeeping {
    pub fn new(records: Arc<dyn ExpiredRecordStore>, clock: Arc<dyn Clock>) -> Self {
        Self { records, clock }
    }

    /// Deletes the records that expired a day ago or earlier; returns how many went.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let cutoff = self.clock.now() - KEPT_AFTER_EXPIRY;
        self.records.delete_expired(cutoff).await
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};
    use mockall::mock;
    use mockall::predicate::eq;

    use super::*;

    mock! {
        Records {}
        #[async_trait]
        impl ExpiredRecordStore for Records {
            async fn delete_expired(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
        }
    }

    struct FixedClock(DateTime<Utc>);

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    #[tokio::test]
    async fn records_are_purged_a_day_after_they_expire_by_the_clocks_time() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap();
        let mut records = MockRecords::new();
        records
            .expect_delete_expired()
            .with(eq(now - Duration::hours(24)))
            .times(1)
            .returning(|_| Ok(3));
        let housekeeping = Housekeeping::new(Arc::new(records), Arc::new(FixedClock(now)));

        let purged = housekeeping.purge_expired().await;

        assert_eq!(purged.unwrap(), 3);
    }
}
