//! Adapters layer (HTTP): the `Orders` tag — orders, from placing to delivery.
//! Handlers and their declared responses in `api`, JSON bodies in `dto`.

mod api;
pub mod dto;

pub use api::OrdersApi;
