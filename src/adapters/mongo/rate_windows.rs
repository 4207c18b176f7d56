//! Adapters layer (MongoDB): the `rate_windows` collection behind `RateWindowStore`.
//!
//! One document per client key and window; a request is counted by one upsert with `$inc`,
//! atomic in the server, so every instance counts into the same document. Ended windows are
//! purged by the service once per window, and by a TTL index on `window_end` behind it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::Collection;
use mongodb::bson::{self, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::throttles::is_duplicate_key;
use super::values::bson_time;
use super::{MongoStore, run};
use crate::core::model::{RateKey, RateWindow};
use crate::core::ports::{RateWindowStore, StoreError};

pub(super) const COLLECTION: &str = "rate_windows";

/// Two concurrent first requests of a window may both try to insert its document; the loser
/// gets a duplicate key and counts again, then into the winner's document. (MongoDB retries
/// such upserts itself; other servers speaking its protocol may not.)
const UPSERT_TRIES: usize = 3;

/// One window's count. `_id` is `<key>@<window start in ms>`: one document per window, so the
/// unique `_id` is what makes concurrent first requests meet in one document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RateWindowDocument {
    #[serde(rename = "_id")]
    id: String,
    key: String,
    window_start: bson::DateTime,
    /// Also the TTL index's field.
    window_end: bson::DateTime,
    hits: i64,
}

fn window_id(key: &RateKey, window: &RateWindow) -> String {
    format!("{key}@{}", window.start.timestamp_millis())
}

impl MongoStore {
    fn rate_windows(&self) -> Collection<RateWindowDocument> {
        self.database.collection(COLLECTION)
    }
}

#[async_trait]
impl RateWindowStore for MongoStore {
    async fn count_request(&self, key: &RateKey, window: &RateWindow) -> Result<u64, StoreError> {
        run("counting a request", async {
            let filter = doc! { "_id": window_id(key, window) };
            let update = doc! {
                "$inc": { "hits": 1_i64 },
                "$setOnInsert": {
                    "key": key.as_str(),
                    "window_start": bson_time(window.start),
                    "window_end": bson_time(window.end),
                },
            };
            let mut tries = 0;
            loop {
                tries += 1;
                let counted = self
                    .rate_windows()
                    .find_one_and_update(filter.clone(), update.clone())
                    .upsert(true)
                    .return_document(ReturnDocument::After)
                    .await;
                match counted {
                    Ok(Some(document)) => return Ok(u64::try_from(document.hits)?),
                    Ok(None) => anyhow::bail!("the upsert returned no document"),
                    Err(error) if is_duplicate_key(&error) && tries < UPSERT_TRIES => continue,
                    Err(error) => return Err(error.into()),
                }
            }
        })
        .await
    }

    async fn purge_rate_windows(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        run("purging ended rate windows", async {
            let deleted = self
                .rate_windows()
                .delete_many(doc! { "window_end": { "$lte": bson_time(now) } })
                .await?;
            Ok(deleted.deleted_count)
        })
        .await
    }
}
