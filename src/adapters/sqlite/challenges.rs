//! Adapters layer (SQLite): the `login_challenges` table behind `ChallengeStore`.
//!
//! Each guard is one conditional `UPDATE`. When it changes nothing, a second read only
//! explains why (exhausted, too soon, or closed). That read cannot contradict the guard in a
//! way that matters: a challenge's attempts and code time only grow and completion and expiry
//! are final, so whatever stopped the update still holds, or the challenge has meanwhile
//! closed — which the read then reports.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Row, named_params};

use super::SqliteStore;
use super::columns::{
    column, digest_column, millis, optional_millis, optional_time_column, parsed_column,
    time_column,
};
use crate::core::model::{ChallengeId, LoginChallenge, SecretDigest, UserId};
use crate::core::ports::{AttemptOutcome, ChallengeStore, ReplaceCodeOutcome, StoreError};

const CHALLENGE_COLUMNS: &str =
    "id, user_id, code_digest, code_sent_at, attempts, expires_at, completed_at";

/// The SQL condition of an open challenge: not completed, and `:now` before its expiry.
const IS_OPEN: &str = "completed_at IS NULL AND :now < expires_at";

fn challenge_from_row(row: &Row<'_>) -> anyhow::Result<LoginChallenge> {
    Ok(LoginChallenge {
        id: parsed_column(row, "id")?,
        user_id: parsed_column(row, "user_id")?,
        code_digest: digest_column(row, "code_digest")?,
        code_sent_at: time_column(row, "code_sent_at")?,
        attempts: column(row, "attempts")?,
        expires_at: time_column(row, "expires_at")?,
        completed_at: optional_time_column(row, "completed_at")?,
    })
}

fn query_challenge(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> anyhow::Result<Option<LoginChallenge>> {
    connection
        .prepare_cached(sql)?
        .query_row(params, |row| Ok(challenge_from_row(row)))
        .optional()?
        .transpose()
}

#[async_trait]
impl ChallengeStore for SqliteStore {
    async fn insert_challenge(&self, challenge: &LoginChallenge) -> Result<(), StoreError> {
        let challenge = challenge.clone();
        self.run("inserting a login challenge", move |connection| {
            connection
                .prepare_cached(&format!(
                    "INSERT INTO login_challenges ({CHALLENGE_COLUMNS})
                     VALUES (:id, :user_id, :code_digest, :code_sent_at, :attempts, :expires_at,
                             :completed_at)"
                ))?
                .execute(named_params! {
                    ":id": challenge.id.to_string(),
                    ":user_id": challenge.user_id.to_string(),
                    ":code_digest": challenge.code_digest.as_bytes(),
                    ":code_sent_at": millis(challenge.code_sent_at),
                    ":attempts": challenge.attempts,
                    ":expires_at": millis(challenge.expires_at),
                    ":completed_at": optional_millis(challenge.completed_at),
                })?;
            Ok(())
        })
        .await
    }

    async fn challenge(&self, id: ChallengeId) -> Result<Option<LoginChallenge>, StoreError> {
        self.run("reading a login challenge", move |connection| {
            query_challenge(
                connection,
                &format!("SELECT {CHALLENGE_COLUMNS} FROM login_challenges WHERE id = ?1"),
                [id.to_string()],
            )
        })
        .await
    }

    async fn count_attempt(
        &self,
        id: ChallengeId,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<AttemptOutcome, StoreError> {
        self.run("counting a login attempt", move |connection| {
            let counted = query_challenge(
                connection,
                &format!(
                    "UPDATE login_challenges SET attempts = attempts + 1
                     WHERE id = :id AND {IS_OPEN} AND attempts < :max_attempts
                     RETURNING {CHALLENGE_COLUMNS}"
                ),
                named_params! {
                    ":id": id.to_string(),
                    ":now": millis(now),
                    ":max_attempts": max_attempts,
                },
            )?;
            if let Some(challenge) = counted {
                return Ok(AttemptOutcome::Counted(challenge));
            }
            let open = connection
                .prepare_cached(&format!(
                    "SELECT 1 FROM login_challenges WHERE id = :id AND {IS_OPEN}"
                ))?
                .exists(named_params! { ":id": id.to_string(), ":now": millis(now) })?;
            Ok(if open {
                AttemptOutcome::Exhausted
            } else {
                AttemptOutcome::Closed
            })
        })
        .await
    }

    async fn complete_challenge(
        &self,
        id: ChallengeId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.run("completing a login challenge", move |connection| {
            let completed = connection
                .prepare_cached(
                    "UPDATE login_challenges SET completed_at = ?2
                     WHERE id = ?1 AND completed_at IS NULL",
                )?
                .execute((id.to_string(), millis(now)))?;
            Ok(completed == 1)
        })
        .await
    }

    async fn replace_code(
        &self,
        id: ChallengeId,
        code_digest: &SecretDigest,
        max_attempts: u32,
        cooldown: Duration,
        now: DateTime<Utc>,
    ) -> Result<ReplaceCodeOutcome, StoreError> {
        let code_digest = *code_digest;
        self.run("replacing a login code", move |connection| {
            let replaced = connection
                .prepare_cached(&format!(
                    "UPDATE login_challenges SET code_digest = :code_digest, code_sent_at = :now
                     WHERE id = :id AND {IS_OPEN} AND attempts < :max_attempts
                       AND code_sent_at <= :last_sending_allowed"
                ))?
                .execute(named_params! {
                    ":id": id.to_string(),
                    ":code_digest": code_digest.as_bytes(),
                    ":now": millis(now),
                    ":max_attempts": max_attempts,
                    ":last_sending_allowed": millis(now - cooldown),
                })?;
            if replaced == 1 {
                return Ok(ReplaceCodeOutcome::Replaced);
            }
            let sent_at = connection
                .prepare_cached(&format!(
                    "SELECT code_sent_at FROM login_challenges
                     WHERE id = :id AND {IS_OPEN} AND attempts < :max_attempts"
                ))?
                .query_row(
                    named_params! {
                        ":id": id.to_string(),
                        ":now": millis(now),
                        ":max_attempts": max_attempts,
                    },
                    |row| Ok(time_column(row, "code_sent_at")),
                )
                .optional()?
                .transpose()?;
            Ok(match sent_at {
                Some(sent_at) => ReplaceCodeOutcome::TooSoon { sent_at },
                None => ReplaceCodeOutcome::Closed,
            })
        })
        .await
    }

    async fn close_user_challenges(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.run("closing a user's login challenges", move |connection| {
            let closed = connection
                .prepare_cached(&format!(
                    "UPDATE login_challenges SET completed_at = :now
                     WHERE user_id = :user_id AND {IS_OPEN}"
                ))?
                .execute(named_params! {
                    ":user_id": user_id.to_string(),
                    ":now": millis(now),
                })?;
            Ok(closed as u64)
        })
        .await
    }
}
