//! Adapters layer (HTTP): the `Operations` tag — probes for operators.

mod api;

pub use api::OperationsApi;
