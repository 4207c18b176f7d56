//! Adapters layer (HTTP): every error this API answers with, and the one place where the
//! core's outcomes and poem's rejections become them. May depend on the core's error types,
//! poem and poem-openapi.

mod from_core;
mod problem;

pub(crate) use from_core::{fault, problem_variants, rejected_request};
pub use problem::{ApiError, PROBLEM_JSON};
