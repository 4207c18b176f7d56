//! End to end: the real application on a free port, over real HTTP, with a temporary SQLite
//! file — a person registers, verifies, logs in with the mailed code, uses the API and logs out;
//! after a restart the account is still there.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};

use allomedia::adapters::mail::render;
use allomedia::app::{self, RunningApp};
use allomedia::config::Config;
use testkit::{CapturingMailer, PASSWORD};

struct TestApp {
    running: RunningApp,
    base: String,
    http: reqwest::Client,
}

async fn spawn_app(database_file: &std::path::Path, mailer: Arc<CapturingMailer>) -> TestApp {
    let database_url = format!("sqlite://{}", database_file.display());
    let config = Config::from_lookup(|name| match name {
        "HTTP_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(database_url.clone()),
        "JWT_SECRET" => Some("an end-to-end secret of 32+ bytes!".into()),
        _ => None,
    })
    .unwrap();
    let running = app::start_with_mailer(config, mailer).await.unwrap();
    let base = format!("http://{}", running.local_addr);
    TestApp {
        running,
        base,
        http: reqwest::Client::new(),
    }
}

impl TestApp {
    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn login_with_code(&self, mailer: &CapturingMailer, email: &str) -> Value {
        let login = self
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(login.status(), StatusCode::ACCEPTED);
        let challenge: Value = login.json().await.unwrap();
        assert_eq!(challenge["methods"], json!(["email"]));
        let code = mailer.login_code(email);
        let verified = self
            .post(
                "/api/v1/auth/2fa/verify",
                json!({"challenge_id": challenge["challenge_id"], "code": code}),
            )
            .await;
        assert_eq!(verified.status(), StatusCode::OK);
        verified.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_up_signs_in_uses_the_api_and_signs_out_and_the_account_survives_a_restart()
{
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("nested").join("allomedia.db");
    let mailer = Arc::new(CapturingMailer::default());
    let app = spawn_app(&database, mailer.clone()).await;

    // Register: 202, and a verification mail whose link opens in a browser.
    let registered = app
        .post(
            "/api/v1/auth/register",
            json!({"name": "Amina", "email": "amina@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    mailer.wait_for_mails("amina@example.com", 1).await;
    let mail = mailer.sent().into_iter().last().unwrap();
    let rendered = render(
        &mail,
        &allomedia::adapters::mail::MailLinks::new(url::Url::parse(&app.base).unwrap()).unwrap(),
    )
    .unwrap();
    let link = rendered
        .text
        .split_whitespace()
        .find(|word| word.starts_with(&app.base))
        .expect("the mail carries a link to this server")
        .to_owned();
    // The link opens the verification page, which spends nothing by itself (mail scanners
    // fetch links); pressing its button posts the form that does.
    let opened = app.http.get(&link).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let page = opened.text().await.unwrap();
    assert!(page.contains("<form"), "{page}");
    let query: std::collections::HashMap<String, String> = url::Url::parse(&link)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let pressed = app
        .http
        .post(format!("{}/account/verify-email", app.base))
        .form(&[("token", &query["token"]), ("lang", &query["lang"])])
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), StatusCode::OK);

    // Log in with the password, then the mailed code.
    let tokens = app.login_with_code(&mailer, "amina@example.com").await;
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    // Use the API.
    let me = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], "amina@example.com");
    assert!(me.get("password_hash").is_none());

    // Log out: the same access token stops working at once.
    let logout = app
        .http
        .post(format!("{}/api/v1/auth/logout", app.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let after = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(after.headers()["www-authenticate"], "Bearer");

    // Restart on the same file: the account is still there.
    app.running.stop().await.unwrap();
    let restarted = spawn_app(&database, mailer.clone()).await;
    let tokens = restarted
        .login_with_code(&mailer, "amina@example.com")
        .await;
    assert!(tokens["access_token"].is_string());
    restarted.running.stop().await.unwrap();
}
