//! Adapters layer: connects the core's ports to technologies. Adapters translate; they never
//! decide business rules.

pub mod allocator;
pub mod crypto;
pub mod http;
pub mod i18n;
pub mod mail;
pub mod memory;
pub mod metrics;
pub mod mongo;
pub mod sqlite;
pub mod time_limit;
