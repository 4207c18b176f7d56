//! Adapters layer (SQLite): a fixed set of open connections, lent out one job at a time on
//! tokio's blocking threads so that SQLite's synchronous calls never stall an async worker,
//! except short reads that can run at once (`read`).

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::{Context, anyhow};
use rusqlite::{Connection, ErrorCode};
use tokio::sync::Semaphore;

/// A handful of connections and one semaphore permit per connection, plus a few connections
/// of their own for quick reads.
///
/// A job first waits (asynchronously) for a permit, then runs on a blocking thread with a
/// connection taken from the idle list. Holding a permit guarantees an idle connection
/// exists, so the std mutex around the list is only ever held for a push or a pop. Several
/// connections let reads proceed in parallel under WAL; writes still take SQLite's single
/// write lock, which `busy_timeout` waits for.
pub(super) struct ConnectionPool {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    /// Connections that only `read` uses, with `busy_timeout` 0: a quick read never queues
    /// behind the listings and writes that hold the others.
    quick: Mutex<Vec<Connection>>,
}

impl ConnectionPool {
    /// `quick` connections must have `busy_timeout` 0 (see `read`).
    pub(super) fn new(connections: Vec<Connection>, quick: Vec<Connection>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(connections.len())),
            idle: Mutex::new(connections),
            quick: Mutex::new(quick),
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

    /// Runs `job`, a read of a few rows by key, right on the calling thread on a quick-read
    /// connection when one is free; otherwise, or when a lock stands in its way, as `run`
    /// does.
    ///
    /// Handing a job to a blocking thread and being woken with its answer costs two thread
    /// switches, several times the read itself: half the CPU of a flood of authenticated
    /// requests went to those switches. Such a read takes microseconds: under WAL it waits
    /// for no writer, and its connection allows no lock wait at all (`busy_timeout` 0), so
    /// the rare read that would have to wait (a checkpoint) goes to a blocking thread instead.
    pub(super) async fn read<T, F>(self: &Arc<Self>, job: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let free = self.quick_list().pop();
        if let Some(connection) = free {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| job(&connection)));
            self.quick_list().push(connection);
            match outcome.map_err(|_| anyhow!("database job panicked"))? {
                Err(error) if waited_for_a_lock(&error) => {}
                outcome => return outcome,
            }
        }
        self.run(job).await
    }

    fn take_idle(&self) -> anyhow::Result<Connection> {
        self.idle_list()
            .pop()
            .ok_or_else(|| anyhow!("no idle database connection despite a free permit"))
    }

    fn quick_list(&self) -> MutexGuard<'_, Vec<Connection>> {
        // As `idle_list`: only pushes and pops under this lock.
        self.quick.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn idle_list(&self) -> MutexGuard<'_, Vec<Connection>> {
        // Only `push` and `pop` run under this lock; neither can leave the list half
        // changed, so a poisoned lock still guards a sound list.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether SQLite refused the job because another connection held a lock it needed.
fn waited_for_a_lock(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(failure, _))
                if matches!(failure.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        )
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    fn connection(busy_timeout: Duration) -> Connection {
        let connection = Connection::open_in_memory().unwrap();
        connection.busy_timeout(busy_timeout).unwrap();
        connection
    }

    fn pool() -> Arc<ConnectionPool> {
        Arc::new(ConnectionPool::new(
            vec![connection(WAIT)],
            vec![connection(Duration::ZERO)],
        ))
    }

    fn busy_timeout(connection: &Connection) -> anyhow::Result<i64> {
        Ok(connection.pragma_query_value(None, "busy_timeout", |row| row.get(0))?)
    }

    fn busy() -> anyhow::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None)
            .into()
    }

    #[tokio::test]
    async fn a_quick_read_runs_where_no_lock_is_waited_for_and_other_jobs_where_they_may_wait() {
        let pool = pool();

        let quick = pool.read(busy_timeout).await.unwrap();
        let other = pool.run(busy_timeout).await.unwrap();

        assert_eq!(quick, 0);
        assert_eq!(other, WAIT.as_millis() as i64);
    }

    #[tokio::test]
    async fn a_quick_read_does_not_queue_behind_the_pools_connections() {
        let pool = pool();
        let every_permit = Arc::clone(&pool.permits).acquire_owned().await.unwrap();

        let answer = pool.read(|_| Ok("read")).await;

        assert_eq!(answer.unwrap(), "read");
        drop(every_permit);
    }

    #[tokio::test]
    async fn a_quick_read_that_meets_a_lock_runs_again_where_it_may_wait() {
        let pool = pool();
        let tries = Arc::new(AtomicUsize::new(0));

        let answer = {
            let tries = Arc::clone(&tries);
            pool.read(
                move |connection| match tries.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(busy().context("reading")),
                    _ => busy_timeout(connection),
                },
            )
            .await
        };

        assert_eq!(answer.unwrap(), WAIT.as_millis() as i64);
        assert_eq!(tries.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn any_other_failure_of_a_quick_read_is_its_answer() {
        let pool = pool();
        let tries = Arc::new(AtomicUsize::new(0));

        let answer = {
            let tries = Arc::clone(&tries);
            pool.read(move |_| -> anyhow::Result<()> {
                tries.fetch_add(1, Ordering::SeqCst);
                Err(anyhow!("a corrupt row"))
            })
            .await
        };

        assert!(answer.is_err());
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_panicking_quick_read_keeps_its_connection() {
        let pool = pool();

        let panicked = pool
            .read(|_| -> anyhow::Result<()> { panic!("a bad read") })
            .await;

        assert!(panicked.is_err());
        assert_eq!(pool.quick_list().len(), 1);
        assert_eq!(pool.read(busy_timeout).await.unwrap(), 0);
    }
}
