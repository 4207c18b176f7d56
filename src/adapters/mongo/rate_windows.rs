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

/// Two concurrent first requests of a window may both find no document and both insert one;
/// the loser's duplicate key sends it back to count into the winner's document. One retry is
/// always enough (the document then exists); the bound only guards against a server that lies.
const COUNT_TRIES: usize = 3;

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
            let id = window_id(key, window);
            // Count into an existing document first (the common case, one round trip), and
            // only create the window's document when there is none. Not one upsert with
            // `returnDocument: after`: a server speaking MongoDB's protocol (SecantusDB) was
            // seen to answer such a racing upsert with no document at all (docs/mongodb.md).
            for _ in 0..COUNT_TRIES {
                let counted = self
                    .rate_windows()
                    .find_one_and_update(doc! { "_id": &id }, doc! { "$inc": { "hits": 1_i64 } })
                    .return_document(ReturnDocument::After)
                    .await?;
                if let Some(document) = counted {
                    return Ok(u64::try_from(document.hits)?);
                }
                let first = RateWindowDocument {
                    id: id.clone(),
                    key: key.as_str().to_owned(),
                    window_start: bson_time(window.start),
                    window_end: bson_time(window.end),
                    hits: 1,
                };
                match self.rate_windows().insert_one(first).await {
                    Ok(_) => return Ok(1),
                    Err(error) if is_duplicate_key(&error) => continue,
                    Err(error) => return Err(error.into()),
                }
            }
            anyhow::bail!("the window's document was neither found nor created")
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
