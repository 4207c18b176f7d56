//! Adapters layer (HTTP): the `Products` tag — the catalogue.
//! Handlers and their declared responses in `api`, JSON bodies in `dto`.

mod api;
pub mod dto;

pub use api::ProductsApi;
