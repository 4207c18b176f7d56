//! Adapters layer (MongoDB): the `remembered_devices` collection behind `DeviceStore`.
//!
//! One document per device (`_id` = device id). Using a device is one `update_one` whose
//! filter names the user, the token digest and the expiry, so it is atomic on the server.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Binary, Document, doc};
use serde::{Deserialize, Serialize};

use super::values::{
    bson_digest, bson_time, bson_uuid, domain_digest, domain_time, domain_uuid, optional_bson_time,
    optional_domain_time,
};
use super::{MongoStore, run};
use crate::core::model::{
    ClientInfo, DeviceId, PageRequest, RememberedDevice, SecretDigest, UserId,
};
use crate::core::ports::{DeviceStore, StoreError};

pub(super) const COLLECTION: &str = "remembered_devices";

/// A remembered device as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct DeviceDocument {
    #[serde(rename = "_id")]
    id: bson::Uuid,
    /// With `_id`, the index that lists a user's devices newest first.
    user_id: bson::Uuid,
    /// Keyed digest of the token, never the token; unique index.
    token_digest: Binary,
    created_at: bson::DateTime,
    last_used_at: Option<bson::DateTime>,
    /// Also the TTL index's field: the server deletes the device a day after it expires.
    expires_at: bson::DateTime,
    client: DeviceClientDocument,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DeviceClientDocument {
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<&RememberedDevice> for DeviceDocument {
    fn from(device: &RememberedDevice) -> Self {
        Self {
            id: bson_uuid(device.id.as_uuid()),
            user_id: bson_uuid(device.user_id.as_uuid()),
            token_digest: bson_digest(&device.token_digest),
            created_at: bson_time(device.created_at),
            last_used_at: optional_bson_time(device.last_used_at),
            expires_at: bson_time(device.expires_at),
            client: DeviceClientDocument {
                ip: device.client.ip.clone(),
                user_agent: device.client.user_agent.clone(),
            },
        }
    }
}

impl TryFrom<DeviceDocument> for RememberedDevice {
    type Error = anyhow::Error;

    fn try_from(document: DeviceDocument) -> anyhow::Result<Self> {
        let id = DeviceId::from_uuid(domain_uuid(document.id));
        let read = || -> anyhow::Result<RememberedDevice> {
            Ok(RememberedDevice {
                id,
                user_id: UserId::from_uuid(domain_uuid(document.user_id)),
                token_digest: domain_digest("token_digest", &document.token_digest)?,
                created_at: domain_time("created_at", document.created_at)?,
                last_used_at: optional_domain_time("last_used_at", document.last_used_at)?,
                expires_at: domain_time("expires_at", document.expires_at)?,
                client: ClientInfo {
                    ip: document.client.ip.clone(),
                    user_agent: document.client.user_agent.clone(),
                },
            })
        };
        read().map_err(|error| error.context(format!("remembered device document {id}")))
    }
}

/// The user's devices still live at `now`, below `before` when set. UUIDs are stored as
/// 16-byte binaries, which the server compares byte by byte: v7 ids sort by creation time.
fn live_devices_filter(user_id: UserId, page: PageRequest, now: DateTime<Utc>) -> Document {
    let mut filter = doc! {
        "user_id": bson_uuid(user_id.as_uuid()),
        "expires_at": { "$gt": bson_time(now) },
    };
    if let Some(before) = page.before {
        filter.insert("_id", doc! { "$lt": bson_uuid(before) });
    }
    filter
}

#[async_trait]
impl DeviceStore for MongoStore {
    async fn insert_device(&self, device: &RememberedDevice) -> Result<(), StoreError> {
        run("inserting a remembered device", async {
            self.devices
                .insert_one(DeviceDocument::from(device))
                .await?;
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
        run("using a remembered device", async {
            let used = self
                .devices
                .update_one(
                    doc! {
                        "token_digest": bson_digest(digest),
                        "user_id": bson_uuid(user_id.as_uuid()),
                        "expires_at": { "$gt": bson_time(now) },
                    },
                    doc! { "$set": { "last_used_at": bson_time(now) } },
                )
                .await?;
            Ok(used.matched_count == 1)
        })
        .await
    }

    async fn devices_of(
        &self,
        user_id: UserId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Vec<RememberedDevice>, StoreError> {
        run("listing remembered devices", async {
            let mut cursor = self
                .devices
                .find(live_devices_filter(user_id, page, now))
                .sort(doc! { "_id": -1 })
                .limit(i64::try_from(page.fetch_limit())?)
                .await?;
            let mut devices = Vec::new();
            while cursor.advance().await? {
                devices.push(RememberedDevice::try_from(cursor.deserialize_current()?)?);
            }
            Ok(devices)
        })
        .await
    }

    async fn delete_device(&self, user_id: UserId, id: DeviceId) -> Result<bool, StoreError> {
        run("deleting a remembered device", async {
            let deleted = self
                .devices
                .delete_one(doc! {
                    "_id": bson_uuid(id.as_uuid()),
                    "user_id": bson_uuid(user_id.as_uuid()),
                })
                .await?;
            Ok(deleted.deleted_count == 1)
        })
        .await
    }

    async fn forget_devices(&self, user_id: UserId) -> Result<u64, StoreError> {
        run("forgetting remembered devices", async {
            let deleted = self
                .devices
                .delete_many(doc! { "user_id": bson_uuid(user_id.as_uuid()) })
                .await?;
            Ok(deleted.deleted_count)
        })
        .await
    }
}
