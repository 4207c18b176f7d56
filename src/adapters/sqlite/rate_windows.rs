//! Adapters layer (SQLite): the `rate_windows` table behind `RateWindowStore`.
//!
//! The count is one statement — an `INSERT … ON CONFLICT DO UPDATE … RETURNING` — atomic in
//! SQLite itself, so every process sharing the file counts into the same row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::named_params;

use super::SqliteStore;
use super::columns::millis;
use crate::core::model::{RateKey, RateWindow};
use crate::core::ports::{RateWindowStore, StoreError};

#[async_trait]
impl RateWindowStore for SqliteStore {
    async fn count_request(&self, key: &RateKey, window: &RateWindow) -> Result<u64, StoreError> {
        let key = key.as_str().to_owned();
        let (start, end) = (millis(window.start), millis(window.end));
        self.run("counting a request", move |connection| {
            let hits: i64 = connection
                .prepare_cached(
                    "INSERT INTO rate_windows (key, window_start, window_end, hits)
                     VALUES (:key, :start, :end, 1)
                     ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1
                     RETURNING hits",
                )?
                .query_row(
                    named_params! { ":key": key, ":start": start, ":end": end },
                    |row| row.get(0),
                )?;
            Ok(u64::try_from(hits)?)
        })
        .await
    }

    async fn purge_rate_windows(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = millis(now);
        self.run("purging ended rate windows", move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM rate_windows WHERE window_end <= ?1")?
                .execute([now])?;
            Ok(deleted as u64)
        })
        .await
    }
}
