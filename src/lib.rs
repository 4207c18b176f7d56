//! allomedia: a home-delivery backend. The library holds everything; `main.rs` only wires.
//!
//! `core` is the pure business; `adapters` connect it to HTTP, stores, mail and crypto;
//! `app` chooses adapters from the configuration and serves.

pub mod adapters;
pub mod app;
pub mod config;
pub mod core;
