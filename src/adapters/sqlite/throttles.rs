//! Adapters layer (SQLite): the `attempt_throttles` table behind `AttemptThrottleStore`.
//!
//! The table only keeps each key's record; the back-off is the core's (`LockoutRule`). The
//! compare-and-set is one statement — an `UPDATE` whose `WHERE` holds every field of the
//! expected record, or an `INSERT … ON CONFLICT DO NOTHING` when no record was expected —
//! atomic in SQLite itself, so it holds across processes sharing the file.

use async_trait::async_trait;
use chrono::Duration;
use rusqlite::{OptionalExtension, Row, named_params};

use super::SqliteStore;
use super::columns::{column, millis, optional_millis, optional_time_column, time_column};
use crate::core::model::{SecretDigest, ThrottleRecord};
use crate::core::ports::{AttemptThrottleStore, StoreError};

fn record_from_row(row: &Row<'_>) -> anyhow::Result<ThrottleRecord> {
    let attempts: i64 = column(row, "attempts")?;
    Ok(ThrottleRecord {
        attempts: u32::try_from(attempts)
            .map_err(|_| anyhow::anyhow!("column `attempts`: {attempts} is out of range"))?,
        locked_until: optional_time_column(row, "locked_until")?,
        next_lock: Duration::milliseconds(column(row, "next_lock_ms")?),
        forgotten_at: time_column(row, "forgotten_at")?,
    })
}

#[async_trait]
impl AttemptThrottleStore for SqliteStore {
    async fn throttle_record(
        &self,
        key: &SecretDigest,
    ) -> Result<Option<ThrottleRecord>, StoreError> {
        let key = *key.as_bytes();
        self.run("reading a throttle record", move |connection| {
            connection
                .prepare_cached(
                    "SELECT attempts, locked_until, next_lock_ms, forgotten_at
                     FROM attempt_throttles WHERE key = ?1",
                )?
                .query_row([key], |row| Ok(record_from_row(row)))
                .optional()?
                .transpose()
        })
        .await
    }

    async fn replace_throttle_record(
        &self,
        key: &SecretDigest,
        expected: Option<&ThrottleRecord>,
        record: &ThrottleRecord,
    ) -> Result<bool, StoreError> {
        let key = *key.as_bytes();
        let (expected, record) = (expected.copied(), *record);
        self.run("replacing a throttle record", move |connection| {
            let written = match expected {
                None => connection
                    .prepare_cached(
                        "INSERT INTO attempt_throttles
                             (key, attempts, locked_until, next_lock_ms, forgotten_at)
                         VALUES (:key, :attempts, :locked_until, :next_lock_ms, :forgotten_at)
                         ON CONFLICT (key) DO NOTHING",
                    )?
                    .execute(named_params! {
                        ":key": key,
                        ":attempts": record.attempts,
                        ":locked_until": optional_millis(record.locked_until),
                        ":next_lock_ms": record.next_lock.num_milliseconds(),
                        ":forgotten_at": millis(record.forgotten_at),
                    })?,
                // `IS` rather than `=`: it compares NULL with NULL as equal.
                Some(expected) => connection
                    .prepare_cached(
                        "UPDATE attempt_throttles
                         SET attempts = :attempts, locked_until = :locked_until,
                             next_lock_ms = :next_lock_ms, forgotten_at = :forgotten_at
                         WHERE key = :key
                           AND attempts = :expected_attempts
                           AND locked_until IS :expected_locked_until
                           AND next_lock_ms = :expected_next_lock_ms
                           AND forgotten_at = :expected_forgotten_at",
                    )?
                    .execute(named_params! {
                        ":key": key,
                        ":attempts": record.attempts,
                        ":locked_until": optional_millis(record.locked_until),
                        ":next_lock_ms": record.next_lock.num_milliseconds(),
                        ":forgotten_at": millis(record.forgotten_at),
                        ":expected_attempts": expected.attempts,
                        ":expected_locked_until": optional_millis(expected.locked_until),
                        ":expected_next_lock_ms": expected.next_lock.num_milliseconds(),
                        ":expected_forgotten_at": millis(expected.forgotten_at),
                    })?,
            };
            Ok(written == 1)
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
