//! Adapters layer (MongoDB): the indexes every collection needs, created at start-up.
//!
//! `createIndexes` with an index that already exists, same keys and options, does nothing, so
//! every start (and every instance) runs it. An index that exists under the same name with
//! other options makes the start fail loudly (`IndexOptionsConflict`): change such an index
//! by hand (`collMod`, or drop and let the next start recreate it), never silently.

use std::time::Duration;

use anyhow::Context;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use super::MongoStore;

/// The unique index on `users.email`; `users.rs` recognises it in duplicate-key errors.
pub(super) const USERS_EMAIL: &str = "email_unique";

/// The index the stats query's period filter uses.
pub(super) const ORDERS_CREATED_AT: &str = "created_at";

/// How long the server keeps a token, challenge or session after it expired before deleting
/// it. The service checks expiry itself on every read, so this is housekeeping: the margin
/// covers clock drift between the service and the database, and leaves a day to look at a
/// suspicious login before its traces go.
const DELETED_AFTER_EXPIRY: Duration = Duration::from_secs(24 * 60 * 60);

/// The name every TTL index here has.
const EXPIRES_AT_TTL: &str = "expires_at_ttl";

pub(super) async fn create(store: &MongoStore) -> anyhow::Result<()> {
    // One address, one account: the server refuses a second user with the same email,
    // atomically, whatever the number of service instances.
    create_one(
        store,
        &store.users,
        doc! { "email": 1 },
        IndexOptions::builder()
            .name(USERS_EMAIL.to_owned())
            .unique(true)
            .build(),
    )
    .await?;
    // Managers' listing of users, newest first: by role and status, by role, or by status (an
    // unfiltered listing walks `_id`). The last-active-manager count uses the first too.
    create_one(
        store,
        &store.users,
        doc! { "role": 1, "status": 1, "_id": 1 },
        IndexOptions::builder()
            .name("role_status_id".to_owned())
            .build(),
    )
    .await?;
    // By role alone (couriers to assign, say): `role_status_id` would have to sort them.
    create_one(
        store,
        &store.users,
        doc! { "role": 1, "_id": 1 },
        IndexOptions::builder().name("role_id".to_owned()).build(),
    )
    .await?;
    create_one(
        store,
        &store.users,
        doc! { "status": 1, "_id": 1 },
        IndexOptions::builder().name("status_id".to_owned()).build(),
    )
    .await?;
    // Deleting a user deletes their tokens and challenges by `user_id`.
    create_one(
        store,
        &store.tokens,
        doc! { "user_id": 1 },
        IndexOptions::builder().name("user_id".to_owned()).build(),
    )
    .await?;
    create_one(
        store,
        &store.challenges,
        doc! { "user_id": 1 },
        IndexOptions::builder().name("user_id".to_owned()).build(),
    )
    .await?;
    // Revoke-all (`update_many` by user) and the signed-in user's list of sessions.
    create_one(
        store,
        &store.sessions,
        doc! { "user_id": 1 },
        IndexOptions::builder().name("user_id".to_owned()).build(),
    )
    .await?;
    // The public catalogue lists available products newest first (`?available=true`); `_id`
    // alone serves the unfiltered list. A name search (`q`, an escaped unanchored regex)
    // scans whichever of the two the planner picks — fine for a catalogue's size.
    create_one(
        store,
        &store.products,
        doc! { "available": 1, "_id": -1 },
        IndexOptions::builder()
            .name("available_newest_first".to_owned())
            .build(),
    )
    .await?;
    // Orders: a client's and a courier's lists, newest first, optionally by status; the
    // managers' status filter. The unfiltered list walks `_id`.
    create_one(
        store,
        &store.orders,
        doc! { "client_id": 1, "_id": -1 },
        IndexOptions::builder()
            .name("client_newest_first".to_owned())
            .build(),
    )
    .await?;
    create_one(
        store,
        &store.orders,
        doc! { "courier_id": 1, "_id": -1 },
        IndexOptions::builder()
            .name("courier_newest_first".to_owned())
            .build(),
    )
    .await?;
    // A client's or courier's list by status: without the status in the index, a status
    // that person has few orders in would walk all of their orders to fill a page.
    create_one(
        store,
        &store.orders,
        doc! { "client_id": 1, "status": 1, "_id": -1 },
        IndexOptions::builder()
            .name("client_status_newest_first".to_owned())
            .build(),
    )
    .await?;
    create_one(
        store,
        &store.orders,
        doc! { "courier_id": 1, "status": 1, "_id": -1 },
        IndexOptions::builder()
            .name("courier_status_newest_first".to_owned())
            .build(),
    )
    .await?;
    create_one(
        store,
        &store.orders,
        doc! { "status": 1, "_id": -1 },
        IndexOptions::builder()
            .name("status_newest_first".to_owned())
            .build(),
    )
    .await?;
    // The managers' stats walk the orders of a period (`created_at` in a range).
    create_one(
        store,
        &store.orders,
        doc! { "created_at": 1 },
        IndexOptions::builder()
            .name(ORDERS_CREATED_AT.to_owned())
            .build(),
    )
    .await?;
    // Expired records disappear on their own. Tokens are found by digest and challenges by
    // id, both `_id`, so they need no other index.
    create_one(store, &store.tokens, doc! { "expires_at": 1 }, expiring()).await?;
    create_one(
        store,
        &store.challenges,
        doc! { "expires_at": 1 },
        expiring(),
    )
    .await?;
    create_one(store, &store.sessions, doc! { "expires_at": 1 }, expiring()).await?;
    // Remembered devices: a user's list (newest first) and forget-all go by user; a login
    // finds its device by token digest, unique as the tokens are; expired ones go on their own.
    create_one(
        store,
        &store.devices,
        doc! { "user_id": 1, "_id": -1 },
        IndexOptions::builder()
            .name("user_id_id".to_owned())
            .build(),
    )
    .await?;
    create_one(
        store,
        &store.devices,
        doc! { "token_digest": 1 },
        IndexOptions::builder()
            .name("token_digest_unique".to_owned())
            .unique(true)
            .build(),
    )
    .await?;
    create_one(store, &store.devices, doc! { "expires_at": 1 }, expiring()).await?;
    // Throttle records are found by key (`_id`); unknown emails leave records too, and this
    // purges them a day after they are forgotten.
    create_one(
        store,
        &store.throttles,
        doc! { "expires_at": 1 },
        expiring(),
    )
    .await?;
    // The security-event log, newest first: by user, by kind (or both, through either); the
    // unfiltered listing walks `_id`. Deliberately no TTL: events outlive the accounts they
    // name, and retention is the operators' decision (docs/mongodb.md).
    create_one(
        store,
        &store.audit_events,
        doc! { "user_id": 1, "_id": -1 },
        IndexOptions::builder()
            .name("user_newest_first".to_owned())
            .build(),
    )
    .await?;
    create_one(
        store,
        &store.audit_events,
        doc! { "kind": 1, "_id": -1 },
        IndexOptions::builder()
            .name("kind_newest_first".to_owned())
            .build(),
    )
    .await?;
    // Counts of the per-address request limit: found by `_id`; the service purges ended
    // windows itself, and this deletes those an instance that stopped left behind.
    create_one(
        store,
        &store
            .database
            .collection::<Document>(super::rate_windows::COLLECTION),
        doc! { "window_end": 1 },
        IndexOptions::builder()
            .name("window_end_ttl".to_owned())
            .expire_after(Duration::ZERO)
            .build(),
    )
    .await?;
    // The mail outbox's, kept with its queries.
    super::outbox::create_indexes(store).await?;
    Ok(())
}

/// A TTL index on a BSON date: the server's TTL monitor (a pass about every 60 s) deletes a
/// document once the date is `DELETED_AFTER_EXPIRY` in the past.
fn expiring() -> IndexOptions {
    IndexOptions::builder()
        .name(EXPIRES_AT_TTL.to_owned())
        .expire_after(DELETED_AFTER_EXPIRY)
        .build()
}

/// Creates one index, within the store's time limit like any store call: an index that
/// already exists returns at once, and a start-up must not hang on a server that stopped
/// answering. Building a new index on a large collection can take longer than the limit; then
/// the start fails, naming the index, and an operator builds it ahead of the deployment
/// (docs/mongodb.md).
async fn create_one<T: Send + Sync>(
    store: &MongoStore,
    collection: &Collection<T>,
    keys: Document,
    options: IndexOptions,
) -> anyhow::Result<()> {
    let name = options.name.clone().unwrap_or_default();
    store
        .start_up_step(async {
            collection
                .create_index(IndexModel::builder().keys(keys).options(options).build())
                .await?;
            Ok(())
        })
        .await
        .with_context(|| format!("creating the index `{name}` on `{}`", collection.name()))?;
    Ok(())
}
