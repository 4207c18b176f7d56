//! Tests of the HTTP adapter: the real router in process (`poem::test`) over the in-memory
//! world of `testkit` — every endpoint's success and problem answers — and the committed
//! OpenAPI document against the generated one.

mod account_pages;
mod audit;
mod auth;
mod client_address;
mod devices;
mod edge;
mod openapi_spec;
mod operations;
mod orders;
mod people;
mod problem_language;
mod products;
mod second_factor;
mod sessions;
mod throttling;
