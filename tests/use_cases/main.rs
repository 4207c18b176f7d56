//! Tests of the core's use cases: every business rule against in-memory adapters, a manual
//! clock (expiry and back-off by moving time) and a mailer whose inbox the tests read, built by
//! `testkit`. One module per concern; a few also check the rule's HTTP answer.

mod audit;
mod auth;
mod credentials;
mod devices;
mod lockout;
mod orders;
mod outbox;
mod password_change;
mod password_reset;
mod people;
mod request_limits;
mod second_factor;
mod throttling;
mod workflow;
