//! Adapters layer (SQLite): the `one_time_tokens` table behind `OneTimeTokenStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, named_params};

use super::SqliteStore;
use super::columns::{millis, parsed_column};
use crate::core::model::{OneTimeToken, SecretDigest, TokenPurpose, UserId};
use crate::core::ports::{OneTimeTokenStore, StoreError};

#[async_trait]
impl OneTimeTokenStore for SqliteStore {
    async fn insert_token(&self, token: &OneTimeToken) -> Result<(), StoreError> {
        let token = token.clone();
        self.run("inserting a one-time token", move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO one_time_tokens (digest, purpose, user_id, created_at, expires_at)
                     VALUES (:digest, :purpose, :user_id, :created_at, :expires_at)",
                )?
                .execute(named_params! {
                    ":digest": token.digest.as_bytes(),
                    ":purpose": token.purpose.as_str(),
                    ":user_id": token.user_id.to_string(),
                    ":created_at": millis(token.created_at),
                    ":expires_at": millis(token.expires_at),
                })?;
            Ok(())
        })
        .await
    }

    async fn consume_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        let digest = *digest;
        // The row is kept, marked consumed, so a replayed link can be told from a forged one
        // in an investigation. The WHERE clause is the whole guard: one statement, one winner.
        self.run("consuming a one-time token", move |connection| {
            connection
                .prepare_cached(
                    "UPDATE one_time_tokens SET consumed_at = :now
                     WHERE digest = :digest AND purpose = :purpose
                       AND consumed_at IS NULL AND :now < expires_at
                     RETURNING user_id",
                )?
                .query_row(
                    named_params! {
                        ":digest": digest.as_bytes(),
                        ":purpose": purpose.as_str(),
                        ":now": millis(now),
                    },
                    |row| Ok(parsed_column(row, "user_id")),
                )
                .optional()?
                .transpose()
        })
        .await
    }

    async fn peek_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        let digest = *digest;
        self.run("reading a one-time token", move |connection| {
            connection
                .prepare_cached(
                    "SELECT user_id FROM one_time_tokens
                     WHERE digest = :digest AND purpose = :purpose
                       AND consumed_at IS NULL AND :now < expires_at",
                )?
                .query_row(
                    named_params! {
                        ":digest": digest.as_bytes(),
                        ":purpose": purpose.as_str(),
                        ":now": millis(now),
                    },
                    |row| Ok(parsed_column(row, "user_id")),
                )
                .optional()?
                .transpose()
        })
        .await
    }

    async fn spend_user_tokens(
        &self,
        user_id: UserId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.run("spending a user's one-time tokens", move |connection| {
            let spent = connection
                .prepare_cached(
                    "UPDATE one_time_tokens SET consumed_at = :now
                     WHERE user_id = :user_id AND purpose = :purpose
                       AND consumed_at IS NULL AND :now < expires_at",
                )?
                .execute(named_params! {
                    ":user_id": user_id.to_string(),
                    ":purpose": purpose.as_str(),
                    ":now": millis(now),
                })?;
            Ok(spent as u64)
        })
        .await
    }
}
