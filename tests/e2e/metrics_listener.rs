//! End to end: `/metrics` is served on `METRICS_ADDR`, a listener of its own, and never on the
//! public one.

use std::sync::Arc;

use reqwest::StatusCode;

use allomedia::app;
use allomedia::config::Config;
use testkit::CapturingMailer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_address_and_not_on_the_public_one() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("allomedia.db").display());
    let config = Config::from_lookup(|name| match name {
        "HTTP_ADDR" => Some("127.0.0.1:0".into()),
        "METRICS_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(database_url.clone()),
        _ => None,
    })
    .unwrap();
    let running = app::start_with_mailer(config, Arc::new(CapturingMailer::default()))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let public = format!("http://{}", running.local_addr);
    let metrics_addr = running.metrics_addr.expect("a metrics listener");

    let probe = http
        .get(format!("{public}/health/live"))
        .send()
        .await
        .unwrap();
    let on_public = http.get(format!("{public}/metrics")).send().await.unwrap();
    let scraped = http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();

    assert_eq!(probe.status(), StatusCode::OK);
    assert_eq!(on_public.status(), StatusCode::NOT_FOUND);
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = scraped.text().await.unwrap();
    assert!(
        text.contains(
            r#"allomedia_http_requests_total{method="GET",route="/health/live",status="2xx"} 1"#
        ),
        "{text}"
    );
    running.stop().await.unwrap();
}
