//! End-to-end tests: the real application started in process on a free port, over real HTTP,
//! with a temporary SQLite file — and the SMTP mailer over real SMTP conversations with the
//! loopback sink of `testkit`; and the separate metrics listener.

use testkit::process::Binary;

mod journey;
mod metrics_listener;
mod orders;
mod outbox;
mod smtp;
mod smtp_mailer;

/// The real binary, for the `create-manager` an operator runs (Cargo names it to test crates
/// alone; see `Binary`).
const ALLOMEDIA: Binary = Binary {
    path: env!("CARGO_BIN_EXE_allomedia"),
    scratch_dir: env!("CARGO_TARGET_TMPDIR"),
};
