//! Core: the purge of expired records, never-verified accounts and old audit events, on the
//! Clock's time. Pure: the caller (the composition root) decides how often it runs.

use std::sync::Arc;

use chrono::Duration;

use crate::core::policy::RetentionPolicy;
use crate::core::ports::{Clock, ExpiredRecordStore, StoreError};

/// How long an expired record is kept before it is purged, as MongoDB's TTL indexes do: the
/// margin covers clock drift between instances and the database, and leaves a day to look at
/// a suspicious login before its traces go. Nothing reads a record after its expiry.
pub const KEPT_AFTER_EXPIRY: Duration = Duration::hours(24);

/// What one purge deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    /// Tokens, challenges, sessions, devices and throttle records past their expiry.
    pub expired_records: u64,
    /// Accounts never verified within `RetentionPolicy::unverified_account_lifetime`.
    pub unverified_users: u64,
    /// Audit events older than `RetentionPolicy::audit_retention`.
    pub audit_events: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.expired_records + self.unverified_users + self.audit_events
    }
}

/// Purges what expired more than `KEPT_AFTER_EXPIRY` ago, and what the retention policy no
/// longer keeps.
#[derive(Clone)]
pub struct Housekeeping {
    records: Arc<dyn ExpiredRecordStore>,
    clock: Arc<dyn Clock>,
    retention: RetentionPolicy,
}

impl Housekeeping {
    pub fn new(
        records: Arc<dyn ExpiredRecordStore>,
        clock: Arc<dyn Clock>,
        retention: RetentionPolicy,
    ) -> Self {
        Self {
            records,
            clock,
            retention,
        }
    }

    /// Deletes the records that expired a day ago or earlier, the accounts registered longer
    /// than the unverified-account lifetime ago and still unverified, and the audit events
    /// older than the audit retention. Stops at the first failure (the next run retries).
    pub async fn purge_expired(&self) -> Result<Purged, StoreError> {
        let now = self.clock.now();
        Ok(Purged {
            expired_records: self.records.delete_expired(now - KEPT_AFTER_EXPIRY).await?,
            unverified_users: self
                .records
                .delete_unverified_users(now - self.retention.unverified_account_lifetime)
                .await?,
            audit_events: self
                .records
                .delete_audit_events_before(now - self.retention.audit_retention)
                .await?,
        })
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
            async fn delete_unverified_users(
                &self,
                registered_before: DateTime<Utc>,
            ) -> Result<u64, StoreError>;
            async fn delete_audit_events_before(
                &self,
                cutoff: DateTime<Utc>,
            ) -> Result<u64, StoreError>;
        }
    }

    struct FixedClock(DateTime<Utc>);

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap()
    }

    fn retention() -> RetentionPolicy {
        RetentionPolicy {
            unverified_account_lifetime: Duration::days(7),
            audit_retention: Duration::days(90),
        }
    }

    #[tokio::test]
    async fn each_kind_of_record_is_purged_at_its_own_cutoff_by_the_clocks_time() {
        let mut records = MockRecords::new();
        records
            .expect_delete_expired()
            .with(eq(now() - Duration::hours(24)))
            .times(1)
            .returning(|_| Ok(3));
        records
            .expect_delete_unverified_users()
            .with(eq(now() - Duration::days(7)))
            .times(1)
            .returning(|_| Ok(2));
        records
            .expect_delete_audit_events_before()
            .with(eq(now() - Duration::days(90)))
            .times(1)
            .returning(|_| Ok(5));
        let housekeeping =
            Housekeeping::new(Arc::new(records), Arc::new(FixedClock(now())), retention());

        let purged = housekeeping.purge_expired().await.unwrap();

        assert_eq!(
            purged,
            Purged {
                expired_records: 3,
                unverified_users: 2,
                audit_events: 5,
            }
        );
        assert_eq!(purged.total(), 10);
    }

    #[tokio::test]
    async fn a_failed_step_stops_the_purge_and_is_reported() {
        let mut records = MockRecords::new();
        records
            .expect_delete_expired()
            .times(1)
            .returning(|_| Ok(0));
        records
            .expect_delete_unverified_users()
            .times(1)
            .returning(|_| Err(StoreError::Failed(anyhow::anyhow!("disk full"))));
        records.expect_delete_audit_events_before().never();
        let housekeeping =
            Housekeeping::new(Arc::new(records), Arc::new(FixedClock(now())), retention());

        let purged = housekeeping.purge_expired().await;

        assert!(purged.is_err());
    }
}
