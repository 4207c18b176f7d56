//! Adapters layer (SQLite): the `attempt_throttles` table behind `AttemptThrottleStore`.
//!
//! A reservation is one transaction of two writes: drop the key's record if it is forgotten,
//! then one upsert whose `WHERE` is the precondition "not locked at `now`". The transaction
//! takes SQLite's write lock at its first statement, so concurrent reservations — from this
//! process or another on the same file — run one after the other.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, named_params};

use super::SqliteStore;
use super::columns::{millis, time_column};
use crate::core::model::SecretDigest;
use crate::core::policy::LockoutRule;
use crate::core::ports::{AttemptThrottleStore, ReserveOutcome, StoreError};

/// Counts the attempt unless the key is locked at `:now`; returns a row only if it counted.
/// In `DO UPDATE`, bare column names are the stored row's values before this update.
const RESERVE: &str = "
    INSERT INTO attempt_throttles (key, attempts, locked_until, next_lock_ms, forgotten_at)
    VALUES (
        :key,
        1,
        CASE WHEN 1 >= :max_attempts THEN :now + :first_lock_ms END,
        CASE WHEN 1 >= :max_attempts THEN MIN(:first_lock_ms * 2, :max_lock_ms)
             ELSE :first_lock_ms END,
        :forgotten_at
    )
    ON CONFLICT (key) DO UPDATE SET
        attempts = attempts + 1,
        locked_until = CASE WHEN attempts + 1 >= :max_attempts THEN :now + next_lock_ms
                            ELSE locked_until END,
        next_lock_ms = CASE WHEN attempts + 1 >= :max_attempts
                            THEN MIN(next_lock_ms * 2, :max_lock_ms)
                            ELSE next_lock_ms END,
        forgotten_at = :forgotten_at
    WHERE locked_until IS NULL OR locked_until <= :now
    RETURNING key";

#[async_trait]
impl AttemptThrottleStore for SqliteStore {
    async fn reserve_attempt(
        &self,
        key: &SecretDigest,
        rule: &LockoutRule,
        now: DateTime<Utc>,
    ) -> Result<ReserveOutcome, StoreError> {
        let key = *key.as_bytes();
        let rule = *rule;
        self.run("reserving a throttled attempt", move |connection| {
            let transaction = connection.unchecked_transaction()?;
            transaction
                .prepare_cached(
                    "DELETE FROM attempt_throttles WHERE key = :key AND forgotten_at <= :now",
                )?
                .execute(named_params! { ":key": key, ":now": millis(now) })?;
            let reserved = transaction.prepare_cached(RESERVE)?.exists(named_params! {
                ":key": key,
                ":now": millis(now),
                ":max_attempts": rule.max_attempts,
                ":first_lock_ms": rule.first_lock.num_milliseconds(),
                ":max_lock_ms": rule.max_lock.num_milliseconds(),
                ":forgotten_at": millis(now + rule.forget_after),
            })?;
            let outcome = if reserved {
                ReserveOutcome::Reserved
            } else {
                // The upsert only skips a record locked after `now`, and this transaction
                // still holds the write lock, so the record is there and locked.
                let until = transaction
                    .prepare_cached("SELECT locked_until FROM attempt_throttles WHERE key = ?1")?
                    .query_row([key], |row| Ok(time_column(row, "locked_until")))
                    .optional()?
                    .transpose()?
                    .ok_or_else(|| anyhow::anyhow!("a skipped throttle record vanished"))?;
                ReserveOutcome::Locked { until }
            };
            transaction.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn clear_attempts(&self, key: &SecretDigest) -> Result<(), StoreError> {
        let key = *key.as_bytes();
        self.run("clearing throttled attempts", move |connection| {
            connection
                .prepare_cached("DELETE FROM attempt_throttles WHERE key = ?1")?
                .execute([key])?;
            Ok(())
        })
        .await
    }
}
