//! Adapters layer (HTTP): what handlers take from a request besides its body and parameters —
//! the signed-in caller (bearer scheme) and where the request came from.

mod bearer;
mod client;
mod forwarded;
mod trusted_proxies;

pub use bearer::BearerAuth;
pub use client::{ClientAddress, RequestClient};
pub use trusted_proxies::TrustedProxies;
