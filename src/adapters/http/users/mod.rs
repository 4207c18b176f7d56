//! Adapters layer (HTTP): the `Users` tag — managers administer accounts.
//! Handlers and their declared responses in `api`, JSON bodies in `dto`.

mod api;
pub mod dto;

pub use api::UsersApi;
