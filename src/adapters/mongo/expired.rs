//! Adapters layer (MongoDB): `ExpiredRecordStore`. The TTL indexes (`indexes.rs`) delete the
//! same records a day after expiry on their own, about once a minute; this deletes them on
//! request, with the caller's cutoff, so that every store honours the same contract. Users
//! never verified and old audit events have no TTL index: only this deletes them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::Collection;
use mongodb::bson::{self, doc};
use serde::Deserialize;

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

    async fn delete_unverified_users(
        &self,
        registered_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // `null` in a filter matches a null field. Each user goes by a delete conditional on
        // the address still being unverified, so a verification that lands between the find
        // and the delete keeps the account. What they own goes after them; should this stop
        // half-way, their tokens, challenges and sessions still expire and go by the TTL.
        let unverified = doc! {
            "email_verified_at": null,
            "created_at": { "$lt": bson_time(registered_before) },
        };
        run("deleting never-verified users", async {
            let mut cursor = self
                .users
                .clone_with_type::<IdOnly>()
                .find(unverified.clone())
                .projection(doc! { "_id": 1 })
                .await?;
            let mut ids = Vec::new();
            while cursor.advance().await? {
                ids.push(cursor.deserialize_current()?.id);
            }
            let mut deleted = 0;
            for id in ids {
                let mut this_one = unverified.clone();
                this_one.insert("_id", id);
                if self.users.delete_one(this_one).await?.deleted_count == 0 {
                    continue;
                }
                deleted += 1;
                let owned = doc! { "user_id": id };
                self.tokens.delete_many(owned.clone()).await?;
                self.challenges.delete_many(owned.clone()).await?;
                self.sessions.delete_many(owned.clone()).await?;
                self.devices.delete_many(owned).await?;
                self.second_factors.delete_one(doc! { "_id": id }).await?;
            }
            Ok(deleted)
        })
        .await
    }

    async fn delete_audit_events_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        run("deleting old audit events", async {
            let deleted = self
                .audit_events
                .delete_many(doc! { "at": { "$lt": bson_time(cutoff) } })
                .await?;
            Ok(deleted.deleted_count)
        })
        .await
    }
}

/// A user document's id alone.
#[derive(Deserialize)]
struct IdOnly {
    #[serde(rename = "_id")]
    id: bson::Uuid,
}
