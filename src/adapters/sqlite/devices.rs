//! Adapters layer (SQLite): the `remembered_devices` table behind `DeviceStore`. Using a
//! device is one conditional UPDATE whose WHERE names the user, the digest and the expiry.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Row, named_params};

use super::SqliteStore;
use super::columns::{
    column, digest_column, millis, optional_millis, optional_time_column, parsed_column,
    time_column,
};
use crate::core::model::{
    ClientInfo, DeviceId, PageRequest, RememberedDevice, SecretDigest, UserId,
};
use crate::core::ports::{DeviceStore, StoreError};

const DEVICE_COLUMNS: &str = "id, user_id, token_digest, created_at, last_used_at, expires_at, \
                              client_ip, client_user_agent";

fn device_from_row(row: &Row<'_>) -> anyhow::Result<RememberedDevice> {
    Ok(RememberedDevice {
        id: parsed_column(row, "id")?,
        user_id: parsed_column(row, "user_id")?,
        token_digest: digest_column(row, "token_digest")?,
        created_at: time_column(row, "created_at")?,
        last_used_at: optional_time_column(row, "last_used_at")?,
        expires_at: time_column(row, "expires_at")?,
        client: ClientInfo {
            ip: column(row, "client_ip")?,
            user_agent: column(row, "client_user_agent")?,
        },
    })
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn insert_device(&self, device: &RememberedDevice) -> Result<(), StoreError> {
        let device = device.clone();
        self.run("inserting a remembered device", move |connection| {
            connection
                .prepare_cached(&format!(
                    "INSERT INTO remembered_devices ({DEVICE_COLUMNS})
                     VALUES (:id, :user_id, :token_digest, :created_at, :last_used_at,
                             :expires_at, :client_ip, :client_user_agent)"
                ))?
                .execute(named_params! {
                    ":id": device.id.to_string(),
                    ":user_id": device.user_id.to_string(),
                    ":token_digest": device.token_digest.as_bytes(),
                    ":created_at": millis(device.created_at),
                    ":last_used_at": optional_millis(device.last_used_at),
                    ":expires_at": millis(device.expires_at),
                    ":client_ip": device.client.ip,
                    ":client_user_agent": device.client.user_agent,
                })?;
            Ok(())
        })
        .await
    }

    async fn use_device(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let digest = *digest;
        self.run("using a remembered device", move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE remembered_devices SET last_used_at = :now
                     WHERE token_digest = :digest AND user_id = :user_id AND expires_at > :now",
                )?
                .execute(named_params! {
                    ":digest": digest.as_bytes(),
                    ":user_id": user_id.to_string(),
                    ":now": millis(now),
                })?;
            Ok(changed == 1)
        })
        .await
    }

    async fn devices_of(
        &self,
        user_id: UserId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Vec<RememberedDevice>, StoreError> {
        self.run("listing remembered devices", move |connection| {
            // Hyphenated lower-case UUID v7 text sorts like the UUIDs themselves.
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM remembered_devices
                 WHERE user_id = :user_id AND expires_at > :now
                   AND (:before IS NULL OR id < :before)
                 ORDER BY id DESC LIMIT :limit"
            ))?;
            let rows = statement.query_map(
                named_params! {
                    ":user_id": user_id.to_string(),
                    ":now": millis(now),
                    ":before": page.before.map(|before| before.to_string()),
                    ":limit": i64::try_from(page.fetch_limit())?,
                },
                |row| Ok(device_from_row(row)),
            )?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn delete_device(&self, user_id: UserId, id: DeviceId) -> Result<bool, StoreError> {
        self.run("deleting a remembered device", move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM remembered_devices WHERE id = ?1 AND user_id = ?2")?
                .execute([id.to_string(), user_id.to_string()])?;
            Ok(deleted == 1)
        })
        .await
    }

    async fn forget_devices(&self, user_id: UserId) -> Result<u64, StoreError> {
        self.run("forgetting remembered devices", move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM remembered_devices WHERE user_id = ?1")?
                .execute([user_id.to_string()])?;
            Ok(deleted as u64)
        })
        .await
    }
}
