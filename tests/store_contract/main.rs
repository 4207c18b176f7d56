//! Tests: the store contract — every obligation the store ports document, written once and run
//! against every store adapter, plus what only the SQLite store promises (its file) and what
//! only the MongoDB store promises (its indexes and documents).
//!
//! One module per port. Each wraps its cases in `store_contract! { … }`, which keeps every case
//! as a generic function and expands it into one test per backend:
//! `<port>::<backend>::<case>`, e.g. `users::sqlite::unknown_users_are_absent`. Adding a backend
//! is one line in the macro's first arm and one function in `backends`; a backend whose server
//! this machine may lack (MongoDB) answers `Err(Unavailable)`, and each of its tests then prints
//! why it was skipped.

use std::io::Write;

use allomedia::core::ports::RateWindowStore;
use allomedia::core::ports::{
    AttemptThrottleStore, AuditLog, ChallengeStore, DeviceStore, ExpiredRecordStore,
    OneTimeTokenStore, OrderStore, OutboxStore, ProductStore, SecondFactorStore, SessionStore,
    StoreHealth, UserStore,
};

#[macro_use]
mod macros {
    /// Declares each contract case once — `pub async fn name<S: Store>(store: Arc<S>) { … }`,
    /// written as an ordinary function — and expands it for every backend. Every test runs on
    /// a multi-threaded runtime: the race tests need real parallelism, and using it for all
    /// means a test cannot silently lose it.
    macro_rules! store_contract {
        ($(
            $(#[$meta:meta])*
            pub async fn $case:ident<S: Store $(,)?>($store:ident: Arc<S> $(,)?) $body:block
        )*) => {
            $(
                $(#[$meta])*
                pub async fn $case<S: Store>($store: Arc<S>) $body
            )*
            store_contract!(@backend memory, $($case),*);
            store_contract!(@backend sqlite, $($case),*);
            store_contract!(@backend mongo, $($case),*);
        };
        (@backend $backend:ident, $($case:ident),*) => {
            mod $backend {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $case() {
                        match $crate::backends::$backend().await {
                            Ok((store, _keep_alive)) => {
                                super::$case(std::sync::Arc::new(store)).await;
                            }
                            Err(unavailable) => {
                                unavailable.report(concat!(module_path!(), "::", stringify!($case)))
                            }
                        }
                    }
                )*
            }
        };
    }
}

mod builders;

mod audit;
mod challenges;
mod devices;
mod expired;
mod health;
mod orders;
mod outbox;
mod products;
mod rate_windows;
mod second_factors;
mod sessions;
mod throttles;
mod tokens;
mod users;

mod mongo_database;
mod mongo_server;
mod sqlite_file;

/// Everything a store adapter implements.
pub trait Store:
    UserStore
    + OneTimeTokenStore
    + ChallengeStore
    + SessionStore
    + AttemptThrottleStore
    + SecondFactorStore
    + DeviceStore
    + ProductStore
    + OrderStore
    + AuditLog
    + StoreHealth
    + RateWindowStore
    + ExpiredRecordStore
    + OutboxStore
    + 'static
{
}

impl<S> Store for S where
    S: UserStore
        + OneTimeTokenStore
        + ChallengeStore
        + SessionStore
        + AttemptThrottleStore
        + SecondFactorStore
        + DeviceStore
        + ProductStore
        + OrderStore
        + AuditLog
        + StoreHealth
        + RateWindowStore
        + ExpiredRecordStore
        + OutboxStore
        + 'static
{
}

/// Why a backend's server is missing on this machine.
pub struct Unavailable(String);

impl Unavailable {
    /// Says that `test` did not run, visibly: libtest captures `eprintln!` of passing tests,
    /// but not what is written to the stderr handle itself, so the line shows in every
    /// `cargo test` log. One `write_all`, so that parallel tests cannot cut the line apart.
    pub fn report(self, test: &str) {
        let line = format!("skipped: {} — {test}\n", self.0);
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

/// A fresh, empty store of each backend for one test, with what must live as long as the test
/// (a temporary folder, a container).
mod backends {
    use allomedia::adapters::memory::MemoryStore;
    use allomedia::adapters::mongo::MongoStore;
    use allomedia::adapters::sqlite::SqliteStore;
    use tempfile::TempDir;

    use crate::Unavailable;
    use crate::mongo_server::{self, TestDatabase};

    pub async fn memory() -> Result<(MemoryStore, ()), Unavailable> {
        Ok((MemoryStore::new(), ()))
    }

    pub async fn sqlite() -> Result<(SqliteStore, TempDir), Unavailable> {
        let folder = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&folder.path().join("store.db")).unwrap();
        Ok((store, folder))
    }

    pub async fn mongo() -> Result<(MongoStore, TestDatabase), Unavailable> {
        mongo_server::fresh_store().await
    }
}
