//! Adapters layer: every store port on MongoDB, the production store
//! (`DATABASE_URL=mongodb://…` or `mongodb+srv://…`), through the official async driver.
//! Depends on the core's ports and models; documents and BSON stay in this module.
//!
//! Several service instances share one database, so every guard the ports demand is a single
//! conditional write to one document — the precondition in the filter (`find_one_and_update`,
//! `update_one`) — which the server applies atomically; never a read followed by a write.
//! One rule spans documents — an active manager must remain — so managers' changes of role,
//! status and existence run in transactions, which need a replica set (see `user_admin`).

mod audit;
mod challenges;
mod devices;
mod expired;
mod indexes;
mod orders;
mod outbox;
mod products;
mod rate_windows;
mod second_factors;
mod sessions;
mod throttles;
mod tokens;
mod user_admin;
mod users;
mod values;

pub use orders::{order_listing_filter, placed_within};

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{
    Acknowledgment, ClientOptions, DatabaseOptions, ReadPreference, SelectionCriteria, WriteConcern,
};
use mongodb::{Client, Collection, Database};

use crate::core::ports::{StoreError, StoreHealth};
use audit::AuditEventDocument;
use challenges::ChallengeDocument;
use devices::DeviceDocument;
use orders::OrderDocument;
use products::ProductDocument;
use second_factors::SecondFactorsDocument;
use sessions::SessionDocument;
use throttles::ThrottleDocument;
use tokens::TokenDocument;
use users::UserDocument;

/// The database used when the URL names none (`mongodb://host/` rather than `…/shop`).
pub const DEFAULT_DATABASE: &str = "allomedia";

/// All stores on one MongoDB database. Clones share one `Client`, so one connection pool.
#[derive(Clone, Debug)]
pub struct MongoStore {
    database: Database,
    users: Collection<UserDocument>,
    tokens: Collection<TokenDocument>,
    challenges: Collection<ChallengeDocument>,
    sessions: Collection<SessionDocument>,
    throttles: Collection<ThrottleDocument>,
    products: Collection<ProductDocument>,
    orders: Collection<OrderDocument>,
    second_factors: Collection<SecondFactorsDocument>,
    devices: Collection<DeviceDocument>,
    audit_events: Collection<AuditEventDocument>,
    /// Documents that serialise transactions guarding a rule across documents.
    guards: Collection<Document>,
    /// The time limit of one store call (`STORE_TIMEOUT_MS`), also the write concern's
    /// `wtimeout`.
    time_limit: Duration,
}

impl MongoStore {
    /// Connects to the server(s) named by `url`, on the database its path names (default
    /// `allomedia`), and creates the indexes (idempotent). Options in the URL (`tls`,
    /// `replicaSet`, `authSource`, timeouts…) are honoured; the server-selection and connect
    /// timeouts it does not set are `time_limit`, which also bounds every write's wait for a
    /// majority (`wtimeout`) and each start-up step.
    ///
    /// Fails — after the server-selection timeout — when no server answers, and at once on a
    /// standalone server (the guards need transactions, so a replica set): the indexes are
    /// part of the contract (the unique email), so the service does not start without them.
    /// Once started, an unreachable server makes each operation fail with a `StoreError` and
    /// the driver reconnects by itself when it is back.
    pub async fn connect(url: &str, time_limit: Duration) -> Result<Self, StoreError> {
        // The error does not quote the URL: it may carry a password.
        let options = ClientOptions::parse(url)
            .await
            .context("reading the MongoDB URL in DATABASE_URL")
            .map_err(StoreError::Failed)?;
        Self::connect_with_options(options, time_limit).await
    }

    /// `connect` with driver options already parsed (tests use it to pick a fresh database
    /// through `options.default_database`).
    pub async fn connect_with_options(
        mut options: ClientOptions,
        time_limit: Duration,
    ) -> Result<Self, StoreError> {
        apply_default_timeouts(&mut options, time_limit);
        let database_name = database_name(&options).to_owned();
        let servers = options
            .hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        Self::open(options, &database_name, time_limit)
            .await
            .with_context(|| {
                format!("connecting to MongoDB at {servers}, database `{database_name}`")
            })
            .map_err(StoreError::Failed)
    }

    async fn open(
        options: ClientOptions,
        database_name: &str,
        time_limit: Duration,
    ) -> anyhow::Result<Self> {
        let client = Client::with_options(options).context("configuring the MongoDB client")?;
        let database =
            client.database_with_options(database_name, guarded_database_options(time_limit));
        let store = Self {
            users: database.collection(users::COLLECTION),
            tokens: database.collection(tokens::COLLECTION),
            challenges: database.collection(challenges::COLLECTION),
            sessions: database.collection(sessions::COLLECTION),
            throttles: database.collection(throttles::COLLECTION),
            products: database.collection(products::COLLECTION),
            orders: database.collection(orders::COLLECTION),
            second_factors: database.collection(second_factors::COLLECTION),
            devices: database.collection(devices::COLLECTION),
            audit_events: database.collection(audit::COLLECTION),
            guards: database.collection(user_admin::GUARDS_COLLECTION),
            database,
            time_limit,
        };
        // Each step is one store call, limited like every other.
        store
            .start_up_step(async { Ok(ping(&store.database).await?) })
            .await
            .context("pinging the server")?;
        store
            .start_up_step(refuse_a_standalone_server(&store.database))
            .await?;
        indexes::create(&store).await?;
        store
            .start_up_step(store.ensure_guard())
            .await
            .context("creating the active-managers guard document")?;
        Ok(store)
    }

    /// `step`, given up after the time limit: a start-up against a server that accepted the
    /// connection but does not answer must fail, not hang.
    async fn start_up_step<T>(
        &self,
        step: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        tokio::time::timeout(self.time_limit, step)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::TimedOut(anyhow::anyhow!(
                    "no answer within {} ms",
                    self.time_limit.as_millis()
                ))
                .into())
            })
    }

    /// The write concern of every write: acknowledged by a majority, waiting for it at most
    /// the time limit (`wtimeout`). Without `wtimeout`, a replica set that lost its majority
    /// would hold every write — and its pooled connection — forever.
    fn write_concern(&self) -> WriteConcern {
        majority_within(self.time_limit)
    }
}

/// Settings this store imposes whatever the URL says, because the guards depend on them:
/// - writes acknowledged by a majority of the replica set, so a failover cannot roll back a
///   counted attempt, a consumed token or a revocation that was already reported done;
/// - reads from the primary, so a lagging secondary never shows a revoked session as live or
///   a used challenge as open.
///
/// The guards also need transactions, hence a replica set (`refuse_a_standalone_server`).
fn guarded_database_options(time_limit: Duration) -> DatabaseOptions {
    DatabaseOptions::builder()
        .write_concern(majority_within(time_limit))
        .selection_criteria(SelectionCriteria::ReadPreference(ReadPreference::Primary))
        .build()
}

/// Writes acknowledged by a majority, waiting at most `time_limit` for it.
fn majority_within(time_limit: Duration) -> WriteConcern {
    WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .w_timeout(time_limit)
        .build()
}

/// The guards run transactions, which a standalone server refuses — but only when a manager
/// is demoted or deleted, long after start-up. So a server that is not part of a replica set
/// (no `setName`) nor a sharded cluster's router (`msg: isdbgrid`) is refused at once.
async fn refuse_a_standalone_server(database: &Database) -> anyhow::Result<()> {
    let hello = database.run_command(doc! { "hello": 1 }).await?;
    let in_a_replica_set = hello.get_str("setName").is_ok();
    let a_router = hello.get_str("msg") == Ok("isdbgrid");
    if !in_a_replica_set && !a_router {
        anyhow::bail!(
            "the MongoDB server is standalone, not a replica set member: the service needs \
             transactions, which only a replica set (or a sharded cluster) offers; start mongod \
             with --replSet and run rs.initiate() once (a one-node replica set is enough)"
        );
    }
    Ok(())
}

/// Our timeouts and application name, where the URL sets none. The driver's own defaults
/// (30 s to select a server, 10 s to connect) would outlast the store's time limit, and a
/// readiness probe must answer 503 while the database is away.
fn apply_default_timeouts(options: &mut ClientOptions, time_limit: Duration) {
    options.server_selection_timeout.get_or_insert(time_limit);
    options.connect_timeout.get_or_insert(time_limit);
    // Shown in the server's logs and `currentOp`, to tell our connections from others.
    options
        .app_name
        .get_or_insert_with(|| "allomedia".to_owned());
}

/// The database the URL's path names, else `allomedia`.
fn database_name(options: &ClientOptions) -> &str {
    options
        .default_database
        .as_deref()
        .unwrap_or(DEFAULT_DATABASE)
}

/// Runs one store operation, naming it in the error if it fails: the cause is kept for the
/// log, the caller sees an opaque `StoreError`.
async fn run<T>(
    action: &'static str,
    operation: impl Future<Output = anyhow::Result<T>>,
) -> Result<T, StoreError> {
    operation.await.context(action).map_err(classify)
}

/// MongoDB's code for a write concern that was not satisfied in time (`wtimeout`).
const WRITE_CONCERN_TIMEOUT: i32 = 64;

/// The driver's own time limits ran out — no server selected within the server-selection
/// timeout (the database unreachable or without a primary), or a majority that did not
/// acknowledge within `wtimeout` — is the store not answering in time, like a call that runs
/// out of `STORE_TIMEOUT_MS`; every other failure is a failure.
fn classify(error: anyhow::Error) -> StoreError {
    let timed_out = error.chain().any(|cause| {
        cause
            .downcast_ref::<mongodb::error::Error>()
            .is_some_and(|driver| match driver.kind.as_ref() {
                ErrorKind::ServerSelection { .. } => true,
                ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => {
                    concern.code == WRITE_CONCERN_TIMEOUT
                }
                _ => false,
            })
    });
    if timed_out {
        StoreError::TimedOut(error)
    } else {
        StoreError::Failed(error)
    }
}

/// The cheapest round trip: `{ping: 1}` on the primary.
async fn ping(database: &Database) -> mongodb::error::Result<()> {
    database.run_command(doc! { "ping": 1 }).await.map(drop)
}

#[async_trait]
impl StoreHealth for MongoStore {
    async fn ping(&self) -> Result<(), StoreError> {
        run("pinging MongoDB", async { Ok(ping(&self.database).await?) }).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    async fn options(url: &str) -> ClientOptions {
        ClientOptions::parse(url).await.unwrap()
    }

    #[tokio::test]
    async fn the_database_is_the_one_the_url_path_names() {
        let named = options("mongodb://db.example.com:27017/shop?replicaSet=rs0").await;
        let unnamed = options("mongodb://db.example.com:27017/?replicaSet=rs0").await;
        let bare = options("mongodb://db.example.com").await;

        assert_eq!(database_name(&named), "shop");
        assert_eq!(database_name(&unnamed), "allomedia");
        assert_eq!(database_name(&bare), "allomedia");
    }

    #[tokio::test]
    async fn timeouts_default_to_the_store_time_limit_unless_the_url_sets_them() {
        let mut plain = options("mongodb://db.example.com/shop").await;
        let mut tuned = options(
            "mongodb://db.example.com/shop?serverSelectionTimeoutMS=1500&connectTimeoutMS=700\
             &appName=ops",
        )
        .await;

        apply_default_timeouts(&mut plain, Duration::from_secs(5));
        apply_default_timeouts(&mut tuned, Duration::from_secs(5));

        assert_eq!(plain.server_selection_timeout, Some(Duration::from_secs(5)));
        assert_eq!(plain.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(plain.app_name.as_deref(), Some("allomedia"));
        assert_eq!(
            tuned.server_selection_timeout,
            Some(Duration::from_millis(1500))
        );
        assert_eq!(tuned.connect_timeout, Some(Duration::from_millis(700)));
        assert_eq!(tuned.app_name.as_deref(), Some("ops"));
    }

    #[test]
    fn guards_write_to_a_majority_within_the_time_limit_and_read_from_the_primary() {
        let options = guarded_database_options(Duration::from_millis(1500));

        let concern = options.write_concern.unwrap();
        assert_eq!(concern.w, Some(Acknowledgment::Majority));
        assert_eq!(concern.w_timeout, Some(Duration::from_millis(1500)));
        assert!(matches!(
            options.selection_criteria,
            Some(SelectionCriteria::ReadPreference(ReadPreference::Primary))
        ));
    }

    #[tokio::test]
    async fn a_malformed_url_is_refused_without_echoing_it() {
        for url in [
            "mongodb://admin:s3cret@",
            "mongodb://admin:s3cret@db.example.com:99999/shop",
            "mongodb://admin:s3cret@db.example.com/shop?authMechanism=NOPE",
            "mongodb://admin:s3cret@db.example.com/sh op",
        ] {
            let outcome = MongoStore::connect(url, Duration::from_secs(5)).await;

            let error = anyhow::Error::from(outcome.expect_err("a malformed URL must be refused"));
            let chain = format!("{error:#}");
            assert!(chain.contains("DATABASE_URL"), "{chain}");
            assert!(!chain.contains("s3cret"), "{chain}");
        }
    }

    /// Nothing listens on port 1: the driver fails server selection after the URL's timeout,
    /// and the error says where it tried. (No MongoDB server is needed for this one.)
    #[tokio::test]
    async fn an_unreachable_server_fails_start_up_quickly_and_says_where() {
        let started = Instant::now();

        let outcome =
            MongoStore::connect("mongodb://127.0.0.1:1/shop", Duration::from_millis(300)).await;

        let error = anyhow::Error::from(outcome.expect_err("nothing listens on port 1"));
        let chain = format!("{error:#}");
        assert!(
            chain.contains("connecting to MongoDB at 127.0.0.1:1, database `shop`"),
            "{chain}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{chain}");
    }
}
