//! Tests: what only the SQLite store promises — a file that outlives the process, its
//! migrations, and guards that hold across two stores on one file.

use std::path::Path;

use allomedia::adapters::sqlite::SqliteStore;
use rusqlite::Connection;

use crate::builders::*;

fn schema_version(path: &Path) -> u32 {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("store.db");
    let store = SqliteStore::open(&path).unwrap();
    let user = a_stored_user(&store, "amina@example.com").await;
    let session = a_stored_session(&store, &user).await;
    drop(store);

    let reopened = SqliteStore::open(&path).unwrap();

    assert_eq!(reopened.user_by_id(user.id).await.unwrap(), Some(user));
    assert_eq!(reopened.session(session.id).await.unwrap(), Some(session));
}

#[tokio::test]
async fn opening_creates_the_missing_folders() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("data").join("nested").join("store.db");

    let store = SqliteStore::open(&path).unwrap();

    assert!(path.is_file());
    assert!(store.ping().await.is_ok());
}

#[tokio::test]
async fn reopening_applies_no_migration_twice() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("store.db");
    drop(SqliteStore::open(&path).unwrap());
    let version_after_first_open = schema_version(&path);

    let reopened = SqliteStore::open(&path);

    assert!(reopened.is_ok(), "{:?}", reopened.err());
    assert!(version_after_first_open > 0);
    assert_eq!(schema_version(&path), version_after_first_open);
}

#[tokio::test]
async fn a_database_from_a_newer_build_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("store.db");
    drop(SqliteStore::open(&path).unwrap());
    let newer = schema_version(&path) + 1;
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();

    let reopened = SqliteStore::open(&path);

    assert!(reopened.is_err());
    assert_eq!(schema_version(&path), newer);
}

#[tokio::test]
async fn the_file_is_in_write_ahead_log_mode() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("store.db");
    let _store = SqliteStore::open(&path).unwrap();

    let mode: String = Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();

    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_corrupt_row_is_a_store_error_not_a_panic() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("store.db");
    let store = SqliteStore::open(&path).unwrap();
    let user = a_stored_user(&store, "amina@example.com").await;
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE users SET role = 'pirate'", [])
        .unwrap();

    let read = store.user_by_id(user.id).await;

    let error = anyhow::Error::from(read.expect_err("a corrupt role must not read back"));
    let chain = format!("{error:#}");
    assert!(chain.contains("column `role`"), "{chain}");
}

/// Two stores on one file stand for two processes: the guards hold in SQLite itself,
/// not in anything one process shares between its connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guards_hold_across_two_stores_on_one_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("store.db");
    let first = Arc::new(SqliteStore::open(&path).unwrap());
    let second = Arc::new(SqliteStore::open(&path).unwrap());
    let user = a_stored_user(&*first, "amina@example.com").await;
    let challenge = a_stored_challenge(&*first, &user, |challenge| challenge.attempts = 3).await;
    let id = challenge.id;

    let attempt = move |store: Arc<SqliteStore>, _| async move {
        store.count_attempt(id, 8, t0()).await.unwrap()
    };

    let (from_first, from_second) =
        tokio::join!(race(&first, 10, attempt), race(&second, 10, attempt));

    let counted = from_first
        .iter()
        .chain(&from_second)
        .filter(|outcome| matches!(outcome, AttemptOutcome::Counted(_)))
        .count();
    assert_eq!(counted, 5);
    assert_eq!(first.challenge(id).await.unwrap().unwrap().attempts, 8);
}
