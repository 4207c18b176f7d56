//! Two instances, one store: two real `allomedia serve` processes on one SQLite file (and on
//! one MongoDB database where `MONGODB_TEST_URI` names a server; otherwise each MongoDB test
//! prints a `skipped:` line). Whatever one instance decides about a session, a code or a
//! throttle, the other honours at once — nothing that matters lives in a process's memory.

use std::pin::Pin;
use std::task::Poll;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::ALLOMEDIA;
use allomedia::core::policy::AuthPolicy;
use testkit::PASSWORD;
use testkit::process::{Answer, Server};

/// The store both instances share.
#[derive(Clone, Copy)]
enum Store {
    Sqlite,
    Mongo,
}

/// Two instances on one store, and what must outlive them.
struct Pair {
    a: Server,
    b: Server,
    _dir: tempfile::TempDir,
    /// The MongoDB test database, dropped when the test ends.
    mongo: Option<(String, String)>,
}

impl Pair {
    /// Both instances, started at the same time on a fresh store (so they also race to
    /// create the schema, as two replicas of a new deployment do); `None`, with a visible
    /// `skipped:` line, where the store has no server here.
    async fn start(store: Store, test: &str) -> Option<Pair> {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, mongo) = match store {
            Store::Sqlite => (
                format!("sqlite://{}", dir.path().join("shared.db").display()),
                None,
            ),
            Store::Mongo => {
                let Some(uri) = std::env::var("MONGODB_TEST_URI")
                    .ok()
                    .filter(|uri| !uri.trim().is_empty())
                else {
                    // Where a MongoDB must be found (a CI job with one), a missing server is a
                    // failure, not a skip — the same switch as tests/store_contract/'s.
                    assert!(
                        std::env::var_os("MONGODB_TEST_REQUIRED").is_none(),
                        "MONGODB_TEST_REQUIRED is set, but MONGODB_TEST_URI names no MongoDB"
                    );
                    // Straight to the stderr handle: libtest does not capture it, so the
                    // line shows in every `cargo test` log (as in tests/store_contract/).
                    let line = format!(
                        "skipped: no MongoDB (set MONGODB_TEST_URI) — two_instances::mongo::{test}\n"
                    );
                    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
                    return None;
                };
                let name = format!("allomedia_two_instances_{}", uuid::Uuid::now_v7().simple());
                (with_database(&uri, &name), Some((uri, name)))
            }
        };
        let (mut a, mut b) = tokio::join!(
            Server::start(&ALLOMEDIA, &database_url, dir.path(), "a"),
            Server::start(&ALLOMEDIA, &database_url, dir.path(), "b"),
        );
        a.share_mailbox_with(&b);
        b.share_mailbox_with(&a);
        Some(Pair {
            a,
            b,
            _dir: dir,
            mongo,
        })
    }

    async fn finish(self) {
        let Pair { a, b, mongo, .. } = self;
        drop((a, b));
        if let Some((uri, name)) = mongo {
            let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
            client.database(&name).drop().await.unwrap();
        }
    }

    /// A verified client: registered on A, the mailed link (delivered by either) used on B.
    async fn client(&self, email: &str) {
        let seen = self.a.mail_count(email, "verify_email");
        let registered = self
            .a
            .post(
                "/api/v1/auth/register",
                None,
                json!({"name": "Amina", "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(registered.status, StatusCode::ACCEPTED, "{registered:?}");
        let token = self.a.mail(email, "verify_email", seen).await.link_token();
        let verified = self
            .b
            .post("/api/v1/auth/verify-email", None, json!({"token": token}))
            .await;
        assert_eq!(verified.status, StatusCode::NO_CONTENT, "{verified:?}");
    }
}

/// `uri` naming `database` as its default database. The URI's path also names the database
/// that credentials are checked against, so that one is kept as an explicit `authSource`.
/// Text surgery rather than a URL parser: a replica-set URI lists several hosts.
pub(crate) fn with_database(uri: &str, database: &str) -> String {
    let (base, query) = uri.split_once('?').unwrap_or((uri, ""));
    let hosts_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[hosts_start..]
        .find('/')
        .map_or(base.len(), |i| hosts_start + i);
    let hosts = &base[..path_start];
    let original = base[path_start..].trim_start_matches('/');
    let mut options: Vec<String> = query
        .split('&')
        .filter(|option| !option.is_empty())
        .map(str::to_owned)
        .collect();
    let has_credentials = base[hosts_start..path_start].contains('@');
    let has_auth_source = options
        .iter()
        .any(|o| o.to_ascii_lowercase().starts_with("authsource="));
    if has_credentials && !has_auth_source {
        let source = if original.is_empty() {
            "admin"
        } else {
            original
        };
        options.push(format!("authSource={source}"));
    }
    if options.is_empty() {
        format!("{hosts}/{database}")
    } else {
        format!("{hosts}/{database}?{}", options.join("&"))
    }
}

#[test]
fn a_mongodb_uri_gets_the_test_database_and_keeps_its_auth_source() {
    assert_eq!(
        with_database("mongodb://localhost:27017", "t"),
        "mongodb://localhost:27017/t"
    );
    assert_eq!(
        with_database("mongodb://a:1,b:2/?replicaSet=rs", "t"),
        "mongodb://a:1,b:2/t?replicaSet=rs"
    );
    assert_eq!(
        with_database("mongodb://u:p@h/app?tls=true", "t"),
        "mongodb://u:p@h/t?tls=true&authSource=app"
    );
    assert_eq!(
        with_database("mongodb+srv://u:p@cluster.example.net", "t"),
        "mongodb+srv://u:p@cluster.example.net/t?authSource=admin"
    );
}

fn text(tokens: &Value, field: &str) -> String {
    tokens[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {tokens}"))
        .to_owned()
}

async fn me(server: &Server, access: &str) -> Answer {
    server.get("/api/v1/me", access).await
}

async fn refresh(server: &Server, refresh_token: &str) -> Answer {
    server
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh_token}),
        )
        .await
}

async fn verify(server: &Server, challenge: &str, code: &str) -> Answer {
    server
        .post(
            "/api/v1/auth/2fa/verify",
            None,
            json!({"challenge_id": challenge, "code": code}),
        )
        .await
}

#[track_caller]
fn assert_refused_token(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(answer.www_authenticate.as_deref(), Some("Bearer"));
}

#[track_caller]
fn assert_problem(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.code(), code, "{answer:?}");
}

async fn a_session_ended_on_one_instance_is_refused_by_the_other_at_once(pair: &Pair) {
    let email = "amina@example.com";
    pair.client(email).await;
    let tokens = pair.a.sign_in(email, PASSWORD).await;
    let access = text(&tokens, "access_token");
    // B accepts what A issued: same secret, same store.
    assert_eq!(me(&pair.b, &access).await.status, StatusCode::OK);

    let logout = pair
        .a
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            Some(&access),
            None,
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT, "{logout:?}");

    // Right after: B refuses the access token and the refresh token.
    assert_refused_token(&me(&pair.b, &access).await);
    assert_problem(
        &refresh(&pair.b, &text(&tokens, "refresh_token")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );

    // Logout-all on B ends a session opened on A, and B's own.
    let on_a = pair.a.sign_in(email, PASSWORD).await;
    let on_b = pair.b.sign_in(email, PASSWORD).await;
    assert_eq!(
        me(&pair.a, &text(&on_a, "access_token")).await.status,
        StatusCode::OK
    );
    let logout_all = pair
        .b
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/logout-all",
            Some(&text(&on_b, "access_token")),
            None,
        )
        .await;
    assert_eq!(logout_all.status, StatusCode::NO_CONTENT, "{logout_all:?}");
    assert_refused_token(&me(&pair.a, &text(&on_a, "access_token")).await);
    assert_refused_token(&me(&pair.a, &text(&on_b, "access_token")).await);
    assert_problem(
        &refresh(&pair.a, &text(&on_a, "refresh_token")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );
}

async fn wrong_passwords_are_counted_across_both_instances(pair: &Pair) {
    let email = "amina@example.com";
    pair.client(email).await;
    let rule = AuthPolicy::default().password_lockout;

    // Alternate: each instance judges only half the limit's wrong passwords, so an
    // instance counting on its own would never lock.
    for attempt in 0..rule.max_attempts {
        let server = if attempt % 2 == 0 { &pair.a } else { &pair.b };
        let wrong = server
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": "not the password at all"}),
            )
            .await;
        assert_problem(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }

    // The limit is reached in total: both answer 429, to the right password too.
    for server in [&pair.a, &pair.b] {
        let right = server
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_problem(&right, StatusCode::TOO_MANY_REQUESTS, "login_throttled");
        let retry_after: i64 = right
            .retry_after
            .as_deref()
            .expect("a 429 says when to come back")
            .parse()
            .unwrap();
        assert!(
            retry_after > 0 && retry_after <= rule.first_lock.num_seconds(),
            "Retry-After: {retry_after}"
        );
    }
}

async fn parallel_wrong_passwords_on_both_instances_are_judged_up_to_the_limit_in_total(
    pair: &Pair,
) {
    let email = "amina@example.com";
    pair.client(email).await;
    let limit = AuthPolicy::default().password_lockout.max_attempts as usize;

    // Four times the limit at once, half on each instance: both reserve attempts in the one
    // store, so exactly `limit` are judged (401) and the rest are refused unjudged (429) —
    // and two writers on one store never turn into a fault.
    let attempts = (0..4 * limit).map(|i| {
        let server = if i % 2 == 0 { &pair.a } else { &pair.b };
        server.post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": "not the password at all"}),
        )
    });
    let answers = all_at_once(attempts).await;

    let judged = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS && a.code() == "login_throttled")
        .count();
    assert_eq!(judged, limit, "{answers:?}");
    assert_eq!(judged + throttled, answers.len(), "{answers:?}");
}

/// Runs the futures at once (in this task: the requests' I/O runs on the client's own
/// connection tasks) and gathers their outputs in order.
async fn all_at_once<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

async fn a_login_code_opens_one_session_across_both_instances(pair: &Pair) {
    let email = "amina@example.com";
    pair.client(email).await;

    // Verified on A: the same challenge and code are dead on B, and on A.
    let (challenge, code) = pair.a.login_challenge(email, PASSWORD).await;
    assert_eq!(
        verify(&pair.a, &challenge, &code).await.status,
        StatusCode::OK
    );
    assert_problem(
        &verify(&pair.b, &challenge, &code).await,
        StatusCode::UNAUTHORIZED,
        "invalid_code",
    );
    assert_problem(
        &verify(&pair.a, &challenge, &code).await,
        StatusCode::UNAUTHORIZED,
        "invalid_code",
    );

    // A challenge opened on A is verified on B, once.
    let (challenge, code) = pair.a.login_challenge(email, PASSWORD).await;
    assert_eq!(
        verify(&pair.b, &challenge, &code).await.status,
        StatusCode::OK
    );
    assert_problem(
        &verify(&pair.a, &challenge, &code).await,
        StatusCode::UNAUTHORIZED,
        "invalid_code",
    );
}

async fn one_code_verified_on_both_instances_at_once_has_one_winner(pair: &Pair) {
    let email = "amina@example.com";
    pair.client(email).await;
    let rounds = 6;
    let mut winner_access = String::new();
    for round in 0..rounds {
        let opener = if round % 2 == 0 { &pair.a } else { &pair.b };
        let (challenge, code) = opener.login_challenge(email, PASSWORD).await;

        let (on_a, on_b) = tokio::join!(
            verify(&pair.a, &challenge, &code),
            verify(&pair.b, &challenge, &code)
        );

        let (winner, loser) = match (on_a.status, on_b.status) {
            (StatusCode::OK, _) => (on_a, on_b),
            (_, StatusCode::OK) => (on_b, on_a),
            _ => panic!("no instance accepted the code: {on_a:?} {on_b:?}"),
        };
        assert_problem(&loser, StatusCode::UNAUTHORIZED, "invalid_code");
        winner_access = text(&winner.body, "access_token");
    }

    // Each round opened exactly one session.
    let sessions = pair
        .b
        .get("/api/v1/me/sessions?limit=100", &winner_access)
        .await;
    assert_eq!(sessions.status, StatusCode::OK, "{sessions:?}");
    assert_eq!(
        sessions.body["items"].as_array().unwrap().len(),
        rounds,
        "{sessions:?}"
    );
}

async fn refresh_tokens_rotate_as_one_chain_across_both_instances(pair: &Pair) {
    let email = "amina@example.com";
    pair.client(email).await;
    let first = text(&pair.a.sign_in(email, PASSWORD).await, "refresh_token");

    // Rotated on A. B, shown the token A just rotated away, is within the grace window
    // (API.md: a concurrent refresh by the same client) and answers with the very tokens of
    // A's rotation — one chain, not two branches.
    let second = refresh(&pair.a, &first).await;
    assert_eq!(second.status, StatusCode::OK, "{second:?}");
    let second = text(&second.body, "refresh_token");
    let late = refresh(&pair.b, &first).await;
    assert_eq!(late.status, StatusCode::OK, "{late:?}");
    assert_eq!(text(&late.body, "refresh_token"), second);

    // B carries the chain on.
    let third = refresh(&pair.b, &second).await;
    assert_eq!(third.status, StatusCode::OK, "{third:?}");
    let third_access = text(&third.body, "access_token");
    let third = text(&third.body, "refresh_token");

    // The first token is now two rotations old: a replay whatever the clock says, so A
    // revokes the session, and B refuses its newest tokens at once.
    assert_problem(
        &refresh(&pair.a, &first).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );
    assert_problem(
        &refresh(&pair.b, &third).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );
    assert_refused_token(&me(&pair.b, &third_access).await);

    // The same token refreshed on both at once: both answer with the same next token, and
    // the session lives on.
    let token = text(&pair.b.sign_in(email, PASSWORD).await, "refresh_token");
    let (on_a, on_b) = tokio::join!(refresh(&pair.a, &token), refresh(&pair.b, &token));
    assert_eq!(on_a.status, StatusCode::OK, "{on_a:?}");
    assert_eq!(on_b.status, StatusCode::OK, "{on_b:?}");
    let next = text(&on_a.body, "refresh_token");
    assert_eq!(text(&on_b.body, "refresh_token"), next);
    assert_eq!(refresh(&pair.b, &next).await.status, StatusCode::OK);
}

/// Each scenario, once per store, each on a fresh pair of instances.
macro_rules! on_every_store {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let pair = super::Pair::start(super::Store::Sqlite, stringify!($scenario))
                        .await
                        .unwrap();
                    super::$scenario(&pair).await;
                    pair.finish().await;
                }
            )*
        }
        mod mongo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(pair) =
                        super::Pair::start(super::Store::Mongo, stringify!($scenario)).await
                    else {
                        return;
                    };
                    super::$scenario(&pair).await;
                    pair.finish().await;
                }
            )*
        }
    };
}

on_every_store!(
    a_session_ended_on_one_instance_is_refused_by_the_other_at_once,
    wrong_passwords_are_counted_across_both_instances,
    parallel_wrong_passwords_on_both_instances_are_judged_up_to_the_limit_in_total,
    a_login_code_opens_one_session_across_both_instances,
    one_code_verified_on_both_instances_at_once_has_one_winner,
    refresh_tokens_rotate_as_one_chain_across_both_instances,
);
