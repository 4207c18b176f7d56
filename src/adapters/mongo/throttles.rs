//! Adapters layer (MongoDB): the `attempt_throttles` collection behind `AttemptThrottleStore`.
//!
//! A reservation is one upsert of one document whose filter holds the precondition "not
//! locked at `now`" and whose pipeline counts the attempt and, at the limit, sets the lock —
//! atomic in the server. A locked document does not match, so the upsert tries to insert a
//! second document with the same `_id` and the server refuses it (duplicate key): that
//! refusal is how a lock shows, and a read then gives the lock's end. A forgotten document is
//! deleted first; forgetting only ever removes documents whose time has passed, so it cannot
//! undo a concurrent reservation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Binary, Document, doc};
use mongodb::error::{Error, ErrorKind, WriteFailure};
use serde::{Deserialize, Serialize};

use super::values::{bson_digest, bson_time, domain_time};
use super::{MongoStore, run};
use crate::core::model::SecretDigest;
use crate::core::policy::LockoutRule;
use crate::core::ports::{AttemptThrottleStore, ReserveOutcome, StoreError};

pub(super) const COLLECTION: &str = "attempt_throttles";

const DUPLICATE_KEY: i32 = 11000;

/// A reservation that loses a race with the insert of the same key's first document is
/// retried; more rounds than this mean something else is wrong.
const MAX_ROUNDS: usize = 3;

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

/// The filter of a key that is not locked at `now`.
fn unlocked(key: &SecretDigest, now: DateTime<Utc>) -> Document {
    doc! {
        "_id": bson_digest(key),
        "$or": [
            { "locked_until": null },
            { "locked_until": { "$lte": bson_time(now) } },
        ],
    }
}

/// The update pipeline counting one attempt. The second stage reads the first one's values.
fn count_attempt(rule: &LockoutRule, now: DateTime<Utc>) -> Vec<Document> {
    let reached_limit = doc! { "$gte": ["$attempts", i64::from(rule.max_attempts)] };
    vec![
        doc! { "$set": {
            "attempts": { "$add": [{ "$ifNull": ["$attempts", 0_i64] }, 1_i64] },
            "next_lock_ms": { "$ifNull": ["$next_lock_ms", rule.first_lock.num_milliseconds()] },
            "expires_at": bson_time(now + rule.forget_after),
        } },
        doc! { "$set": {
            "locked_until": { "$cond": {
                "if": reached_limit.clone(),
                "then": { "$add": [bson_time(now), "$next_lock_ms"] },
                "else": { "$ifNull": ["$locked_until", null] },
            } },
            "next_lock_ms": { "$cond": {
                "if": reached_limit,
                "then": { "$min": [
                    { "$multiply": ["$next_lock_ms", 2_i64] },
                    rule.max_lock.num_milliseconds(),
                ] },
                "else": "$next_lock_ms",
            } },
        } },
    ]
}

fn is_duplicate_key(error: &Error) -> bool {
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
    async fn reserve_attempt(
        &self,
        key: &SecretDigest,
        rule: &LockoutRule,
        now: DateTime<Utc>,
    ) -> Result<ReserveOutcome, StoreError> {
        run("reserving a throttled attempt", async {
            self.throttles
                .delete_one(doc! {
                    "_id": bson_digest(key),
                    "expires_at": { "$lte": bson_time(now) },
                })
                .await?;
            for _ in 0..MAX_ROUNDS {
                let counted = self
                    .throttles
                    .update_one(unlocked(key, now), count_attempt(rule, now))
                    .upsert(true)
                    .await;
                match counted {
                    Ok(_) => return Ok(ReserveOutcome::Reserved),
                    Err(error) if is_duplicate_key(&error) => {}
                    Err(error) => return Err(error.into()),
                }
                // The document exists and did not match: locked, unless it was inserted (or
                // cleared) between the two operations — then count again.
                let stored = self
                    .throttles
                    .find_one(doc! { "_id": bson_digest(key) })
                    .await?;
                if let Some(locked_until) = stored.and_then(|throttle| throttle.locked_until) {
                    let until = domain_time("locked_until", locked_until)?;
                    if now < until {
                        return Ok(ReserveOutcome::Locked { until });
                    }
                }
            }
            anyhow::bail!("the throttle record kept changing under {MAX_ROUNDS} reservations")
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
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn the_reservation_filter_matches_only_a_key_unlocked_at_now() {
        let key = SecretDigest::from_bytes([7; 32]);
        let now = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();

        let filter = unlocked(&key, now);

        assert_eq!(
            filter,
            doc! {
                "_id": bson_digest(&key),
                "$or": [
                    { "locked_until": null },
                    { "locked_until": { "$lte": bson_time(now) } },
                ],
            }
        );
    }

    #[test]
    fn the_pipeline_locks_at_the_limit_and_caps_the_doubling() {
        let rule = LockoutRule {
            max_attempts: 10,
            first_lock: Duration::minutes(1),
            max_lock: Duration::minutes(15),
            forget_after: Duration::hours(24),
        };
        let now = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();

        let pipeline = count_attempt(&rule, now);

        let second = pipeline[1].get_document("$set").unwrap();
        let next_lock = second.get_document("next_lock_ms").unwrap();
        let cond = next_lock.get_document("$cond").unwrap();
        assert_eq!(
            cond.get_document("if").unwrap(),
            &doc! { "$gte": ["$attempts", 10_i64] }
        );
        assert_eq!(
            cond.get_document("then").unwrap(),
            &doc! { "$min": [{ "$multiply": ["$next_lock_ms", 2_i64] }, 900_000_i64] }
        );
    }
}
