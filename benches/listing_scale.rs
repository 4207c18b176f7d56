//! Benchmark: what an order listing and the stats call cost as the orders grow. Fills a store
//! through the store port only (`OrderStore::insert_order`, so it measures any adapter as it
//! is today or tomorrow) with orders spread over the last 365 days, ~50 clients, ~10
//! couriers and a mix of statuses — never `failed`, so a page filtered by it matches nothing —
//! growing one store through `SCALE_SIZES` (default `1000 100000 1000000`). At each size it
//! times (median of `SCALE_RUNS`, default 15, after one warm-up call; at least 3 and no more
//! after 10 s on one measure, for slow stores):
//! the first page (limit 20, unfiltered), a deep page (cursor from the middle of the year), a
//! client's first page, a client's page filtered by a status, a courier's first page, a page
//! filtered by `failed` (matches nothing), the stats over everything and over a 30-day period
//! that starts and ends at odd times of day.
//!
//! SQLite always (a file in a temporary folder); MongoDB too when `MONGODB_TEST_URI` names a
//! server, on a database of its own (dropped at the end), sizes `SCALE_SIZES_MONGO` (default
//! `1000 10000 20000`: what SecantusDB fills in a few minutes here, at ~200-500 orders/s). `SCALE_STORES` (default
//! `sqlite mongo`) picks among them. Prints `key=value` lines on stdout (`scale_fill …` per
//! size filled, `scale …` per size measured) for `scripts/bench-scale.sh`; progress on stderr.

use std::sync::Arc;
use std::time::{Duration, Instant};

use allomedia::adapters::mongo::MongoStore;
use allomedia::adapters::sqlite::SqliteStore;
use allomedia::core::model::{
    Currency, DeliveryAddress, DeliveryCode, Order, OrderFilter, OrderId, OrderLine, OrderStatus,
    PageRequest, PlacedBetween, PriceCents, ProductId, ProductName, Quantity, Role, StatusChange,
    UserId, total_of,
};
use allomedia::core::ports::OrderStore;
use chrono::{DateTime, Duration as Days, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;
use uuid::{NoContext, Timestamp, Uuid};

const CLIENTS: usize = 50;
const COURIERS: usize = 10;
const PAGE: u32 = 20;
/// Inserts in flight while filling: a store that can overlap them (MongoDB) fills faster, one
/// that serialises writes (SQLite) loses nothing.
const IN_FLIGHT: usize = 8;

fn setting_list(name: &str, default: &str) -> Vec<usize> {
    let raw = std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let mut sizes: Vec<usize> = raw
        .split_whitespace()
        .map(|size| {
            size.parse()
                .unwrap_or_else(|_| panic!("{name}: `{size}` is not a number of orders"))
        })
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    assert!(!sizes.is_empty(), "{name} names no size");
    sizes
}

/// The people and products every generated order draws from, and the year they span.
struct World {
    clients: Vec<UserId>,
    couriers: Vec<UserId>,
    manager: UserId,
    products: Vec<(ProductId, ProductName, PriceCents)>,
    currency: Currency,
    address: DeliveryAddress,
    code: DeliveryCode,
    /// The end of the year the orders span (the run's start, to the millisecond).
    now: DateTime<Utc>,
}

impl World {
    fn new(rng: &mut StdRng) -> Self {
        let mut id = || UserId::from_uuid(Uuid::from_u128(rng.random()));
        let clients = (0..CLIENTS).map(|_| id()).collect();
        let couriers = (0..COURIERS).map(|_| id()).collect();
        let manager = id();
        let products = [
            "Tajine",
            "Couscous",
            "Pastilla",
            "Harira",
            "Thé à la menthe",
        ]
        .iter()
        .enumerate()
        .map(|(n, name)| {
            (
                ProductId::from_uuid(Uuid::from_u128(n as u128 + 1)),
                ProductName::parse(name).expect("a product name"),
                PriceCents::new(900 + 700 * n as i64).expect("a price"),
            )
        })
        .collect();
        let now = Utc::now();
        Self {
            clients,
            couriers,
            manager,
            products,
            currency: Currency::parse("MAD").expect("a currency"),
            address: DeliveryAddress::parse("12 rue Atlas\nCasablanca").expect("an address"),
            code: DeliveryCode::parse("042917").expect("a delivery code"),
            now: Utc
                .timestamp_millis_opt(now.timestamp_millis())
                .single()
                .expect("a time"),
        }
    }

    fn year_start(&self) -> DateTime<Utc> {
        self.now - Days::days(365)
    }

    /// A random order placed during the year, its id time-ordered like the service's (UUID v7
    /// at its creation time), with the history its status implies.
    fn order(&self, rng: &mut StdRng) -> Order {
        let span_ms = Days::days(365).num_milliseconds();
        let created_at = self.year_start() + Days::milliseconds(rng.random_range(0..span_ms));
        let client_id = self.clients[rng.random_range(0..self.clients.len())];
        let courier = self.couriers[rng.random_range(0..self.couriers.len())];
        // The statuses a real year leaves: mostly delivered, some cancelled, the rest in
        // flight. Never `Failed`: the empty filtered page relies on it.
        let path: &[OrderStatus] = match rng.random_range(0..100) {
            0..60 => &[
                OrderStatus::Confirmed,
                OrderStatus::Preparing,
                OrderStatus::Ready,
                OrderStatus::PickedUp,
                OrderStatus::Delivered,
            ],
            60..70 => &[OrderStatus::Cancelled],
            70..78 => &[],
            78..84 => &[OrderStatus::Confirmed],
            84..90 => &[OrderStatus::Confirmed, OrderStatus::Preparing],
            90..94 => &[
                OrderStatus::Confirmed,
                OrderStatus::Preparing,
                OrderStatus::Ready,
            ],
            _ => &[
                OrderStatus::Confirmed,
                OrderStatus::Preparing,
                OrderStatus::Ready,
                OrderStatus::PickedUp,
            ],
        };
        let mut status = OrderStatus::Pending;
        let mut history = Vec::with_capacity(path.len());
        for (step, &to) in path.iter().enumerate() {
            let by_courier = matches!(to, OrderStatus::PickedUp | OrderStatus::Delivered);
            history.push(StatusChange {
                at: created_at + Days::minutes(10 * (step as i64 + 1)),
                actor_id: if by_courier { courier } else { self.manager },
                actor_role: if by_courier {
                    Role::Courier
                } else {
                    Role::Manager
                },
                from: status,
                to,
                reason: None,
            });
            status = to;
        }
        let assigned = matches!(status, OrderStatus::PickedUp | OrderStatus::Delivered)
            || (status == OrderStatus::Ready && rng.random_bool(0.5));
        let lines: Vec<OrderLine> = (0..rng.random_range(1..=3))
            .map(|_| {
                let (id, name, price) = &self.products[rng.random_range(0..self.products.len())];
                OrderLine::new(
                    *id,
                    name.clone(),
                    *price,
                    Quantity::new(rng.random_range(1..=4)).expect("a quantity"),
                )
                .expect("a line total")
            })
            .collect();
        Order {
            id: OrderId::from_uuid(v7_at(created_at, rng)),
            client_id,
            courier_id: assigned.then_some(courier),
            status,
            total_cents: total_of(&lines).expect("a total"),
            lines,
            currency: self.currency.clone(),
            delivery_address: self.address.clone(),
            note: None,
            delivery_code: self.code.clone(),
            delivery_code_attempts: 0,
            version: history.len() as u64,
            created_at,
            updated_at: history.last().map_or(created_at, |change| change.at),
            history,
        }
    }
}

/// A UUID v7 of the time `at`, random below it, as `Uuid::now_v7` would have made then.
fn v7_at(at: DateTime<Utc>, rng: &mut StdRng) -> Uuid {
    let time = Uuid::new_v7(Timestamp::from_unix(
        NoContext,
        at.timestamp() as u64,
        at.timestamp_subsec_nanos(),
    ));
    // Keep the 48-bit time, the version and the variant; the rest from the seeded generator,
    // so that a run is reproducible and ids of one millisecond still differ.
    let random: u128 = rng.random();
    let keep: u128 = (0xFFFF_FFFF_FFFF_u128 << 80) | (0xF << 76) | (0b11 << 62);
    Uuid::from_u128((time.as_u128() & keep) | (random & !keep))
}

/// Inserts orders until the store holds `target`, printing progress every two seconds.
async fn fill(
    store: &Arc<dyn OrderStore>,
    name: &str,
    world: &Arc<World>,
    rng: &mut StdRng,
    from: usize,
    target: usize,
) -> Duration {
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut in_flight = JoinSet::new();
    let mut inserted = from;
    let mut queued = from;
    while inserted < target {
        while queued < target && in_flight.len() < IN_FLIGHT {
            let order = world.order(rng);
            let store = store.clone();
            in_flight.spawn(async move { store.insert_order(&order).await });
            queued += 1;
        }
        match in_flight.join_next().await {
            Some(done) => {
                done.expect("an insert task")
                    .unwrap_or_else(|error| panic!("{name}: inserting an order: {error:?}"));
                inserted += 1;
            }
            None => break,
        }
        if last_report.elapsed() >= Duration::from_secs(2) {
            let rate = (inserted - from) as f64 / started.elapsed().as_secs_f64();
            eprintln!("  {name}: filling {inserted}/{target} orders ({rate:.0} orders/s)");
            last_report = Instant::now();
        }
    }
    started.elapsed()
}

/// The median time of `runs` calls of `call`, in milliseconds, after one warm-up call whose
/// result `check` judges (so a wrong answer cannot pass for a fast one). A slow store stops
/// sooner: after `TIME_BUDGET` spent on one measure, once `MIN_RUNS` calls are timed.
async fn time<T, F, Fut>(runs: usize, what: &str, mut call: F, check: impl Fn(&T) -> bool) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    const TIME_BUDGET: Duration = Duration::from_secs(10);
    const MIN_RUNS: usize = 3;
    let first = call().await;
    assert!(check(&first), "{what}: unexpected answer");
    let mut times = Vec::with_capacity(runs);
    let budget = Instant::now();
    for run in 0..runs.max(1) {
        if run >= MIN_RUNS && budget.elapsed() > TIME_BUDGET {
            break;
        }
        let started = Instant::now();
        let answer = call().await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(answer);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

async fn measure(store: &Arc<dyn OrderStore>, name: &str, world: &World, size: usize, runs: usize) {
    let page = PageRequest::first(PAGE);
    let list = |filter: OrderFilter, page: PageRequest| {
        let store = store.clone();
        async move {
            store
                .list_orders(&filter, page)
                .await
                .expect("a listing answers")
        }
    };
    let everything = OrderFilter::default();
    let client = OrderFilter {
        client_id: Some(world.clients[0]),
        ..OrderFilter::default()
    };
    let client_ready = OrderFilter {
        status: Some(OrderStatus::Ready),
        ..client.clone()
    };
    let courier = OrderFilter {
        courier_id: Some(world.couriers[0]),
        ..OrderFilter::default()
    };
    let failed = OrderFilter {
        status: Some(OrderStatus::Failed),
        ..OrderFilter::default()
    };
    // The middle of the year: the cursor of a page half-way down the list.
    let middle = PageRequest {
        limit: PAGE,
        before: Some(v7_at(
            world.year_start() + Days::milliseconds(Days::days(365).num_milliseconds() / 2),
            &mut StdRng::seed_from_u64(7),
        )),
    };
    let full_page = |orders: &Vec<Order>| orders.len() == page.fetch_limit();
    let some = |orders: &Vec<Order>| !orders.is_empty();

    let first_page = time(
        runs,
        "first page",
        || list(everything.clone(), page),
        full_page,
    )
    .await;
    let deep_page = time(
        runs,
        "deep page",
        || list(everything.clone(), middle),
        full_page,
    )
    .await;
    let client_page = time(runs, "client page", || list(client.clone(), page), some).await;
    let client_status_page = time(
        runs,
        "client page by status",
        || list(client_ready.clone(), page),
        |orders: &Vec<Order>| {
            orders
                .iter()
                .all(|o| o.status == OrderStatus::Ready && o.client_id == world.clients[0])
        },
    )
    .await;
    let courier_page = time(runs, "courier page", || list(courier.clone(), page), some).await;
    let empty_page = time(
        runs,
        "failed page",
        || list(failed.clone(), page),
        |orders: &Vec<Order>| orders.is_empty(),
    )
    .await;
    let totals = |period: PlacedBetween| {
        let store = store.clone();
        async move { store.order_totals(period).await.expect("stats answer") }
    };
    let counted = |totals: &allomedia::core::model::OrderTotals| -> u64 {
        totals.per_status.iter().map(|(_, count)| count).sum()
    };
    let stats_all = time(
        runs,
        "stats",
        || totals(PlacedBetween::default()),
        |t| counted(t) == size as u64,
    )
    .await;
    // Thirty days from an odd time of day, half-way through the year.
    let from = world.year_start()
        + Days::days(170)
        + Days::hours(13)
        + Days::minutes(37)
        + Days::milliseconds(12_345);
    let month = PlacedBetween {
        from: Some(from),
        to: Some(from + Days::days(30)),
    };
    let stats_month = time(
        runs,
        "stats over 30 days",
        || totals(month),
        |t| counted(t) > 0 || size < 100,
    )
    .await;
    println!(
        "scale store={name} orders={size} first_page_ms={first_page:.3} deep_page_ms={deep_page:.3} \
         client_page_ms={client_page:.3} client_status_page_ms={client_status_page:.3} \
         courier_page_ms={courier_page:.3} empty_status_page_ms={empty_page:.3} \
         stats_all_ms={stats_all:.3} stats_30_days_ms={stats_month:.3} runs={runs}"
    );
}

async fn run(store: Arc<dyn OrderStore>, name: &str, sizes: &[usize], runs: usize) {
    let mut rng = StdRng::seed_from_u64(13);
    let world = Arc::new(World::new(&mut rng));
    let mut held = 0;
    for &size in sizes {
        eprintln!("== {name}: filling to {size} orders");
        let took = fill(&store, name, &world, &mut rng, held, size).await;
        let added = size - held;
        println!(
            "scale_fill store={name} orders={size} added={added} seconds={:.1} orders_per_second={:.0}",
            took.as_secs_f64(),
            added as f64 / took.as_secs_f64().max(1e-9)
        );
        held = size;
        eprintln!("== {name}: timing at {size} orders");
        measure(&store, name, &world, size, runs).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo test --all-targets` (`make test`) runs this binary too, without `--bench`: then a
    // few hundred orders on SQLite only, so the suite proves it works without filling a million.
    if !std::env::args().any(|arg| arg == "--bench") {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = SqliteStore::open(&dir.path().join("scale.db")).expect("a SQLite file");
        run(Arc::new(store), "sqlite", &[300], 3).await;
        return;
    }
    let runs = setting_list("SCALE_RUNS", "15")[0];
    let stores = std::env::var("SCALE_STORES").unwrap_or_else(|_| "sqlite mongo".to_owned());
    let wants = |name: &str| stores.split_whitespace().any(|store| store == name);

    if wants("sqlite") {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = SqliteStore::open(&dir.path().join("scale.db")).expect("a SQLite file");
        run(
            Arc::new(store),
            "sqlite",
            &setting_list("SCALE_SIZES", "1000 100000 1000000"),
            runs,
        )
        .await;
    }

    match std::env::var("MONGODB_TEST_URI") {
        Ok(uri) if wants("mongo") => {
            let mut url = url::Url::parse(&uri).expect("MONGODB_TEST_URI is a URL");
            let database = format!(
                "allomedia_scale_{}_{}",
                std::process::id(),
                Utc::now().timestamp()
            );
            url.set_path(&format!("/{database}"));
            let store = MongoStore::connect(url.as_str(), Duration::from_secs(60))
                .await
                .expect("the MongoDB server of MONGODB_TEST_URI");
            run(
                Arc::new(store),
                "mongo",
                &setting_list("SCALE_SIZES_MONGO", "1000 10000 20000"),
                runs,
            )
            .await;
            let client = mongodb::Client::with_uri_str(&uri)
                .await
                .expect("a MongoDB client");
            if let Err(error) = client.database(&database).drop().await {
                eprintln!("could not drop the database {database}: {error}");
            }
        }
        Ok(_) => {}
        Err(_) if wants("mongo") => {
            eprintln!("MongoDB not measured: MONGODB_TEST_URI is not set");
        }
        Err(_) => {}
    }
}
