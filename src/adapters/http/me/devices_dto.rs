//! Adapters layer (HTTP): the JSON bodies of the remembered-devices operations. A device's
//! view never carries its token (which the server does not have) nor its digest. Absent
//! values are written as `null` and published as nullable, like every other view's.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::adapters::http::fields::Nullable;
use crate::core::model::{Page, RememberedDevice};

/// A device that skips the second factor at login.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct DeviceView {
    /// Pass it to `DELETE /me/devices/{id}` to forget the device.
    pub id: Uuid,
    /// When the device was remembered.
    pub created_at: DateTime<Utc>,
    /// The last login that skipped the second factor with it; `null` if none yet.
    pub last_used_at: Nullable<DateTime<Utc>>,
    /// After this instant the device no longer skips the second factor.
    pub expires_at: DateTime<Utc>,
    /// The browser or app that asked to be remembered, as it described itself.
    pub user_agent: Nullable<String>,
    /// The address it asked from.
    pub ip: Nullable<String>,
}

impl From<RememberedDevice> for DeviceView {
    fn from(device: RememberedDevice) -> Self {
        Self {
            id: device.id.as_uuid(),
            created_at: device.created_at,
            last_used_at: device.last_used_at.into(),
            expires_at: device.expires_at,
            user_agent: device.client.user_agent.into(),
            ip: device.client.ip.into(),
        }
    }
}

/// One page of remembered devices, newest first.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct DevicePage {
    pub items: Vec<DeviceView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Nullable<String>,
}

impl From<Page<RememberedDevice>> for DevicePage {
    fn from(page: Page<RememberedDevice>) -> Self {
        let page = page.map(DeviceView::from);
        Self {
            items: page.items,
            next_cursor: page.next_cursor.into(),
        }
    }
}
