//! Adapters layer (SQLite): a fixed set of open connections, lent out one job at a time on
//! tokio's blocking threads so that SQLite's synchronous calls never stall an async worker.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::{Context, anyhow};
use rusqlite::Connection;
use tokio::sync::Semaphore;

/// A handful of connections and one semaphore permit per connection.
///
/// A job first waits (asynchronously) for a permit, then runs on a blocking thread with a
/// connection taken from the idle list. Holding a permit guarantees an idle connection
/// exists, so the std mutex around the list is only ever held for a push or a pop. Several
/// connections let reads proceed in parallel under WAL; writes still take SQLite's single
/// write lock, which `busy_timeout` waits for.
pub(super) struct ConnectionPool {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl ConnectionPool {
    pub(super) fn new(connections: Vec<Connection>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(connections.len())),
            idle: Mutex::new(connections),
        }
    }

    /// Runs `job` on a pooled connection, off the async workers. If the caller stops
    /// waiting, the job still runs to its end and the connection comes back.
    pub(super) async fn run<T, F>(self: &Arc<Self>, job: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .context("waiting for a database connection")?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let connection = pool.take_idle()?;
            // A panicking job must not lose its connection, or the pool would shrink for
            // good; rusqlite has rolled back any transaction the job left open while
            // unwinding, so the connection is sound to reuse.
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| job(&connection)));
            pool.idle_list().push(connection);
            // Released only now, after the connection is back, so the next permit holder
            // always finds one.
            drop(permit);
            outcome.map_err(|_| anyhow!("database job panicked"))?
        })
        .await
        .context("database job did not finish")?
    }

    fn take_idle(&self) -> anyhow::Result<Connection> {
        self.idle_list()
            .pop()
            .ok_or_else(|| anyhow!("no idle database connection despite a free permit"))
    }

    fn idle_list(&self) -> MutexGuard<'_, Vec<Connection>> {
        // Only `push` and `pop` run under this lock; neither can leave the list half
        // changed, so a poisoned lock still guards a sound list.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
