//! Adapters layer (MongoDB): `ExpiredRecordStore`. The TTL indexes (`indexes.rs`) delete the
//! same records a day after expiry on their own, about once a minute; this deletes them on
//! request, with the caller's cutoff, so that every store honours the same contract.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::Collection;
use mongodb::bson::doc;

use super::values::bson_time;
use super::{MongoStore, run};
use crate::core::ports::{ExpiredRecordStore, StoreError};

/// Deletes the documents of `collection` whose `expires_at` is before `cutoff` (throttle
/// records keep their `forgotten_at` in `expires_at`, the TTL index's field).
async fn delete_before<T: Send + Sync>(
    collection: &Collection<T>,
    cutoff: DateTime<Utc>,
) -> mongodb::error::Result<u64> {
    let deleted = collection
        .delete_many(doc! { "expires_at": { "$lt": bson_time(cutoff) } })
        .await?;
    Ok(deleted.deleted_count)
}

#[async_trait]
impl ExpiredRecordStore for MongoStore {
    async fn delete_expired(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        run("deleting expired records", async {
            Ok(delete_before(&self.tokens, cutoff).await?
                + delete_before(&self.challenges, cutoff).await?
                + delete_before(&self.sessions, cutoff).await?
                + delete_before(&self.devices, cutoff).await?
                + delete_before(&self.throttles, cutoff).await?)
        })
        .await
    }
}
