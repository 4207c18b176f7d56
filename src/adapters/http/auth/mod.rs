//! Adapters layer (HTTP): the `Auth` tag — registration, email verification, the two-step
//! login, sessions, and passwords (change, forgot, reset).

mod api;
pub mod dto;
mod password_api;

pub use api::AuthApi;
pub use password_api::PasswordApi;
