//! Core layer: remembered devices — a browser or app that passed the second factor and asked
//! to be trusted, so that its next logins (password still required) skip that step.

use chrono::{DateTime, Utc};

use super::{ClientInfo, DeviceId, SecretDigest, UserId};

/// A remembered device as stored. Its token is only ever held as a keyed digest; deleting the
/// record is what revokes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RememberedDevice {
    pub id: DeviceId,
    /// The only user this device's token works for.
    pub user_id: UserId,
    pub token_digest: SecretDigest,
    pub created_at: DateTime<Utc>,
    /// The last login that skipped the second factor thanks to this device.
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// Where the second factor was passed when the device was remembered.
    pub client: ClientInfo,
}

impl RememberedDevice {
    /// The text a device token is digested as; domain-separated from every other secret, so
    /// a device token's digest can never match a code's, a refresh token's or another's.
    pub fn token_text(token: &str) -> String {
        format!("remembered-device|{token}")
    }
}
