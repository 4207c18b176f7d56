//! Tests: what only the MongoDB store promises — its indexes and its documents, and guards
//! that hold across two stores on one database.

use allomedia::adapters::mongo::MongoStore;
use mongodb::bson::{Bson, Document, doc, spec::BinarySubtype};
use mongodb::{Collection, IndexModel};

use crate::builders::*;
use crate::mongo_server::{TIME_LIMIT, TestDatabase, fresh_database, fresh_store};

/// The test's own database, or `None` once the skip has been reported.
async fn database_or_skip(test: &str) -> Option<TestDatabase> {
    fresh_database()
        .await
        .map_err(|unavailable| unavailable.report(test))
        .ok()
}

/// The test's own database and the store on it, or `None` once the skip has been reported.
async fn store_or_skip(test: &str) -> Option<(MongoStore, TestDatabase)> {
    fresh_store()
        .await
        .map_err(|unavailable| unavailable.report(test))
        .ok()
}

async fn indexes(database: &TestDatabase, collection: &str) -> Vec<IndexModel> {
    let mut cursor = database
        .raw
        .collection::<Document>(collection)
        .list_indexes()
        .await
        .unwrap();
    let mut indexes = Vec::new();
    while cursor.advance().await.unwrap() {
        indexes.push(cursor.deserialize_current().unwrap());
    }
    indexes
}

fn index<'a>(indexes: &'a [IndexModel], name: &str) -> &'a IndexModel {
    indexes
        .iter()
        .find(|index| index.options.as_ref().and_then(|o| o.name.as_deref()) == Some(name))
        .unwrap_or_else(|| panic!("no index named {name} in {indexes:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_creates_the_indexes_and_connecting_again_keeps_them() {
    let test = "mongo_database::connecting_creates_the_indexes_and_connecting_again_keeps_them";
    let Some(database) = database_or_skip(test).await else {
        return;
    };
    let first = MongoStore::connect_with_options(database.options.clone(), TIME_LIMIT).await;

    let second = MongoStore::connect_with_options(database.options.clone(), TIME_LIMIT).await;

    assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
    let users = indexes(&database, "users").await;
    let email = index(&users, "email_unique");
    assert_eq!(email.keys, doc! { "email": 1 });
    assert_eq!(email.options.as_ref().unwrap().unique, Some(true));
    assert_eq!(
        index(&users, "role_status_id").keys,
        doc! { "role": 1, "status": 1, "_id": 1 }
    );
    assert_eq!(
        index(&users, "status_id").keys,
        doc! { "status": 1, "_id": 1 }
    );
    assert_eq!(index(&users, "role_id").keys, doc! { "role": 1, "_id": 1 });
    let sessions = indexes(&database, "sessions").await;
    assert_eq!(index(&sessions, "user_id").keys, doc! { "user_id": 1 });
    for collection in ["one_time_tokens", "login_challenges"] {
        let all = indexes(&database, collection).await;
        assert_eq!(index(&all, "user_id").keys, doc! { "user_id": 1 });
    }
    for collection in ["one_time_tokens", "login_challenges", "sessions"] {
        let all = indexes(&database, collection).await;
        let ttl = index(&all, "expires_at_ttl");
        assert_eq!(ttl.keys, doc! { "expires_at": 1 }, "{collection}");
        assert_eq!(
            ttl.options.as_ref().unwrap().expire_after,
            Some(std::time::Duration::from_secs(24 * 60 * 60)),
            "{collection}"
        );
    }
    // The managers' stats select a period of orders by `created_at`.
    let orders = indexes(&database, "orders").await;
    assert_eq!(index(&orders, "created_at").keys, doc! { "created_at": 1 });
    assert_eq!(
        index(&orders, "client_status_newest_first").keys,
        doc! { "client_id": 1, "status": 1, "_id": -1 }
    );
    assert_eq!(
        index(&orders, "courier_status_newest_first").keys,
        doc! { "courier_id": 1, "status": 1, "_id": -1 }
    );
    let audit = indexes(&database, "audit_events").await;
    assert_eq!(
        index(&audit, "user_newest_first").keys,
        doc! { "user_id": 1, "_id": -1 }
    );
    assert_eq!(
        index(&audit, "kind_newest_first").keys,
        doc! { "kind": 1, "_id": -1 }
    );
    // The log is kept: no index of it expires anything.
    assert!(
        audit.iter().all(|index| index
            .options
            .as_ref()
            .is_none_or(|o| o.expire_after.is_none())),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_hold_binary_uuids_and_bson_dates() {
    let test = "mongo_database::documents_hold_binary_uuids_and_bson_dates";
    let Some((store, database)) = store_or_skip(test).await else {
        return;
    };
    let user = a_stored_user(&store, "amina@example.com").await;

    let raw: Collection<Document> = database.raw.collection("users");
    let stored = raw.find_one(doc! {}).await.unwrap().unwrap();

    match stored.get("_id") {
        Some(Bson::Binary(id)) => {
            assert_eq!(id.subtype, BinarySubtype::Uuid);
            assert_eq!(id.bytes, user.id.as_uuid().as_bytes().to_vec());
        }
        other => panic!("_id should be a binary UUID, is {other:?}"),
    }
    assert_eq!(
        stored.get("created_at"),
        Some(&Bson::DateTime(mongodb::bson::DateTime::from_millis(
            user.created_at.timestamp_millis()
        )))
    );
    assert_eq!(stored.get_str("email").unwrap(), "amina@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_document_is_a_store_error_not_a_panic() {
    let test = "mongo_database::a_corrupt_document_is_a_store_error_not_a_panic";
    let Some((store, database)) = store_or_skip(test).await else {
        return;
    };
    let user = a_stored_user(&store, "amina@example.com").await;
    database
        .raw
        .collection::<Document>("users")
        .update_many(doc! {}, doc! { "$set": { "role": "pirate" } })
        .await
        .unwrap();

    let read = store.user_by_id(user.id).await;

    let error = anyhow::Error::from(read.expect_err("a corrupt role must not read back"));
    let chain = format!("{error:#}");
    assert!(chain.contains("field `role`"), "{chain}");
}

/// Two stores stand for two service instances, each with its own connection pool: the
/// guards hold in the server, not in anything one process shares.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guards_hold_across_two_stores_on_one_database() {
    let test = "mongo_database::guards_hold_across_two_stores_on_one_database";
    let Some((first, database)) = store_or_skip(test).await else {
        return;
    };
    let second = MongoStore::connect_with_options(database.options.clone(), TIME_LIMIT)
        .await
        .unwrap();
    let (first, second) = (Arc::new(first), Arc::new(second));
    let user = a_stored_user(&*first, "amina@example.com").await;
    let challenge = a_stored_challenge(&*first, &user, |challenge| challenge.attempts = 3).await;
    let id = challenge.id;

    let attempt = move |store: Arc<MongoStore>, _| async move {
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

/// The last-active-manager guard serialises transactions by writing one shared document. If
/// that document goes missing (a restore without it, an operator's cleanup), an update that
/// matches nothing writes nothing, and two demotions of the only two managers would both
/// commit. The guard recreates it inside the transaction, so they still conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demotions_stay_guarded_when_the_guard_document_is_missing() {
    let test = "mongo_database::demotions_stay_guarded_when_the_guard_document_is_missing";
    let Some((store, database)) = store_or_skip(test).await else {
        return;
    };
    let store = Arc::new(store);
    let guards = database.raw.collection::<Document>("guards");
    for round in 0..4 {
        let first = an_active_manager(&*store, &format!("first{round}@example.com")).await;
        let second = an_active_manager(&*store, &format!("second{round}@example.com")).await;
        guards.delete_many(doc! {}).await.unwrap();
        let managers = [first.id, second.id];

        let outcomes = race(&store, 2, move |store, index| async move {
            let demote = AccessChange {
                role: Some(Role::Client),
                ..AccessChange::default()
            };
            store
                .change_access(managers[index], demote, t0())
                .await
                .unwrap()
        })
        .await;

        let won = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, AccessChangeOutcome::Changed(_)))
            .count();
        assert_eq!(won, 1, "round {round}: {outcomes:?}");
        assert_eq!(
            guards.count_documents(doc! {}).await.unwrap(),
            1,
            "round {round}: the guard document is back"
        );
        // Clear the managers for the next round, which races two new ones.
        database
            .raw
            .collection::<Document>("users")
            .delete_many(doc! { "role": "manager" })
            .await
            .unwrap();
    }
}

/// Every stage of a winning plan, as `STAGE` or `IXSCAN:index_name`, outermost first.
fn stages(plan: &Document) -> Vec<String> {
    let mut stages = Vec::new();
    let mut next = Some(plan);
    while let Some(stage) = next {
        let name = stage.get_str("stage").unwrap_or("?");
        stages.push(match stage.get_str("indexName") {
            Ok(index) => format!("{name}:{index}"),
            Err(_) => name.to_owned(),
        });
        next = stage.get_document("inputStage").ok();
    }
    stages
}

async fn winning_plan(database: &TestDatabase, find: Document) -> Vec<String> {
    let explained = database
        .raw
        .run_command(doc! { "explain": find, "verbosity": "queryPlanner" })
        .await
        .unwrap();
    stages(
        explained
            .get_document("queryPlanner")
            .and_then(|planner| planner.get_document("winningPlan"))
            .unwrap(),
    )
}

/// The server's own plan for each shape of the orders listing and for the stats' period
/// (`explain`): each reads through the index made for it, never the whole collection. The
/// collection holds orders that make the intended index the clear winner: one client with
/// many pending orders and a single delivered one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_orders_query_is_planned_on_its_index() {
    let test = "mongo_database::every_orders_query_is_planned_on_its_index";
    let Some((store, database)) = store_or_skip(test).await else {
        return;
    };
    let (client, courier) = (UserId::new(), UserId::new());
    for n in 0..60 {
        let mut order = order_of(client);
        order.courier_id = Some(courier);
        order.created_at = t0() + Duration::minutes(n);
        if n == 0 {
            order.status = OrderStatus::Delivered;
        }
        store.insert_order(&order).await.unwrap();
    }
    let delivered = Some(OrderStatus::Delivered);
    let shapes = [
        (
            OrderFilter {
                status: delivered,
                ..OrderFilter::default()
            },
            "status_newest_first",
        ),
        (
            OrderFilter {
                client_id: Some(client),
                ..OrderFilter::default()
            },
            "client_newest_first",
        ),
        (
            OrderFilter {
                client_id: Some(client),
                status: delivered,
                ..OrderFilter::default()
            },
            "client_status_newest_first",
        ),
        (
            OrderFilter {
                courier_id: Some(courier),
                ..OrderFilter::default()
            },
            "courier_newest_first",
        ),
        (
            OrderFilter {
                courier_id: Some(courier),
                status: delivered,
                ..OrderFilter::default()
            },
            "courier_status_newest_first",
        ),
    ];
    for (filter, index) in shapes {
        let filter_document =
            allomedia::adapters::mongo::order_listing_filter(&filter, PageRequest::first(20));
        let plan = winning_plan(
            &database,
            doc! { "find": "orders", "filter": filter_document, "sort": { "_id": -1 }, "limit": 21 },
        )
        .await;

        assert!(
            plan.contains(&format!("IXSCAN:{index}")),
            "{filter:?}: {plan:?}"
        );
        assert!(
            !plan.iter().any(|stage| stage == "COLLSCAN"),
            "{filter:?}: {plan:?}"
        );
    }
    let period = PlacedBetween {
        from: Some(t0()),
        to: Some(t0() + Duration::minutes(5)),
    };
    let plan = winning_plan(
        &database,
        doc! { "find": "orders", "filter": allomedia::adapters::mongo::placed_within(period) },
    )
    .await;
    assert!(plan.contains(&"IXSCAN:created_at".to_owned()), "{plan:?}");
}
