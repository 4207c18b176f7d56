//! Adapters layer (SQLite): the `sessions` table behind `SessionStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, named_params};

use super::SqliteStore;
use super::columns::{
    column, millis, optional_millis, optional_time_column, parsed_column, time_column,
};
use super::read_transaction::in_one_read;
use super::users::user_with_id;
use crate::core::model::{ClientInfo, PageRequest, Session, SessionId, User, UserId};
use crate::core::ports::{SessionStore, StoreError};

const SESSION_COLUMNS: &str = "id, user_id, refresh_generation, rotated_at, created_at, \
                               last_used_at, expires_at, revoked_at, client_ip, client_user_agent";

fn session_from_row(row: &Row<'_>) -> anyhow::Result<Session> {
    Ok(Session {
        id: parsed_column(row, "id")?,
        user_id: parsed_column(row, "user_id")?,
        refresh_generation: column(row, "refresh_generation")?,
        rotated_at: optional_time_column(row, "rotated_at")?,
        created_at: time_column(row, "created_at")?,
        last_used_at: time_column(row, "last_used_at")?,
        expires_at: time_column(row, "expires_at")?,
        revoked_at: optional_time_column(row, "revoked_at")?,
        client: ClientInfo {
            ip: column(row, "client_ip")?,
            user_agent: column(row, "client_user_agent")?,
        },
    })
}

fn query_session(connection: &Connection, id: SessionId) -> anyhow::Result<Option<Session>> {
    connection
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"
        ))?
        .query_row([id.to_string()], |row| Ok(session_from_row(row)))
        .optional()?
        .transpose()
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        let session = session.clone();
        self.run("inserting a session", move |connection| {
            connection
                .prepare_cached(&format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS})
                     VALUES (:id, :user_id, :refresh_generation, :rotated_at, :created_at,
                             :last_used_at, :expires_at, :revoked_at, :client_ip,
                             :client_user_agent)"
                ))?
                .execute(named_params! {
                    ":id": session.id.to_string(),
                    ":user_id": session.user_id.to_string(),
                    ":refresh_generation": session.refresh_generation,
                    ":rotated_at": optional_millis(session.rotated_at),
                    ":created_at": millis(session.created_at),
                    ":last_used_at": millis(session.last_used_at),
                    ":expires_at": millis(session.expires_at),
                    ":revoked_at": optional_millis(session.revoked_at),
                    ":client_ip": session.client.ip,
                    ":client_user_agent": session.client.user_agent,
                })?;
            Ok(())
        })
        .await
    }

    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        self.read("reading a session", move |connection| {
            query_session(connection, id)
        })
        .await
    }

    async fn session_and_user(
        &self,
        id: SessionId,
    ) -> Result<Option<(Session, Option<User>)>, StoreError> {
        self.read("reading a session and its user", move |connection| {
            // One snapshot, and one taking of SQLite's file locks instead of one per statement.
            in_one_read(connection, |connection| {
                let Some(session) = query_session(connection, id)? else {
                    return Ok(None);
                };
                let user = user_with_id(connection, session.user_id)?;
                Ok(Some((session, user)))
            })
        })
        .await
    }

    async fn advance_refresh_generation(
        &self,
        id: SessionId,
        expected_generation: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Wrapping back to generation 0 would make the session's first refresh token valid
        // again; a session that has rotated four billion times must sign in anew instead.
        let Some(next_generation) = expected_generation.checked_add(1) else {
            return Ok(false);
        };
        self.run("rotating a refresh token", move |connection| {
            let advanced = connection
                .prepare_cached(
                    "UPDATE sessions
                     SET refresh_generation = :next, rotated_at = :now, last_used_at = :now
                     WHERE id = :id AND revoked_at IS NULL AND refresh_generation = :expected",
                )?
                .execute(named_params! {
                    ":id": id.to_string(),
                    ":expected": expected_generation,
                    ":next": next_generation,
                    ":now": millis(now),
                })?;
            Ok(advanced == 1)
        })
        .await
    }

    async fn revoke_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.run("revoking a session", move |connection| {
            let revoked = connection
                .prepare_cached(
                    "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )?
                .execute((id.to_string(), millis(now)))?;
            Ok(revoked == 1)
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.run("revoking a user's sessions", move |connection| {
            let revoked = connection
                .prepare_cached(
                    "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                )?
                .execute((user_id.to_string(), millis(now)))?;
            Ok(u64::try_from(revoked)?)
        })
        .await
    }

    async fn revoke_other_user_sessions(
        &self,
        user_id: UserId,
        keep: SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.run("revoking a user's other sessions", move |connection| {
            let revoked = connection
                .prepare_cached(
                    "UPDATE sessions SET revoked_at = ?3
                     WHERE user_id = ?1 AND id <> ?2 AND revoked_at IS NULL",
                )?
                .execute((user_id.to_string(), keep.to_string(), millis(now)))?;
            Ok(u64::try_from(revoked)?)
        })
        .await
    }

    async fn live_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Vec<Session>, StoreError> {
        self.run("listing a user's sessions", move |connection| {
            // Ids are lower-case hyphenated UUID v7 text, so text order is creation order.
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions
                 WHERE user_id = :user_id AND revoked_at IS NULL AND :now < expires_at
                   AND (:before IS NULL OR id < :before)
                 ORDER BY id DESC LIMIT :limit"
            ))?;
            let rows = statement.query_map(
                named_params! {
                    ":user_id": user_id.to_string(),
                    ":now": millis(now),
                    ":before": page.before.map(|id| id.to_string()),
                    ":limit": i64::try_from(page.fetch_limit())?,
                },
                |row| Ok(session_from_row(row)),
            )?;
            let mut sessions = Vec::new();
            for row in rows {
                sessions.push(row??);
            }
            Ok(sessions)
        })
        .await
    }
}
