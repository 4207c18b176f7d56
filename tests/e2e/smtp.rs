//! End to end with real mail: the application on a free port with `MAIL_URL=smtp://…` pointing
//! at an SMTP server on loopback; the person reads the verification link and the login code from
//! the mails that server received, exactly as they would from their inbox.

use std::time::Duration;

use mail_parser::MessageParser;
use reqwest::StatusCode;
use serde_json::{Value, json};

use allomedia::app;
use allomedia::config::Config;
use testkit::smtp_sink::{Received, SmtpSink};

const PASSWORD: &str = "tulipe-marteau-orage";
const MAIL_WAIT: Duration = Duration::from_secs(10);

/// The plain-text body of a received mail.
fn text_of(received: &Received) -> String {
    let message = MessageParser::default().parse(&received.data).unwrap();
    message.body_text(0).unwrap().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journey_works_with_links_and_codes_read_from_real_mail() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("allomedia.db").display());
    let mail_url = sink.url().to_string();
    let config = Config::from_lookup(|name| match name {
        "HTTP_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(database_url.clone()),
        "MAIL_URL" => Some(mail_url.clone()),
        "MAIL_FROM" => Some("allomedia <no-reply@allomedia.test>".into()),
        "JWT_SECRET" => Some("an end-to-end secret of 32+ bytes!".into()),
        _ => None,
    })
    .unwrap();
    let running = app::start(config).await.unwrap();
    let base = format!("http://{}", running.local_addr);
    let http = reqwest::Client::new();

    // Register; the verification mail arrives over SMTP with a link to this server.
    let registered = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"name": "Amina", "email": "amina@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let verification = &sink.wait_for_messages(1, MAIL_WAIT).await[0];
    assert_eq!(verification.rcpt_to, ["amina@example.com"]);
    let text = text_of(verification);
    // PUBLIC_URL is left at its default, so the link names 127.0.0.1:8080; the token is what
    // this test's server (on another port) needs.
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/account/verify-email?token="))
        .expect("the mail carries the link to the verification page");
    let link = url::Url::parse(link).unwrap();
    let token = link
        .query_pairs()
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    // The API's GET verification, kept for compatibility, spends the same token.
    let clicked = http
        .get(format!("{base}/api/v1/auth/verify-email?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::OK);

    // Log in; the code arrives over SMTP.
    let challenge: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "amina@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code_mail = &sink.wait_for_messages(2, MAIL_WAIT).await[1];
    let code = text_of(code_mail)
        .split_whitespace()
        .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
        .expect("the mail carries a 6-digit code")
        .to_owned();
    let tokens = http
        .post(format!("{base}/api/v1/auth/2fa/verify"))
        .json(&json!({"challenge_id": challenge["challenge_id"], "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens: Value = tokens.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    let me = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    running.stop().await.unwrap();
}
