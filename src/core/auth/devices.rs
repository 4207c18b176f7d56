//! Core layer: the signed-in user's remembered devices — listing them, forgetting one, and
//! forgetting them all (which a password reset does).

use std::sync::Arc;

use thiserror::Error;

use crate::core::model::{DeviceId, Page, PageRequest, RememberedDevice, UserId};
use crate::core::ports::{Clock, DeviceStore};
use crate::core::unexpected::port_failures_are_unexpected;

#[derive(Debug, Error)]
pub enum ForgetDeviceError {
    /// No such device among the user's own — another user's is not told apart from none.
    #[error("device not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(ForgetDeviceError);

/// The devices a user asked to be remembered (remembering one is sign-in's job).
#[derive(Clone)]
pub struct RememberedDevices {
    devices: Arc<dyn DeviceStore>,
    clock: Arc<dyn Clock>,
}

impl RememberedDevices {
    pub fn new(devices: Arc<dyn DeviceStore>, clock: Arc<dyn Clock>) -> Self {
        Self { devices, clock }
    }

    /// The user's live remembered devices, newest first.
    pub async fn remembered_devices(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> Result<Page<RememberedDevice>, anyhow::Error> {
        let now = self.clock.now();
        let fetched = self.devices.devices_of(user_id, page, now).await?;
        Ok(Page::from_fetched(fetched, page, |device| {
            device.id.as_uuid()
        }))
    }

    /// Forgets one of the user's devices: its token stops skipping the second factor at once.
    /// `device_id` comes from the client as text; anything that is not one of the user's
    /// devices is `NotFound`.
    pub async fn forget_device(
        &self,
        user_id: UserId,
        device_id: &str,
    ) -> Result<(), ForgetDeviceError> {
        let Ok(device_id) = device_id.trim().parse::<DeviceId>() else {
            return Err(ForgetDeviceError::NotFound);
        };
        let deleted = self.devices.delete_device(user_id, device_id).await?;
        if deleted {
            Ok(())
        } else {
            Err(ForgetDeviceError::NotFound)
        }
    }

    /// Forgets every device of the user, so each of their next logins asks for the second
    /// factor again; how many were forgotten. A password reset calls it.
    pub async fn forget_all_devices(&self, user_id: UserId) -> Result<u64, anyhow::Error> {
        let forgotten = self.devices.forget_devices(user_id).await?;
        if forgotten > 0 {
            tracing::info!(user_id = %user_id, forgotten, "remembered devices forgotten");
        }
        Ok(forgotten)
    }
}
