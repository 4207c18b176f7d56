//! Adapters layer (HTTP): the `Operations` tag — probes and metrics for operators.

mod api;

pub use api::OperationsApi;
