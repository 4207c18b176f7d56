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
mod indexes;
mod orders;
mod outbox;
mod products;
mod second_factors;
mod sessions;
mod throttles;
mod tokens;
mod user_admin;
mod users;
mod values;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use mongodb::options::{
    ClientOptions, DatabaseOptions, ReadPreference, SelectionCriteria, WriteConcern,
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

/// How long an operation waits for a usable server before failing. The driver's default is
/// 30 s; a readiness probe must answer 503 well before that while the database is away.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// How long opening one TCP (and TLS) connection may take; the driver's default is 10 s.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
}

impl MongoStore {
    /// Connects to the server(s) named by `url`, on the database its path names (default
    /// `allomedia`), and creates the indexes (idempotent). Options in the URL (`tls`,
    /// `replicaSet`, `authSource`, timeouts…) are honoured; timeouts it does not set are 5 s.
    ///
    /// Fails — after the server-selection timeout, 5 s by default — when no server answers:
    /// the indexes are part of the contract (the unique email), so the service does not start
    /// without them. Once started, an unreachable server makes each operation fail with a
    /// `StoreError` and the driver reconnects by itself when it is back.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // The error does not quote the URL: it may carry a password.
        let options = ClientOptions::parse(url)
            .await
            .context("reading the MongoDB URL in DATABASE_URL")
            .map_err(StoreError)?;
        Self::connect_with_options(options).await
    }

    /// `connect` with driver options already parsed (tests use it to pick a fresh database
    /// through `options.default_database`).
    pub async fn connect_with_options(mut options: ClientOptions) -> Result<Self, StoreError> {
        apply_default_timeouts(&mut options);
        let database_name = database_name(&options).to_owned();
        let servers = options
            .hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        Self::open(options, &database_name)
            .await
            .with_context(|| {
                format!("connecting to MongoDB at {servers}, database `{database_name}`")
            })
            .map_err(StoreError)
    }

    async fn open(options: ClientOptions, database_name: &str) -> anyhow::Result<Self> {
        let client = Client::with_options(options).context("configuring the MongoDB client")?;
        let database = client.database_with_options(database_name, guarded_database_options());
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
        };
        ping(&store.database).await.context("pinging the server")?;
        indexes::create(&store).await?;
        store
            .ensure_guard()
            .await
            .context("creating the active-managers guard document")?;
        Ok(store)
    }
}

/// Settings this store imposes whatever the URL says, because the guards depend on them:
/// - writes acknowledged by a majority of the replica set, so a failover cannot roll back a
///   counted attempt, a consumed token or a revocation that was already reported done;
/// - reads from the primary, so a lagging secondary never shows a revoked session as live or
///   a used challenge as open.
///
/// A standalone server accepts both (majority is then the server itself).
fn guarded_database_options() -> DatabaseOptions {
    DatabaseOptions::builder()
        .write_concern(WriteConcern::majority())
        .selection_criteria(SelectionCriteria::ReadPreference(ReadPreference::Primary))
        .build()
}

/// Our timeouts and application name, where the URL sets none.
fn apply_default_timeouts(options: &mut ClientOptions) {
    options
        .server_selection_timeout
        .get_or_insert(SERVER_SELECTION_TIMEOUT);
    options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
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
    operation.await.context(action).map_err(StoreError)
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
    async fn timeouts_default_to_five_seconds_unless_the_url_sets_them() {
        let mut plain = options("mongodb://db.example.com/shop").await;
        let mut tuned = options(
            "mongodb://db.example.com/shop?serverSelectionTimeoutMS=1500&connectTimeoutMS=700\
             &appName=ops",
        )
        .await;

        apply_default_timeouts(&mut plain);
        apply_default_timeouts(&mut tuned);

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
    fn guards_write_to_a_majority_and_read_from_the_primary() {
        let options = guarded_database_options();

        assert_eq!(options.write_concern, Some(WriteConcern::majority()));
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
            let outcome = MongoStore::connect(url).await;

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
            MongoStore::connect("mongodb://127.0.0.1:1/shop?serverSelectionTimeoutMS=300").await;

        let error = anyhow::Error::from(outcome.expect_err("nothing listens on port 1"));
        let chain = format!("{error:#}");
        assert!(
            chain.contains("connecting to MongoDB at 127.0.0.1:1, database `shop`"),
            "{chain}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{chain}");
    }
}
