//! Adapters layer (HTTP): the tags that group operations in the OpenAPI document.

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// Registration, email verification, two-step sign-in and sessions.
    Auth,
    /// The signed-in user's own account.
    Me,
    /// Managers administer accounts: list, read, approve, suspend, promote, delete.
    Users,
    /// Managers read the security-event log: sign-ins, failures, second factors, resets,
    /// role and status changes.
    Audit,
    /// The catalogue: anyone browses it, managers edit it.
    Products,
    /// Orders: clients place them, managers run the kitchen and assign couriers, couriers
    /// deliver.
    Orders,
    /// Managers' figures over orders.
    Stats,
    /// Probes and metrics for operators; not for end users.
    Operations,
}
