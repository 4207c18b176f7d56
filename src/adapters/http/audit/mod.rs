//! Adapters layer (HTTP): the `Audit` tag — managers read the security-event log.
//! Handlers and their declared responses in `api`, JSON bodies in `dto`.

mod api;
pub mod dto;

pub use api::AuditApi;
