//! Adapters layer: every store port on an embedded SQLite file (rusqlite, bundled SQLite).
//! Depends on the core's ports and models; the default store (`sqlite://PATH`).
//!
//! Several processes may share one file, so every guard the ports demand is a single
//! conditional statement (`UPDATE … WHERE <precondition>`), atomic in SQLite itself — never a
//! read followed by a write.

mod audit;
mod challenges;
mod columns;
mod criteria;
mod devices;
mod expired;
mod migrations;
mod order_tallies;
mod orders;
mod outbox;
mod pool;
mod products;
mod rate_windows;
mod read_transaction;
mod second_factors;
mod sessions;
mod throttles;
mod tokens;
mod users;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode};

use crate::core::ports::{StoreError, StoreHealth};
use pool::ConnectionPool;

/// Connections kept open per process. Under WAL, readers do not block each other or the
/// writer; SQLite allows one writer at a time whatever the count, so a few suffice.
const POOL_SIZE: usize = 4;

/// Connections kept for quick reads by key (`ConnectionPool::read`), which run on the
/// calling async worker: one per worker of a small machine; a read that finds none free goes
/// to the pool.
const QUICK_READERS: usize = 2;

/// How long a statement waits for another connection's (or process's) write lock before
/// failing. Writes here are single short statements, so waiting this long means trouble.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// All stores on one SQLite file. Clones share the same connections.
#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<ConnectionPool>,
}

impl SqliteStore {
    /// Opens (creating it and its folder if needed) the database at `path` and brings its
    /// schema up to date. Blocks while doing so: call it at start-up.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_pool(path)
            .with_context(|| format!("opening the SQLite database {}", path.display()))
            .map_err(StoreError::Failed)
    }

    fn open_pool(path: &Path) -> anyhow::Result<Self> {
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating the folder {}", folder.display()))?;
        }
        let mut first = open_connection(path)?;
        migrations::migrate(&mut first)?;
        let mut connections = vec![first];
        for _ in 1..POOL_SIZE {
            connections.push(open_connection(path)?);
        }
        let mut quick = Vec::with_capacity(QUICK_READERS);
        for _ in 0..QUICK_READERS {
            let connection = open_connection(path)?;
            // A quick read never waits for a lock: it is retried on the pool instead.
            connection
                .busy_timeout(Duration::ZERO)
                .context("setting busy_timeout")?;
            quick.push(connection);
        }
        Ok(Self {
            pool: Arc::new(ConnectionPool::new(connections, quick)),
        })
    }

    /// Runs `job` on a pooled connection off the async workers; `action` names what it does
    /// in the error, if there is one.
    async fn run<T, F>(&self, action: &'static str, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        self.pool
            .run(job)
            .await
            .context(action)
            .map_err(StoreError::Failed)
    }

    /// Runs `job`, a read of a few rows by key, at once on the calling thread when it can
    /// (see `ConnectionPool::read`), else as `run` does.
    async fn read<T, F>(&self, action: &'static str, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        self.pool
            .read(job)
            .await
            .context(action)
            .map_err(StoreError::Failed)
    }
}

fn open_connection(path: &Path) -> anyhow::Result<Connection> {
    let connection = Connection::open(path).context("opening a connection")?;
    // Set first, so that the statements below already wait for a lock held elsewhere.
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .context("setting busy_timeout")?;
    // WAL lets readers run alongside the writer. The mode is stored in the file; asking again
    // on every connection costs nothing. SQLite answers with the mode it is really in, which
    // is not WAL on file systems that cannot support it: refuse to run there.
    let journal_mode = switch_to_wal(&connection)?;
    if !journal_mode.eq_ignore_ascii_case("wal") {
        bail!("SQLite refused WAL mode (it stays in `{journal_mode}` mode)");
    }
    // Under WAL, NORMAL syncs only at checkpoints: a power loss may forget the last
    // transactions but never corrupts the file, and a process crash loses nothing committed.
    // FULL would sync every commit, a high price for sessions and counters.
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .context("setting synchronous")?;
    // Off by default in SQLite, and per connection.
    connection
        .pragma_update(None, "foreign_keys", true)
        .context("enabling foreign keys")?;
    Ok(connection)
}

/// Asks for WAL mode and returns the mode SQLite is in. Leaving the rollback journal of a new
/// file needs an exclusive lock, upgraded from the shared lock the pragma already holds, and
/// SQLite may answer SQLITE_BUSY there at once rather than wait through `busy_timeout` (two
/// upgraders waiting on each other would deadlock): two instances started together on a new
/// file saw one of them exit with "database is locked". So retry, within the same bound as
/// any other lock wait.
fn switch_to_wal(connection: &Connection) -> anyhow::Result<String> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            outcome => return outcome.context("setting journal_mode"),
        }
    }
}

#[async_trait]
impl StoreHealth for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.run("pinging the database", |connection| {
            connection
                .query_row("SELECT 1", [], |row| row.get::<_, i64>(0))
                .map(drop)
                .map_err(Into::into)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replicas of a new deployment start together on a file that does not exist yet: every
    /// opener must get a store, none a "database is locked". (Eight openers, many rounds:
    /// without the retry in `switch_to_wal`, this failed within a few rounds.)
    #[test]
    fn several_openers_of_a_new_file_at_once_all_succeed() {
        for round in 0..25 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new.db");
            let barrier = std::sync::Barrier::new(8);
            std::thread::scope(|scope| {
                let openers: Vec<_> = (0..8)
                    .map(|_| {
                        scope.spawn(|| {
                            barrier.wait();
                            SqliteStore::open(&path).map(drop)
                        })
                    })
                    .collect();
                for opener in openers {
                    let opened = opener.join().unwrap();
                    assert!(opened.is_ok(), "round {round}: {:?}", opened.err());
                }
            });
        }
    }
}
