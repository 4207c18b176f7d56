//! Adapters layer (HTTP): the `Stats` tag — managers' figures over orders.
//! Handlers and their declared responses in `api`, JSON bodies in `dto`.

mod api;
pub mod dto;

pub use api::StatsApi;
