//! Adapters layer (HTTP): every error this API answers with and how operations declare them.
//! `problem` is the catalogue (code, status, title, detail) and the problem document;
//! `from_core` turns the core's outcomes into problems, `rejections` poem's own refusals;
//! `responses` declares each operation's statuses once. May depend on the core's error types,
//! poem and poem-openapi.

mod from_core;
mod language;
mod problem;
mod rejections;
mod responses;

pub(crate) use from_core::fault;
pub use language::ReaderLanguage;
pub use problem::{ApiError, PROBLEM_JSON};
pub(crate) use rejections::rejected_request;
pub(crate) use responses::responses;
