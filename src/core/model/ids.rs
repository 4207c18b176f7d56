//! Core layer: identifiers. UUID v7, so that ids sort by creation time.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// Identifies a user account.
    UserId
);
uuid_id!(
    /// Identifies a login challenge (the step between password and second factor).
    ChallengeId
);
uuid_id!(
    /// Identifies a session: one sign-in on one device, ended by logout or revocation.
    SessionId
);
uuid_id!(
    /// Identifies a remembered device: a browser or app that may skip the second factor.
    DeviceId
);
uuid_id!(
    /// Identifies a product of the catalogue.
    ProductId
);
uuid_id!(
    /// Identifies an order.
    OrderId
);
uuid_id!(
    /// Identifies a security event of the audit log.
    AuditEventId
);
