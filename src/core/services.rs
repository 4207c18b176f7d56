//! Core layer: every use case of the core in one value, as the composition root builds them
//! and the inbound adapters call them. Plain data; depends only on the services themselves.

use super::audit::AuditTrail;
use super::auth::{
    PasswordChange, PasswordRecovery, Registration, RememberedDevices, SecondFactorSettings,
    Sessions, SignIn,
};
use super::catalogue::CatalogueService;
use super::orders::OrderService;
use super::people::UserAdministration;
use super::profile::ProfileService;
use super::request_limit::RequestLimits;

/// Every use case of the core, each holding only the ports it uses.
#[derive(Clone)]
pub struct CoreServices {
    pub registration: Registration,
    pub sign_in: SignIn,
    pub sessions: Sessions,
    pub password_recovery: PasswordRecovery,
    pub password_change: PasswordChange,
    pub second_factor: SecondFactorSettings,
    pub devices: RememberedDevices,
    /// The security-event log: recorded by the use cases, listed by managers.
    pub audit: AuditTrail,
    pub profile: ProfileService,
    pub people: UserAdministration,
    pub catalogue: CatalogueService,
    pub orders: OrderService,
    /// The per-address request limit, counted in the store for every instance.
    pub request_limits: RequestLimits,
}
