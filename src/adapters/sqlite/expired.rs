//! Adapters layer (SQLite): `ExpiredRecordStore` — what MongoDB's TTL indexes do on their own,
//! as DELETEs by expiry, in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::SqliteStore;
use super::columns::millis;
use crate::core::ports::{ExpiredRecordStore, StoreError};

/// Each table with its expiry column. Literal names only: no value is spliced into SQL.
const EXPIRING: [(&str, &str); 5] = [
    ("one_time_tokens", "expires_at"),
    ("login_challenges", "expires_at"),
    ("sessions", "expires_at"),
    ("remembered_devices", "expires_at"),
    ("attempt_throttles", "forgotten_at"),
];

#[async_trait]
impl ExpiredRecordStore for SqliteStore {
    async fn delete_expired(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.run("deleting expired records", move |connection| {
            let transaction = connection.unchecked_transaction()?;
            let mut deleted = 0;
            for (table, column) in EXPIRING {
                deleted += transaction
                    .prepare_cached(&format!("DELETE FROM {table} WHERE {column} < ?1"))?
                    .execute([millis(cutoff)])?;
            }
            transaction.commit()?;
            Ok(deleted as u64)
        })
        .await
    }

    async fn delete_unverified_users(
        &self,
        registered_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // One statement, conditional on the address still being unverified: a verification
        // committed first keeps the row. `ON DELETE CASCADE` takes the user's tokens,
        // challenges, sessions, devices and second factor with it; orders and audit events
        // have no foreign key to users and stay.
        self.run("deleting never-verified users", move |connection| {
            let deleted = connection
                .prepare_cached(
                    "DELETE FROM users WHERE email_verified_at IS NULL AND created_at < ?1",
                )?
                .execute([millis(registered_before)])?;
            Ok(deleted as u64)
        })
        .await
    }

    async fn delete_audit_events_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.run("deleting old audit events", move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM audit_events WHERE at < ?1")?
                .execute([millis(cutoff)])?;
            Ok(deleted as u64)
        })
        .await
    }
}
