//! Crash safety: the real server on a temporary SQLite file takes a stream of concurrent order
//! placements and registrations, is killed with SIGKILL while requests are in flight, and is
//! started again on the same file (twice over). Every acknowledged write (201 order, 202
//! registration) is there exactly as acknowledged; what was in flight is either wholly there
//! or absent; the file passes SQLite's integrity check and takes new writes.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

use crate::ALLOMEDIA;
use testkit::PASSWORD;
use testkit::process::{Server, create_manager};

const MANAGER: &str = "salma@example.com";
const CLIENTS: usize = 3;
/// The catalogue: names and prices in minor units.
const PRODUCTS: [(&str, i64); 4] = [
    ("Tajine aux olives", 8550),
    ("Harira", 1200),
    ("Pastilla au poulet", 3075),
    ("Thé à la menthe", 990),
];
/// How many times the stream is killed, each on a server restarted on the same file.
const KILLS: usize = 2;
const ORDER_WORKERS: usize = 6;
const REGISTRATION_WORKERS: usize = 2;
/// Acknowledgements to wait for before the kill, so that it falls in the thick of the stream.
const ORDERS_BEFORE_KILL: usize = 60;
const REGISTRATIONS_BEFORE_KILL: usize = 8;
/// Bounds each worker's loop, whatever happens to the server.
const MAX_REQUESTS_PER_WORKER: usize = 2_000;
/// Bounds the wait for the acknowledgements above (they normally take about a second).
const STREAM_DEADLINE: Duration = Duration::from_secs(120);
const REGISTRATION_DOMAIN: &str = "@stream.example.org";

/// One signed-in client.
struct Client {
    id: String,
    access: String,
}

/// What a request asked for.
#[derive(Debug, Clone)]
enum Write {
    Order {
        client: usize,
        /// (product index, quantity), in the order sent.
        items: Vec<(usize, u32)>,
        address: String,
        /// Unique per request: it names the request an order in the store came from.
        note: String,
    },
    Registration {
        name: String,
        email: String,
    },
}

/// What became of a request.
#[derive(Debug)]
enum Outcome {
    /// 201 or 202, with the body.
    Acknowledged(Value),
    /// Any other answer (there should be none: the stream only sends valid writes).
    Refused(StatusCode, Value),
    /// No answer: the server died with the request in flight, or before it was sent.
    NoAnswer,
}

#[derive(Debug)]
struct Sent {
    write: Write,
    /// Sent before the SIGKILL: the server was alive, so without an answer the request was
    /// in flight when it died.
    before_signal: bool,
    /// Sent before the server was known dead: it may have landed.
    before_kill: bool,
    outcome: Outcome,
}

/// The stream's shared record.
#[derive(Default)]
struct Stream {
    sent: Mutex<Vec<Sent>>,
    next: AtomicUsize,
    orders_acknowledged: AtomicUsize,
    registrations_acknowledged: AtomicUsize,
    /// Set right before the SIGKILL.
    killing: AtomicBool,
    /// Set once the process is gone: workers stop sending.
    killed: AtomicBool,
}

fn database_url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// The write a worker sends as its `n`-th request of the whole stream.
fn order_write(n: usize) -> Write {
    // One to three distinct products, quantities 1 to 4: every order differs a little.
    let lines = 1 + n % 3;
    let items = (0..lines)
        .map(|line| ((n + line) % PRODUCTS.len(), 1 + ((n / 3 + line) % 4) as u32))
        .collect();
    Write::Order {
        client: n % CLIENTS,
        items,
        address: format!("{} rue Atlas, Casablanca", 1 + n % 97),
        note: format!("crash stream #{n}"),
    }
}

fn registration_write(n: usize) -> Write {
    Write::Registration {
        name: format!("Walker {n}"),
        email: format!("walker{n}{REGISTRATION_DOMAIN}"),
    }
}

async fn send(server: &Server, write: &Write, clients: &[Client], products: &[String]) -> Outcome {
    let (path, access, body, success) = match write {
        Write::Order {
            client,
            items,
            address,
            note,
        } => (
            "/api/v1/orders",
            Some(clients[*client].access.as_str()),
            json!({
                "items": items
                    .iter()
                    .map(|(product, quantity)| json!({
                        "product_id": products[*product],
                        "quantity": quantity,
                    }))
                    .collect::<Vec<_>>(),
                "delivery_address": address,
                "note": note,
            }),
            StatusCode::CREATED,
        ),
        Write::Registration { name, email } => (
            "/api/v1/auth/register",
            None,
            json!({"name": name, "email": email, "password": PASSWORD}),
            StatusCode::ACCEPTED,
        ),
    };
    match server
        .try_call(Method::POST, path, access, Some(&body))
        .await
    {
        Ok(answer) if answer.status == success => Outcome::Acknowledged(answer.body),
        Ok(answer) => Outcome::Refused(answer.status, answer.body),
        Err(_) => Outcome::NoAnswer,
    }
}

/// Sends writes made by `make` one after another until the server is killed or stops
/// answering.
async fn worker(
    server: Arc<Server>,
    stream: Arc<Stream>,
    clients: Arc<Vec<Client>>,
    products: Arc<Vec<String>>,
    make: fn(usize) -> Write,
) {
    for _ in 0..MAX_REQUESTS_PER_WORKER {
        let before_signal = !stream.killing.load(Ordering::SeqCst);
        let before_kill = !stream.killed.load(Ordering::SeqCst);
        let write = make(stream.next.fetch_add(1, Ordering::SeqCst));
        let outcome = send(&server, &write, &clients, &products).await;
        let answered = !matches!(outcome, Outcome::NoAnswer);
        if let Outcome::Acknowledged(_) = outcome {
            let counter = match write {
                Write::Order { .. } => &stream.orders_acknowledged,
                Write::Registration { .. } => &stream.registrations_acknowledged,
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }
        stream.sent.lock().unwrap().push(Sent {
            write,
            before_signal,
            before_kill,
            outcome,
        });
        if !answered || !before_kill {
            return;
        }
    }
}

/// Every order the manager sees, through the paginated list.
async fn all_orders(server: &Server, manager: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    // Bounded: far more pages than the stream can fill.
    for _ in 0..1_000 {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/orders?limit=100&cursor={cursor}"),
            None => "/api/v1/orders?limit=100".to_owned(),
        };
        let page = server.get(&path, manager).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        orders.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return orders,
        }
    }
    panic!("the order list does not end");
}

/// Checks that `order` is wholly what `write` asked for, priced from the catalogue.
#[track_caller]
fn assert_whole_order(order: &Value, write: &Write, clients: &[Client], products: &[String]) {
    let Write::Order {
        client,
        items,
        address,
        note,
    } = write
    else {
        panic!("{order} came from a registration");
    };
    assert_eq!(order["client_id"], clients[*client].id.as_str(), "{order}");
    assert_eq!(order["status"], "pending", "{order}");
    assert_eq!(order["currency"], "MAD", "{order}");
    assert_eq!(order["delivery_address"], address.as_str(), "{order}");
    assert_eq!(order["note"], note.as_str(), "{order}");
    assert_eq!(order["history"], json!([]), "{order}");
    let lines = order["items"].as_array().unwrap();
    assert_eq!(lines.len(), items.len(), "{order}");
    let mut total = 0;
    for (line, (product, quantity)) in lines.iter().zip(items) {
        let (name, price) = PRODUCTS[*product];
        assert_eq!(line["product_id"], products[*product].as_str(), "{order}");
        assert_eq!(line["name"], name, "{order}");
        assert_eq!(line["unit_price_cents"], price, "{order}");
        assert_eq!(line["quantity"], *quantity, "{order}");
        assert_eq!(
            line["line_total_cents"],
            price * i64::from(*quantity),
            "{order}"
        );
        total += price * i64::from(*quantity);
    }
    assert_eq!(order["total_cents"], total, "{order}");
}

fn integrity_check(file: &Path) -> String {
    let connection = rusqlite::Connection::open(file).unwrap();
    connection.busy_timeout(Duration::from_secs(5)).unwrap();
    connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap()
}

fn order_rows(file: &Path) -> usize {
    let connection = rusqlite::Connection::open(file).unwrap();
    connection.busy_timeout(Duration::from_secs(5)).unwrap();
    connection
        .query_row("SELECT count(*) FROM orders", [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|rows| usize::try_from(rows).unwrap())
        .unwrap()
}

/// Runs the stream against `server` and SIGKILLs it once enough is acknowledged — with every
/// worker still sending, so requests are in flight when the process dies. Returns what was
/// sent (numbered from `first`) and how many requests the kill caught in flight.
async fn stream_then_kill(
    server: &Arc<Server>,
    clients: &Arc<Vec<Client>>,
    products: &Arc<Vec<String>>,
    first: usize,
) -> (Vec<Sent>, usize) {
    let stream = Arc::new(Stream {
        next: AtomicUsize::new(first),
        ..Stream::default()
    });
    let mut workers = Vec::new();
    for i in 0..ORDER_WORKERS + REGISTRATION_WORKERS {
        let make = if i < ORDER_WORKERS {
            order_write
        } else {
            registration_write
        };
        workers.push(tokio::spawn(worker(
            server.clone(),
            stream.clone(),
            clients.clone(),
            products.clone(),
            make,
        )));
    }
    let deadline = Instant::now() + STREAM_DEADLINE;
    while stream.orders_acknowledged.load(Ordering::SeqCst) < ORDERS_BEFORE_KILL
        || stream.registrations_acknowledged.load(Ordering::SeqCst) < REGISTRATIONS_BEFORE_KILL
    {
        assert!(
            Instant::now() < deadline,
            "the stream was not acknowledged in time"
        );
        assert!(
            !workers.iter().any(|w| w.is_finished()),
            "a worker stopped before the kill: {:?}",
            stream.sent.lock().unwrap().last()
        );
        sleep(Duration::from_millis(2)).await;
    }
    stream.killing.store(true, Ordering::SeqCst);
    server.kill();
    stream.killed.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    let sent = std::mem::take(&mut *stream.sent.lock().unwrap());

    // The stream behaved: every answer before the kill was a success, nothing was answered
    // after it, and the kill did hit requests in flight.
    for request in &sent {
        if let Outcome::Refused(status, body) = &request.outcome {
            panic!(
                "a valid write was refused with {status}: {body} ({:?})",
                request.write
            );
        }
        if !request.before_kill {
            assert!(matches!(request.outcome, Outcome::NoAnswer), "{request:?}");
        }
    }
    let in_flight = sent
        .iter()
        .filter(|r| r.before_signal && matches!(r.outcome, Outcome::NoAnswer))
        .count();
    assert!(in_flight > 0, "no request was in flight at the kill");
    (sent, in_flight)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_a_sigkill_in_the_middle_of_a_stream_and_nothing_is_half_written()
 {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("allomedia.db");
    let url = database_url(&file);

    // Arrange: a manager made by the CLI stocks the catalogue; clients sign in.
    create_manager(&ALLOMEDIA, &url, "Salma", MANAGER, PASSWORD);
    let server = Server::start(&ALLOMEDIA, &url, dir.path(), "before").await;
    let manager = server.sign_in(MANAGER, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut products = Vec::new();
    for (name, price) in PRODUCTS {
        let created = server
            .post(
                "/api/v1/products",
                Some(&manager),
                json!({"name": name, "price_cents": price, "available": true}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        products.push(created.body["id"].as_str().unwrap().to_owned());
    }
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let email = format!("client{i}@example.com");
        server.register_and_verify("Amina", &email, PASSWORD).await;
        let access = server.sign_in(&email, PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let id = server.get("/api/v1/me", &access).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        clients.push(Client { id, access });
    }

    // Act: the stream, SIGKILLed in its midst; twice, the second time on the restarted
    // server, so the file also survives a crash after a recovery.
    let clients = Arc::new(clients);
    let products = Arc::new(products);
    let mut sent = Vec::new();
    let mut mails_before = Vec::new();
    let mut in_flight = 0;
    let mut next_server = Some(Arc::new(server));
    for round in 0..KILLS {
        let server = match next_server.take() {
            Some(server) => server,
            None => Arc::new(
                Server::start(&ALLOMEDIA, &url, dir.path(), &format!("restart{round}")).await,
            ),
        };
        let (round_sent, round_in_flight) =
            stream_then_kill(&server, &clients, &products, sent.len()).await;
        sent.extend(round_sent);
        in_flight += round_in_flight;
        mails_before.extend(server.mails());
    }

    let acknowledged = sent
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Acknowledged(_)))
        .count();

    // Restart on the same file, and look.
    let server = Server::start(&ALLOMEDIA, &url, dir.path(), "after").await;
    assert_eq!(integrity_check(&file), "ok");
    let clients = Arc::into_inner(clients).unwrap();
    let products = Arc::into_inner(products).unwrap();

    // Sessions acknowledged before the stream still work (the manager's too, used below).
    for client in &clients {
        assert_eq!(
            server.get("/api/v1/me", &client.access).await.status,
            StatusCode::OK
        );
    }

    // Every acknowledged order reads back exactly as acknowledged, to the client who placed it.
    let mut acknowledged_orders = HashSet::new();
    for request in &sent {
        if let (Write::Order { client, .. }, Outcome::Acknowledged(body)) =
            (&request.write, &request.outcome)
        {
            let id = body["id"].as_str().unwrap();
            let read = server
                .get(&format!("/api/v1/orders/{id}"), &clients[*client].access)
                .await;
            assert_eq!(read.status, StatusCode::OK, "acknowledged order {id} lost");
            assert_eq!(&read.body, body, "acknowledged order {id} changed");
            assert_whole_order(&read.body, &request.write, &clients, &products);
            acknowledged_orders.insert(id.to_owned());
        }
    }

    // Every order in the store came from one request of the stream, once, and is whole —
    // including those whose 201 never arrived.
    let by_note: HashMap<&str, &Sent> = sent
        .iter()
        .filter_map(|r| match &r.write {
            Write::Order { note, .. } => Some((note.as_str(), r)),
            Write::Registration { .. } => None,
        })
        .collect();
    let stored = all_orders(&server, &manager).await;
    let mut notes_seen = HashSet::new();
    for order in &stored {
        let note = order["note"].as_str().unwrap();
        assert!(
            notes_seen.insert(note),
            "two orders from one request: {note}"
        );
        let request = by_note
            .get(note)
            .unwrap_or_else(|| panic!("an order no request asked for: {order}"));
        assert!(request.before_kill, "{order} was sent to a dead server");
        assert_whole_order(order, &request.write, &clients, &products);
        if let Outcome::Acknowledged(body) = &request.outcome {
            assert_eq!(order["id"], body["id"]);
        }
    }
    let stored_ids: HashSet<String> = stored
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(acknowledged_orders.is_subset(&stored_ids));
    let sent_orders = by_note.values().filter(|r| r.before_kill).count();
    assert!(stored.len() <= sent_orders);
    // No row the API does not show.
    assert_eq!(order_rows(&file), stored.len());
    let landed_unacknowledged = stored.len() - acknowledged_orders.len();

    // Every acknowledged registration is an account: the manager finds it, its password
    // is the one registered (a right password on an unverified address re-mails its link),
    // and the link mailed before the crash verifies it. A registration in flight made an
    // account or none; one it made is usable (a new link can be asked for).
    let mut landed_registrations = 0;
    for request in &sent {
        let Write::Registration { name, email } = &request.write else {
            continue;
        };
        let found = server
            .get(&format!("/api/v1/users?q={email}"), &manager)
            .await;
        assert_eq!(found.status, StatusCode::OK, "{found:?}");
        let found = found.body["items"].as_array().unwrap().clone();
        let acknowledged = matches!(request.outcome, Outcome::Acknowledged(_));
        if acknowledged {
            assert_eq!(found.len(), 1, "acknowledged registration {email} lost");
        } else {
            assert!(found.len() <= 1, "{email}: {found:?}");
            if found.is_empty() {
                continue;
            }
            landed_registrations += 1;
        }
        let account = &found[0];
        assert_eq!(account["email"], email.as_str());
        assert_eq!(account["name"], name.as_str());
        assert_eq!(account["role"], "client");
        assert_eq!(account["email_verified"], false);
        let login = server
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(login.status, StatusCode::UNAUTHORIZED, "{login:?}");
        assert_eq!(login.code(), "invalid_credentials");

        // The link is mailed just after the answer (so its timing cannot tell a new address
        // from a taken one): a kill right after a 202 may have beaten it, and resending is
        // how its owner then gets one.
        let mailed = mails_before
            .iter()
            .find(|m| &m.to == email && m.kind == "verify_email");
        let token = if let Some(mail) = mailed {
            mail.link_token()
        } else {
            let resent = server
                .post(
                    "/api/v1/auth/verify-email/resend",
                    None,
                    json!({"email": email}),
                )
                .await;
            assert_eq!(resent.status, StatusCode::ACCEPTED);
            server.mail(email, "verify_email", 0).await.link_token()
        };
        let verified = server
            .post("/api/v1/auth/verify-email", None, json!({"token": token}))
            .await;
        assert_eq!(
            verified.status,
            StatusCode::NO_CONTENT,
            "{email}: {verified:?}"
        );
    }
    let walkers = server
        .get(
            &format!("/api/v1/users?q={REGISTRATION_DOMAIN}&limit=100"),
            &manager,
        )
        .await;
    let sent_registrations = sent
        .iter()
        .filter(|r| r.before_kill && matches!(r.write, Write::Registration { .. }))
        .count();
    assert!(walkers.body["items"].as_array().unwrap().len() <= sent_registrations);

    // The store takes new writes, and they read back.
    let new_order = order_write(sent.len() + 1);
    let placed = send(&server, &new_order, &clients, &products).await;
    let Outcome::Acknowledged(placed) = placed else {
        panic!("no new order after the restart: {placed:?}");
    };
    let id = placed["id"].as_str().unwrap();
    let read = server.get(&format!("/api/v1/orders/{id}"), &manager).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_whole_order(&read.body, &new_order, &clients, &products);
    let registration = registration_write(sent.len() + 2);
    assert!(matches!(
        send(&server, &registration, &clients, &products).await,
        Outcome::Acknowledged(_)
    ));
    assert_eq!(integrity_check(&file), "ok");

    // What the kills hit, for the log (the assertions above hold whatever these numbers are).
    let line = format!(
        "crash_safety: {} requests sent, {acknowledged} acknowledged, {in_flight} in flight at \
         the {KILLS} SIGKILLs, {landed_unacknowledged} unacknowledged orders and \
         {landed_registrations} unacknowledged registrations landed whole\n",
        sent.len()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}
