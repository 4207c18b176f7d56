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
    /// The catalogue: anyone browses it, managers edit it.
    Products,
    /// Probes and metrics for operators; not for end users.
    Operations,
}
