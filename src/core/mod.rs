//! Core layer: the business of allomedia — models, ports and use cases.
//! May depend on plain data crates (uuid, chrono, zxcvbn, subtle) and on nothing that does I/O:
//! no HTTP framework, database driver, mail transport or token library appears here.

pub mod attempt_reservation;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod housekeeping;
pub mod model;
pub mod notifier;
pub mod orders;
pub mod outbox;
pub mod people;
pub mod policy;
pub mod ports;
pub mod profile;
pub mod request_limit;
pub mod services;
#[cfg(test)]
pub(crate) mod testing;
pub mod unexpected;
