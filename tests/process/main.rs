//! Process-level tests: the real `allomedia` binary as a child process — its command line,
//! a SIGKILL in the middle of writes, two instances sharing one store, the whole journey on
//! MongoDB, and a database that freezes or is not a replica set. `make crash-safety`
//! and `make two-instances` run one module each.

use testkit::process::Binary;

mod cli;
mod crash_safety;
mod mail_outbox;
mod mongo_journey;
mod mongo_server;
mod sick_database;
mod two_instances;

/// The binary under test (Cargo names it to test crates alone; see `Binary`).
const ALLOMEDIA: Binary = Binary {
    path: env!("CARGO_BIN_EXE_allomedia"),
    scratch_dir: env!("CARGO_TARGET_TMPDIR"),
};
