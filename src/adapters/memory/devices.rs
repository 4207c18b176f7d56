//! Adapters layer (memory): remembered devices, implementing `core::ports::DeviceStore`.
//! Each method is one critical section, hence atomic.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, duplicate};
use crate::core::model::{DeviceId, PageRequest, RememberedDevice, SecretDigest, UserId};
use crate::core::ports::{DeviceStore, StoreError};

#[async_trait]
impl DeviceStore for MemoryStore {
    async fn insert_device(&self, device: &RememberedDevice) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let taken = state
            .devices
            .values()
            .any(|stored| stored.id == device.id || stored.token_digest == device.token_digest);
        if taken {
            return Err(duplicate("a device with this id or token"));
        }
        state.devices.insert(device.id, device.clone());
        Ok(())
    }

    async fn use_device(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let live = state.devices.values_mut().find(|device| {
            device.user_id == user_id && device.token_digest == *digest && now < device.expires_at
        });
        Ok(live.is_some_and(|device| {
            device.last_used_at = Some(now);
            true
        }))
    }

    async fn devices_of(
        &self,
        user_id: UserId,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Vec<RememberedDevice>, StoreError> {
        let state = self.state()?;
        let mut devices: Vec<RememberedDevice> = state
            .devices
            .values()
            .filter(|device| device.user_id == user_id && now < device.expires_at)
            .filter(|device| {
                page.before
                    .is_none_or(|before| device.id.as_uuid() < before)
            })
            .cloned()
            .collect();
        devices.sort_by_key(|device| std::cmp::Reverse(device.id));
        devices.truncate(page.fetch_limit());
        Ok(devices)
    }

    async fn delete_device(&self, user_id: UserId, id: DeviceId) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        if state
            .devices
            .get(&id)
            .is_some_and(|device| device.user_id == user_id)
        {
            state.devices.remove(&id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn forget_devices(&self, user_id: UserId) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let before = state.devices.len();
        state.devices.retain(|_, device| device.user_id != user_id);
        Ok((before - state.devices.len()) as u64)
    }
}
