//! Adapters layer (SQLite): the `outbox_mails` table behind `OutboxStore`. Every guard is one
//! statement, atomic in SQLite across processes: a claim is one
//! `UPDATE … WHERE id IN (due, unleased) RETURNING`, so two claimers never get one mail; each
//! outcome is an `UPDATE` naming the claim's attempt.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Row, named_params};

use super::SqliteStore;
use super::columns::{column, millis, text_column, time_column};
use crate::core::model::{ClaimedMail, OutboxMailId, OutboxStatus, QueuedMail, SealedMail};
use crate::core::ports::{OutboxStore, StoreError};

fn claimed_from_row(row: &Row<'_>, lease_until: DateTime<Utc>) -> anyhow::Result<ClaimedMail> {
    let attempts: i64 = column(row, "attempts")?;
    let body: Option<Vec<u8>> = column(row, "body")?;
    Ok(ClaimedMail {
        id: text_column(row, "id", |id| {
            id.parse::<uuid::Uuid>().map(OutboxMailId::from_uuid)
        })?,
        kind: column(row, "kind")?,
        body: SealedMail::from_bytes(
            body.ok_or_else(|| anyhow::anyhow!("column `body`: a queued mail has no body"))?,
        ),
        attempt: u32::try_from(attempts)
            .map_err(|_| anyhow::anyhow!("column `attempts`: {attempts} is out of range"))?,
        created_at: time_column(row, "created_at")?,
        lease_until,
    })
}

/// Ends the claim `attempt` of mail `id` in `state`, forgetting the body.
fn finish(
    connection: &rusqlite::Connection,
    id: OutboxMailId,
    attempt: u32,
    state: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let changed = connection
        .prepare_cached(
            "UPDATE outbox_mails
             SET state = :state, body = NULL, lease_until = NULL, finished_at = :now
             WHERE id = :id AND state = 'queued' AND attempts = :attempt",
        )?
        .execute(named_params! {
            ":state": state,
            ":now": millis(now),
            ":id": id.to_string(),
            ":attempt": attempt,
        })?;
    Ok(changed == 1)
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        let mail = mail.clone();
        self.run("queueing a mail", move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO outbox_mails
                         (id, kind, body, state, attempts, next_attempt_at, created_at)
                     VALUES (:id, :kind, :body, 'queued', 0, :created_at, :created_at)",
                )?
                .execute(named_params! {
                    ":id": mail.id.to_string(),
                    ":kind": mail.kind,
                    ":body": mail.body.as_bytes(),
                    ":created_at": millis(mail.created_at),
                })?;
            Ok(())
        })
        .await
    }

    async fn claim_mails(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run("claiming due mails", move |connection| {
            let mut claimed = connection
                .prepare_cached(
                    "UPDATE outbox_mails
                     SET attempts = attempts + 1, lease_until = :lease_until
                     WHERE id IN (
                         SELECT id FROM outbox_mails
                         WHERE state = 'queued' AND next_attempt_at <= :now
                           AND (lease_until IS NULL OR lease_until <= :now)
                         ORDER BY next_attempt_at, id
                         LIMIT :limit)
                     RETURNING id, kind, body, attempts, created_at, next_attempt_at",
                )?
                .query_map(
                    named_params! {
                        ":lease_until": millis(lease_until),
                        ":now": millis(now),
                        ":limit": limit,
                    },
                    |row| {
                        let due: i64 = row.get("next_attempt_at")?;
                        Ok((due, claimed_from_row(row, lease_until)))
                    },
                )?
                .map(|row| {
                    let (due, mail) = row?;
                    Ok((due, mail?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            // RETURNING gives rows in no promised order.
            claimed.sort_by_key(|(due, mail)| (*due, mail.id));
            Ok(claimed.into_iter().map(|(_, mail)| mail).collect())
        })
        .await
    }

    async fn mark_mail_sent(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.run("marking a mail sent", move |connection| {
            finish(connection, id, attempt, "sent", now)
        })
        .await
    }

    async fn retry_mail_at(
        &self,
        id: OutboxMailId,
        attempt: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.run("scheduling a mail's next attempt", move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE outbox_mails SET next_attempt_at = :retry_at, lease_until = NULL
                     WHERE id = :id AND state = 'queued' AND attempts = :attempt",
                )?
                .execute(named_params! {
                    ":retry_at": millis(retry_at),
                    ":id": id.to_string(),
                    ":attempt": attempt,
                })?;
            Ok(changed == 1)
        })
        .await
    }

    async fn abandon_mail(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.run("giving a mail up", move |connection| {
            finish(connection, id, attempt, "abandoned", now)
        })
        .await
    }

    async fn purge_mails(&self, finished_before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.run("purging old mails", move |connection| {
            let purged = connection
                .prepare_cached("DELETE FROM outbox_mails WHERE finished_at < ?1")?
                .execute([millis(finished_before)])?;
            Ok(purged as u64)
        })
        .await
    }

    async fn outbox_status(&self) -> Result<OutboxStatus, StoreError> {
        self.run("reading the outbox's status", move |connection| {
            let mut status = OutboxStatus::default();
            let mut statement = connection.prepare_cached(
                "SELECT state, COUNT(*) AS mails, MIN(created_at) AS oldest
                 FROM outbox_mails GROUP BY state",
            )?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let state: String = column(row, "state")?;
                let mails: i64 = column(row, "mails")?;
                let mails = u64::try_from(mails).unwrap_or(0);
                match state.as_str() {
                    "queued" => {
                        status.queued = mails;
                        status.oldest_queued_at = Some(time_column(row, "oldest")?);
                    }
                    "sent" => status.sent = mails,
                    "abandoned" => status.abandoned = mails,
                    other => anyhow::bail!("column `state`: unknown state `{other}`"),
                }
            }
            Ok(status)
        })
        .await
    }
}
