//! Adapters layer (MongoDB): the `attempt_throttles` collection behind `AttemptThrottleStore`.
//!
//! The collection only keeps each key's record; the back-off is the core's (`LockoutRule`).
//! The compare-and-set is one single-document write, atomic in the server: a replacement
//! whose filter holds every field of the expected record, or an insert when no record was
//! expected, which the unique `_id` refuses (duplicate key) if one exists meanwhile.

use async_trait::async_trait;
use chrono::Duration;
use mongodb::bson::{self, Binary, Document, doc};
use mongodb::error::{Error, ErrorKind, WriteFailure};
use serde::{Deserialize, Serialize};

use super::values::{
    bson_digest, bson_time, domain_count, domain_time, optional_bson_time, optional_domain_time,
};
use super::{MongoStore, run};
use crate::core::model::{SecretDigest, ThrottleRecord};
use crate::core::ports::{AttemptThrottleStore, StoreError};

pub(super) const COLLECTION: &str = "attempt_throttles";

const DUPLICATE_KEY: i32 = 11000;

/// The record of one throttle key, as stored. `_id` is the key (a keyed digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ThrottleDocument {
    #[serde(rename = "_id")]
    key: Binary,
    attempts: i64,
    locked_until: Option<bson::DateTime>,
    next_lock_ms: i64,
    /// When the record is forgotten; also the TTL index's field, which purges it a day later.
    expires_at: bson::DateTime,
}

impl ThrottleDocument {
    fn new(key: &SecretDigest, record: &ThrottleRecord) -> Self {
        Self {
            key: bson_digest(key),
            attempts: i64::from(record.attempts),
            locked_until: optional_bson_time(record.locked_until),
            next_lock_ms: record.next_lock.num_milliseconds(),
            expires_at: bson_time(record.forgotten_at),
        }
    }

    fn record(self) -> anyhow::Result<ThrottleRecord> {
        Ok(ThrottleRecord {
            attempts: domain_count("attempts", self.attempts)?,
            locked_until: optional_domain_time("locked_until", self.locked_until)?,
            next_lock: Duration::milliseconds(self.next_lock_ms),
            forgotten_at: domain_time("expires_at", self.expires_at)?,
        })
    }
}

/// The filter of the key's document holding exactly `expected`. A `null` in a filter also
/// matches a missing field, and every document here has `locked_until`, so that is the same.
fn holding(key: &SecretDigest, expected: &ThrottleRecord) -> Document {
    doc! {
        "_id": bson_digest(key),
        "attempts": i64::from(expected.attempts),
        "locked_until": optional_bson_time(expected.locked_until),
        "next_lock_ms": expected.next_lock.num_milliseconds(),
        "expires_at": bson_time(expected.forgotten_at),
    }
}

pub(super) fn is_duplicate_key(error: &Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Command(command_error) => command_error.code == DUPLICATE_KEY,
        ErrorKind::Write(WriteFailure::WriteError(write_error)) => {
            write_error.code == DUPLICATE_KEY
        }
        _ => false,
    }
}

#[async_trait]
impl AttemptThrottleStore for MongoStore {
    async fn throttle_record(
        &self,
        key: &SecretDigest,
    ) -> Result<Option<ThrottleRecord>, StoreError> {
        run("reading a throttle record", async {
            let stored = self
                .throttles
                .find_one(doc! { "_id": bson_digest(key) })
                .await?;
            stored.map(ThrottleDocument::record).transpose()
        })
        .await
    }

    async fn replace_throttle_record(
        &self,
        key: &SecretDigest,
        expected: Option<&ThrottleRecord>,
        record: &ThrottleRecord,
    ) -> Result<bool, StoreError> {
        run("replacing a throttle record", async {
            let document = ThrottleDocument::new(key, record);
            match expected {
                None => match self.throttles.insert_one(document).await {
                    Ok(_) => Ok(true),
                    Err(error) if is_duplicate_key(&error) => Ok(false),
                    Err(error) => Err(error.into()),
                },
                Some(expected) => {
                    let result = self
                        .throttles
                        .replace_one(holding(key, expected), document)
                        .await?;
                    Ok(result.matched_count == 1)
                }
            }
        })
        .await
    }

    async fn clear_attempts(&self, key: &SecretDigest) -> Result<(), StoreError> {
        run("clearing throttled attempts", async {
            self.throttles
                .delete_one(doc! { "_id": bson_digest(key) })
                .await?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn a_record() -> ThrottleRecord {
        let now = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();
        ThrottleRecord {
            attempts: 10,
            locked_until: Some(now + Duration::minutes(1)),
            next_lock: Duration::minutes(2),
            forgotten_at: now + Duration::hours(24),
        }
    }

    #[test]
    fn the_compare_and_set_filter_holds_every_field_of_the_expected_record() {
        let key = SecretDigest::from_bytes([7; 32]);
        let record = a_record();

        let filter = holding(&key, &record);

        assert_eq!(
            filter,
            doc! {
                "_id": bson_digest(&key),
                "attempts": 10_i64,
                "locked_until": bson_time(record.locked_until.unwrap()),
                "next_lock_ms": 120_000_i64,
                "expires_at": bson_time(record.forgotten_at),
            }
        );
    }

    #[test]
    fn an_unlocked_record_is_matched_by_a_null_lock() {
        let key = SecretDigest::from_bytes([7; 32]);
        let record = ThrottleRecord {
            locked_until: None,
            ..a_record()
        };

        let filter = holding(&key, &record);

        assert_eq!(filter.get("locked_until"), Some(&bson::Bson::Null));
    }

    #[test]
    fn a_document_reads_back_as_the_record_it_was_made_from() {
        let key = SecretDigest::from_bytes([7; 32]);

        let document = ThrottleDocument::new(&key, &a_record());

        assert_eq!(document.key, bson_digest(&key));
        assert_eq!(document.record().unwrap(), a_record());
    }
}
