//! Adapters layer (SQLite): the `totp_enrolments` and `recovery_codes` tables behind
//! `SecondFactorStore`. Every guard is one conditional statement; the two operations that
//! touch both tables run in one transaction.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, named_params};

use super::SqliteStore;
use super::columns::{column, millis, optional_time_column, parsed_column, time_column};
use crate::core::model::{SealedTotpSecret, SecretDigest, TotpEnrolment, UserId};
use crate::core::ports::{SecondFactorStore, StoreError};

fn enrolment_from_row(row: &Row<'_>) -> anyhow::Result<TotpEnrolment> {
    let last_used_step: Option<i64> = column(row, "last_used_step")?;
    Ok(TotpEnrolment {
        user_id: parsed_column(row, "user_id")?,
        secret: SealedTotpSecret::from_bytes(column(row, "sealed_secret")?),
        created_at: time_column(row, "created_at")?,
        enabled_at: optional_time_column(row, "enabled_at")?,
        last_used_step: last_used_step
            .map(u64::try_from)
            .transpose()
            .context("column `last_used_step`")?,
    })
}

/// A time step as SQLite's signed integer; steps are ~6·10^7 today, so this never fails
/// short of a broken clock.
fn step_value(step: u64) -> anyhow::Result<i64> {
    i64::try_from(step).context("a TOTP step beyond SQLite's integers")
}

#[async_trait]
impl SecondFactorStore for SqliteStore {
    async fn totp_enrolment(&self, user_id: UserId) -> Result<Option<TotpEnrolment>, StoreError> {
        self.run("reading a TOTP enrolment", move |connection| {
            connection
                .prepare_cached(
                    "SELECT user_id, sealed_secret, created_at, enabled_at, last_used_step
                     FROM totp_enrolments WHERE user_id = ?1",
                )?
                .query_row([user_id.to_string()], |row| Ok(enrolment_from_row(row)))
                .optional()?
                .transpose()
        })
        .await
    }

    async fn put_pending_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let secret = secret.clone();
        self.run("storing a pending TOTP enrolment", move |connection| {
            // The upsert's WHERE leaves an enabled enrolment alone: nothing changes then.
            let changed = connection
                .prepare_cached(
                    "INSERT INTO totp_enrolments (user_id, sealed_secret, created_at)
                     VALUES (:user_id, :secret, :now)
                     ON CONFLICT (user_id) DO UPDATE
                        SET sealed_secret = excluded.sealed_secret,
                            created_at = excluded.created_at,
                            last_used_step = NULL
                        WHERE totp_enrolments.enabled_at IS NULL",
                )?
                .execute(named_params! {
                    ":user_id": user_id.to_string(),
                    ":secret": secret.as_bytes(),
                    ":now": millis(now),
                })?;
            Ok(changed == 1)
        })
        .await
    }

    async fn enable_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let secret = secret.clone();
        self.run("enabling TOTP", move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE totp_enrolments SET enabled_at = :now, last_used_step = :step
                     WHERE user_id = :user_id AND enabled_at IS NULL AND sealed_secret = :secret",
                )?
                .execute(named_params! {
                    ":user_id": user_id.to_string(),
                    ":secret": secret.as_bytes(),
                    ":step": step_value(step)?,
                    ":now": millis(now),
                })?;
            Ok(changed == 1)
        })
        .await
    }

    async fn use_totp_step(&self, user_id: UserId, step: u64) -> Result<bool, StoreError> {
        self.run("using a TOTP step", move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE totp_enrolments SET last_used_step = :step
                     WHERE user_id = :user_id AND enabled_at IS NOT NULL
                       AND (last_used_step IS NULL OR last_used_step < :step)",
                )?
                .execute(named_params! {
                    ":user_id": user_id.to_string(),
                    ":step": step_value(step)?,
                })?;
            Ok(changed == 1)
        })
        .await
    }

    async fn remove_totp(&self, user_id: UserId) -> Result<bool, StoreError> {
        self.run("removing TOTP", move |connection| {
            let transaction = connection.unchecked_transaction()?;
            let user_id = user_id.to_string();
            transaction.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&user_id])?;
            let removed = transaction
                .execute("DELETE FROM totp_enrolments WHERE user_id = ?1", [&user_id])?;
            transaction.commit()?;
            Ok(removed == 1)
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        digests: &[SecretDigest],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let digests = digests.to_vec();
        self.run("replacing recovery codes", move |connection| {
            let transaction = connection.unchecked_transaction()?;
            let user_id = user_id.to_string();
            transaction.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&user_id])?;
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO recovery_codes (user_id, digest, created_at)
                     VALUES (:user_id, :digest, :now)",
                )?;
                for digest in &digests {
                    insert.execute(named_params! {
                        ":user_id": user_id,
                        ":digest": digest.as_bytes(),
                        ":now": millis(now),
                    })?;
                }
            }
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn consume_recovery_code(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let digest = *digest;
        self.run("using a recovery code", move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE recovery_codes SET used_at = :now
                     WHERE user_id = :user_id AND digest = :digest AND used_at IS NULL",
                )?
                .execute(named_params! {
                    ":user_id": user_id.to_string(),
                    ":digest": digest.as_bytes(),
                    ":now": millis(now),
                })?;
            Ok(changed == 1)
        })
        .await
    }

    async fn unused_recovery_codes(&self, user_id: UserId) -> Result<u64, StoreError> {
        self.run("counting recovery codes", move |connection| {
            let count: i64 = connection
                .prepare_cached(
                    "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
                )?
                .query_row([user_id.to_string()], |row| row.get(0))?;
            Ok(u64::try_from(count)?)
        })
        .await
    }
}
