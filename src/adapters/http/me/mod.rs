//! Adapters layer (HTTP): the `Me` tag — the signed-in user's own account, second factors,
//! sessions and remembered devices.

mod api;
mod devices_api;
mod devices_dto;
pub mod dto;
mod second_factor_api;
mod second_factor_dto;
mod sessions_api;
mod sessions_dto;

pub use api::MeApi;
pub use devices_api::DevicesApi;
pub use second_factor_api::SecondFactorApi;
pub use sessions_api::SessionsApi;
