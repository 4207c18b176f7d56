//! Tests: MongoDB servers for the process tests — a database of its own on the shared test
//! server (`MONGODB_TEST_URI`), or a SecantusDB server of the test's own
//! (`MONGODB_TEST_SERVER_BIN`, which `scripts/mongo-test-server.sh start` exports) for what a
//! shared server must not suffer: being frozen, or started standalone. Without them each test
//! prints a `skipped:` line; with `MONGODB_TEST_REQUIRED` set it fails instead.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mongodb::Client;
use mongodb::bson::doc;
use mongodb::options::ClientOptions;
use tokio::time::{Instant, sleep};

use crate::two_instances::with_database;

/// How long a fresh server may take to answer (about 2 s here); this bounds the wait, it
/// times nothing.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// Says that `test` did not run, or fails it where a MongoDB must be found.
pub fn skip(reason: &str, test: &str) {
    assert!(
        std::env::var_os("MONGODB_TEST_REQUIRED").is_none(),
        "MONGODB_TEST_REQUIRED is set, but {reason}"
    );
    // Straight to the stderr handle: libtest does not capture it (as in two_instances).
    let line = format!("skipped: {reason} — {test}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// A uniquely named database on the shared test server, dropped by `drop_database`.
pub struct SharedDatabase {
    /// `DATABASE_URL` for the service.
    pub url: String,
    server_uri: String,
    name: String,
}

impl SharedDatabase {
    pub fn create(prefix: &str, test: &str) -> Option<Self> {
        let Some(server_uri) = std::env::var("MONGODB_TEST_URI")
            .ok()
            .filter(|uri| !uri.trim().is_empty())
        else {
            skip("no MongoDB (set MONGODB_TEST_URI)", test);
            return None;
        };
        let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
        Some(Self {
            url: with_database(&server_uri, &name),
            server_uri,
            name,
        })
    }

    pub async fn drop_database(self) {
        let client = Client::with_uri_str(&self.server_uri).await.unwrap();
        client.database(&self.name).drop().await.unwrap();
    }
}

/// A SecantusDB server of the test's own, in memory, on a free loopback port; killed when
/// dropped.
pub struct OwnServer {
    child: Child,
    /// `mongodb://127.0.0.1:PORT/allomedia?directConnection=true`.
    pub url: String,
    log: PathBuf,
}

impl OwnServer {
    /// Starts one with these extra options (`--standalone`, say) and waits until it answers
    /// a ping; `None`, with a visible skip, where the server is not installed.
    pub async fn start(dir: &Path, options: &[&str], test: &str) -> Option<Self> {
        let Some(binary) = std::env::var_os("MONGODB_TEST_SERVER_BIN").filter(|b| !b.is_empty())
        else {
            skip(
                "no SecantusDB to start (set MONGODB_TEST_SERVER_BIN; \
                 scripts/mongo-test-server.sh start exports it)",
                test,
            );
            return None;
        };
        let port = free_port();
        let log = dir.join(format!("mongo-{port}.log"));
        let output = File::create(&log).unwrap();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--storage-path", ":memory:"])
            .args(options)
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("starting MONGODB_TEST_SERVER_BIN");
        let mut server = Self {
            child,
            url: format!("mongodb://127.0.0.1:{port}/allomedia?directConnection=true"),
            log,
        };
        server.wait_until_it_answers().await;
        Some(server)
    }

    async fn wait_until_it_answers(&mut self) {
        let mut options = ClientOptions::parse(&self.url).await.unwrap();
        options.server_selection_timeout = Some(Duration::from_millis(500));
        let client = Client::with_options(options).unwrap();
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let hello = client
                .database("admin")
                .run_command(doc! { "hello": 1 })
                .await;
            if hello.is_ok_and(|hello| hello.get_bool("isWritablePrimary") == Ok(true)) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the MongoDB test server exited ({status}):\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the MongoDB test server did not answer in time:\n{}",
                self.log_text()
            );
            sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGSTOP: the process stops answering but keeps its sockets open, as a database does
    /// when its host stalls — connections hang rather than fail.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT: it carries on where it stopped.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill {signal} failed");
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        // A frozen process does not act on SIGKILL until it is continued on some systems'
        // accounting; thaw first so that it surely goes.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (the OS picks it; the server binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
