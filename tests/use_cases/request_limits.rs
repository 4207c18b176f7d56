//! Tests of the per-address request limit (`RequestLimits`): the verdicts over the in-memory
//! store and a manual clock, and — with a mockall store, since the number of calls is the
//! point — that ended windows are purged once per window, and that a failed purge changes no
//! verdict.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use mockall::predicate::always;

use allomedia::adapters::crypto::ManualClock;
use allomedia::adapters::memory::MemoryStore;
use allomedia::core::model::{FixedWindowLimit, RateKey, RateVerdict, RateWindow};
use allomedia::core::ports::{Clock, RateWindowStore, StoreError};
use allomedia::core::request_limit::RequestLimits;

mockall::mock! {
    pub Windows {}
    #[async_trait]
    impl RateWindowStore for Windows {
        async fn count_request(&self, key: &RateKey, window: &RateWindow) -> Result<u64, StoreError>;
        async fn purge_rate_windows(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    }
}

fn nine_thirty_and_20_seconds() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 3, 9, 30, 20).unwrap())
}

fn key(ip: &str) -> RateKey {
    RateKey::of(Some(ip.parse().unwrap()))
}

#[tokio::test]
async fn the_limit_admits_its_count_per_address_and_window() {
    let clock = nine_thirty_and_20_seconds();
    let limits = RequestLimits::new(Arc::new(MemoryStore::new()), Arc::new(clock.clone()));
    let limit = FixedWindowLimit::per_minute(2);
    let mut verdicts = Vec::new();
    for _ in 0..3 {
        verdicts.push(limits.admit(&key("192.0.2.1"), &limit).await.unwrap());
    }
    let other = limits.admit(&key("192.0.2.2"), &limit).await.unwrap();

    assert_eq!(verdicts[..2], [RateVerdict::Admitted; 2]);
    assert_eq!(
        verdicts[2],
        RateVerdict::Refused {
            retry_after: Duration::seconds(40)
        }
    );
    assert_eq!(other, RateVerdict::Admitted);
    clock.advance(Duration::seconds(40));
    assert_eq!(
        limits.admit(&key("192.0.2.1"), &limit).await.unwrap(),
        RateVerdict::Admitted
    );
}

#[tokio::test]
async fn ended_windows_are_purged_once_per_window_by_its_first_request() {
    let clock = nine_thirty_and_20_seconds();
    let mut store = MockWindows::new();
    store
        .expect_count_request()
        .times(4)
        .returning(|_, _| Ok(1));
    let first_purge = clock.now();
    let second_purge = clock.now() + Duration::minutes(1);
    store
        .expect_purge_rate_windows()
        .withf(move |now| *now == first_purge || *now == second_purge)
        .times(2)
        .returning(|_| Ok(0));
    let limits = RequestLimits::new(Arc::new(store), Arc::new(clock.clone()));
    let limit = FixedWindowLimit::per_minute(10);

    limits.admit(&key("192.0.2.1"), &limit).await.unwrap();
    limits.admit(&key("192.0.2.2"), &limit).await.unwrap();
    clock.advance(Duration::minutes(1));
    limits.admit(&key("192.0.2.1"), &limit).await.unwrap();
    limits.admit(&key("192.0.2.3"), &limit).await.unwrap();
}

#[tokio::test]
async fn a_failed_purge_changes_no_verdict() {
    let mut store = MockWindows::new();
    store.expect_count_request().returning(|_, _| Ok(3));
    store
        .expect_purge_rate_windows()
        .with(always())
        .returning(|_| Err(StoreError::new(anyhow::anyhow!("disk full"))));
    let limits = RequestLimits::new(Arc::new(store), Arc::new(nine_thirty_and_20_seconds()));

    let verdict = limits
        .admit(&key("192.0.2.1"), &FixedWindowLimit::per_minute(2))
        .await
        .unwrap();

    assert_eq!(
        verdict,
        RateVerdict::Refused {
            retry_after: Duration::seconds(40)
        }
    );
}
