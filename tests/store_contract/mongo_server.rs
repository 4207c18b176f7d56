//! Tests: where the MongoDB backend finds a server.
//! The MongoDB tests run against `MONGODB_TEST_URI` if it is set, else in a `mongo` container
//! when a Docker engine answers, else not at all — each test then prints a `skipped:` line.
//! Nothing here imitates a server.

use std::future::IntoFuture;
use std::time::Duration;

use allomedia::adapters::mongo::MongoStore;
use mongodb::bson::doc;
use mongodb::options::ClientOptions;
use mongodb::{Client, Database};
use testcontainers_modules::mongo::Mongo;
use testcontainers_modules::testcontainers::core::client::docker_client_instance;
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{ContainerAsync, ImageExt};
use tokio::runtime::Handle;
use tokio::time::{Instant, sleep};

use crate::Unavailable;

/// The stores' time limit in these tests: the default `STORE_TIMEOUT_MS`.
pub const TIME_LIMIT: Duration = Duration::from_secs(5);

/// A server for the suite (`mongodb://…`); each test gets a database of its own on it.
const URI_VARIABLE: &str = "MONGODB_TEST_URI";

/// Set where a MongoDB must be found (a CI job with Docker, say): a missing server then
/// fails the tests instead of skipping them.
const REQUIRED_VARIABLE: &str = "MONGODB_TEST_REQUIRED";

enum Server {
    Named(String),
    Docker,
}

/// Asked anew by every test, never cached: a Docker engine whose ping fails once (still
/// starting, say) must not turn the rest of the run into skips, and each skipped test must say
/// why — the engine's own error included. Without an engine this fails in about a millisecond
/// (no socket); it honours DOCKER_HOST.
async fn find_server() -> Result<Server, String> {
    if let Some(uri) = std::env::var(URI_VARIABLE)
        .ok()
        .filter(|uri| !uri.trim().is_empty())
    {
        return Ok(Server::Named(uri));
    }
    let docker = docker_client_instance()
        .await
        .map_err(|error| format!("no MongoDB (set {URI_VARIABLE} or start Docker: {error})"))?;
    docker.ping().await.map_err(|error| {
        format!(
            "no MongoDB (set {URI_VARIABLE}; the Docker engine did not answer its ping: {error})"
        )
    })?;
    Ok(Server::Docker)
}

/// One test's own database: uniquely named on the named server, and dropped when the test
/// ends; or on a container of its own, removed when the test ends.
pub struct TestDatabase {
    /// Driver options naming the test's database, for `MongoStore::connect_with_options`.
    pub options: ClientOptions,
    /// Direct access, for what only a test does: looking at or damaging raw documents.
    pub raw: Database,
    container: Option<ContainerAsync<Mongo>>,
}

pub async fn fresh_database() -> Result<TestDatabase, Unavailable> {
    let server = match find_server().await {
        Ok(server) => server,
        Err(reason) => {
            assert!(
                std::env::var_os(REQUIRED_VARIABLE).is_none(),
                "{REQUIRED_VARIABLE} is set, but {reason}"
            );
            return Err(Unavailable(reason));
        }
    };
    let (uri, container) = match server {
        Server::Named(uri) => (uri, None),
        Server::Docker => {
            // A one-node replica set: managers' guarded changes run in transactions,
            // which a standalone server refuses.
            let container = Mongo::repl_set()
                .with_tag(COMPOSE_MONGO_TAG)
                .start()
                .await
                .expect("starting a MongoDB container");
            let host = container.get_host().await.unwrap();
            let port = container.get_host_port_ipv4(27017).await.unwrap();
            let uri = format!("mongodb://{host}:{port}/?directConnection=true");
            wait_until_primary(&uri).await;
            (uri, Some(container))
        }
    };
    let mut options = ClientOptions::parse(&uri)
        .await
        .expect("MONGODB_TEST_URI must be a mongodb:// or mongodb+srv:// URL");
    let name = format!("allomedia_contract_{}", uuid::Uuid::now_v7().simple());
    options.default_database = Some(name.clone());
    let raw = Client::with_options(options.clone())
        .unwrap()
        .database(&name);
    Ok(TestDatabase {
        options,
        raw,
        container,
    })
}

/// The image tag of `docker-compose.yml`'s `mongo` service: tests run the major version that
/// is deployed (the module's own default is 5.0).
const COMPOSE_MONGO_TAG: &str = "7";

/// How long a new replica set may take to elect its node; bounds the wait, times nothing.
const PRIMARY_DEADLINE: Duration = Duration::from_secs(60);

/// Waits until the container's node is the PRIMARY of its replica set: `rs.initiate()` returns
/// before the election, and until then every write and transaction fails with
/// `NotWritablePrimary`, which would fail whichever test came first.
async fn wait_until_primary(uri: &str) {
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.server_selection_timeout = Some(Duration::from_millis(500));
    let admin = Client::with_options(options).unwrap().database("admin");
    let deadline = Instant::now() + PRIMARY_DEADLINE;
    loop {
        let hello = admin.run_command(doc! { "hello": 1 }).await;
        match hello {
            Ok(hello) if hello.get_bool("isWritablePrimary") == Ok(true) => return,
            outcome => assert!(
                Instant::now() < deadline,
                "the MongoDB container did not become PRIMARY: {outcome:?}"
            ),
        }
        sleep(Duration::from_millis(100)).await;
    }
}

pub async fn fresh_store() -> Result<(MongoStore, TestDatabase), Unavailable> {
    let database = fresh_database().await?;
    let store = MongoStore::connect_with_options(database.options.clone(), TIME_LIMIT)
        .await
        .unwrap();
    Ok((store, database))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // A container takes its data with it. On a named server, drop the test's
        // database. `Drop` cannot await, so this thread blocks — allowed because every
        // MongoDB test runs on a multi-threaded runtime. Best effort: a leftover
        // `allomedia_contract_*` database costs disk space, nothing else.
        if self.container.is_none() {
            let database = self.raw.clone();
            let _ = tokio::task::block_in_place(|| {
                Handle::current().block_on(database.drop().into_future())
            });
        }
    }
}
