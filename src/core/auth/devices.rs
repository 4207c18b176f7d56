//! Core layer: the signed-in user's remembered devices — listing them, forgetting one, and
//! forgetting them all (which a password reset does).

use thiserror::Error;

use super::AuthService;
use crate::core::model::{DeviceId, Page, PageRequest, RememberedDevice, UserId};

#[derive(Debug, Error)]
pub enum ForgetDeviceError {
    /// No such device among the user's own — another user's is not told apart from none.
    #[error("device not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AuthService {
    /// The user's live remembered devices, newest first.
    pub async fn remembered_devices(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> Result<Page<RememberedDevice>, anyhow::Error> {
        let now = self.ports.clock.now();
        let fetched = self.ports.devices.devices_of(user_id, page, now).await?;
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
        let deleted = self
            .ports
            .devices
            .delete_device(user_id, device_id)
            .await
            .map_err(anyhow::Error::from)?;
        if deleted {
            Ok(())
        } else {
            Err(ForgetDeviceError::NotFound)
        }
    }

    /// Forgets every device of the user, so each of their next logins asks for the second
    /// factor again; how many were forgotten. A password reset calls it.
    pub async fn forget_all_devices(&self, user_id: UserId) -> Result<u64, anyhow::Error> {
        let forgotten = self.ports.devices.forget_devices(user_id).await?;
        if forgotten > 0 {
            tracing::info!(user_id = %user_id, forgotten, "remembered devices forgotten");
        }
        Ok(forgotten)
    }
}
