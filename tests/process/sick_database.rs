//! A sick database must not hang the service: the real binary on a SecantusDB server of the
//! test's own, which the test freezes (SIGSTOP) and thaws (SIGCONT), and started standalone.
//! No assertion is about time: the HTTP client's generous timeout only tells an answer from
//! a hang.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};

use crate::ALLOMEDIA;
use crate::mongo_server::OwnServer;
use testkit::PASSWORD;
use testkit::process::{Answer, Server};

/// Short, so that the test is quick; the default is 5000.
const STORE_TIMEOUT_MS: &str = "300";
/// How long the thawed service may take to find its database again (the driver's next
/// heartbeat; about a second here). Bounds the wait, times nothing.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(60);

fn assert_store_timeout(what: &str, answer: &Answer) {
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {answer:?}"
    );
    assert_eq!(answer.code(), "store_timeout", "{what}: {answer:?}");
    assert_eq!(
        answer.retry_after.as_deref(),
        Some("5"),
        "{what}: {answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_database_answers_503_and_the_service_recovers_with_nothing_lost() {
    let test =
        "sick_database::a_frozen_database_answers_503_and_the_service_recovers_with_nothing_lost";
    let dir = tempfile::tempdir().unwrap();
    let Some(database) = OwnServer::start(dir.path(), &[], test).await else {
        return;
    };
    let server = Arc::new(
        Server::start_with(
            &ALLOMEDIA,
            &database.url,
            dir.path(),
            "frozen",
            &[("STORE_TIMEOUT_MS", STORE_TIMEOUT_MS)],
        )
        .await,
    );
    // Acknowledged writes before the freeze: three verified accounts.
    let people = ["amina@example.com", "omar@example.com", "salma@example.com"];
    for email in people {
        server.register_and_verify("Someone", email, PASSWORD).await;
    }
    let access = server.sign_in(people[0], PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    database.freeze();

    // More requests at once than the driver's pool has connections (10): none may wait for
    // a connection forever either.
    let mut requests = JoinSet::new();
    for n in 0..12 {
        let (server, access) = (Arc::clone(&server), access.clone());
        requests.spawn(async move {
            let answer = match n % 3 {
                0 => {
                    server
                        .try_call(Method::GET, "/api/v1/products", None, None)
                        .await
                }
                1 => {
                    server
                        .try_call(Method::GET, "/api/v1/me", Some(&access), None)
                        .await
                }
                _ => {
                    let body = json!({"email": format!("new{n}@example.com"),
                        "name": "New", "password": PASSWORD});
                    server
                        .try_call(Method::POST, "/api/v1/auth/register", None, Some(&body))
                        .await
                }
            };
            (n, answer)
        });
    }
    let answers = requests.join_all().await;
    let ready = server
        .try_call(Method::GET, "/health/ready", None, None)
        .await;

    for (n, answer) in &answers {
        let answer = answer
            .as_ref()
            .unwrap_or_else(|e| panic!("request {n} hung on a frozen database: {e}"));
        assert_store_timeout(&format!("request {n}"), answer);
    }
    let ready = ready.expect("the readiness probe hung on a frozen database");
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{ready:?}");
    assert_eq!(ready.code(), "store_unavailable", "{ready:?}");
    let log = server.log_text();
    assert!(log.contains("store call timed out"), "{log}");

    database.thaw();

    // It recovers by itself: ready again, and every acknowledged write is there.
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    loop {
        let ready = server
            .try_call(Method::GET, "/health/ready", None, None)
            .await;
        if ready.is_ok_and(|ready| ready.status == StatusCode::OK) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the service did not recover after the database thawed:\n{}",
            server.log_text()
        );
        sleep(Duration::from_millis(100)).await;
    }
    let me = server.get("/api/v1/me", &access).await;
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    for email in people {
        let tokens = server.sign_in(email, PASSWORD).await;
        assert!(tokens["access_token"].is_string(), "{email}: {tokens}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_mongodb_is_refused_at_start_up_with_a_clear_message() {
    let test = "sick_database::a_standalone_mongodb_is_refused_at_start_up_with_a_clear_message";
    let dir = tempfile::tempdir().unwrap();
    let Some(database) = OwnServer::start(dir.path(), &["--standalone"], test).await else {
        return;
    };

    let log = dir.path().join("standalone.log");
    let output = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(ALLOMEDIA.path)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", &database.url)
        .current_dir(ALLOMEDIA.scratch_dir)
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .spawn()
        .expect("starting allomedia serve");

    // A service that accepted the server would serve on: wait for the exit, boundedly.
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the service started on a standalone server:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        sleep(Duration::from_millis(50)).await;
    };

    let said = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "{said}");
    assert!(said.contains("DATABASE_URL"), "{said}");
    assert!(said.contains("standalone"), "{said}");
    assert!(said.contains("replica set"), "{said}");
}
