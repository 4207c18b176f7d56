//! Tests: the store contract of `RateWindowStore`, run against every store adapter — one
//! count per window and key, atomic under a race, purged once the window has ended — and the
//! per-address limit (`RequestLimits`) on each store: of many parallel requests at the limit,
//! exactly the limit is admitted.

use allomedia::adapters::crypto::ManualClock;
use allomedia::core::model::{FixedWindowLimit, RateKey, RateVerdict, RateWindow};
use allomedia::core::request_limit::RequestLimits;

use crate::builders::*;

fn a_key(ip: &str) -> RateKey {
    RateKey::of(Some(ip.parse().unwrap()))
}

/// The minute that starts at `t0()` plus `minutes`.
fn a_window(minutes: i64) -> RateWindow {
    let start = t0() + Duration::minutes(minutes);
    RateWindow {
        start,
        end: start + Duration::minutes(1),
    }
}

async fn count_times<S: Store>(
    store: &S,
    key: &RateKey,
    window: &RateWindow,
    times: usize,
) -> Vec<u64> {
    let mut counts = Vec::new();
    for _ in 0..times {
        counts.push(store.count_request(key, window).await.unwrap());
    }
    counts
}

store_contract! {
    pub async fn requests_are_counted_per_key_and_window<S: Store>(store: Arc<S>) {
        let (amina, karim) = (a_key("203.0.113.7"), a_key("2001:db8:1:2::7"));

        let amina_first = count_times(&*store, &amina, &a_window(0), 3).await;
        let karim_first = count_times(&*store, &karim, &a_window(0), 2).await;
        let amina_next = count_times(&*store, &amina, &a_window(1), 1).await;

        assert_eq!(amina_first, [1, 2, 3]);
        assert_eq!(karim_first, [1, 2]);
        assert_eq!(amina_next, [1]);
        assert_eq!(store.count_request(&amina, &a_window(0)).await.unwrap(), 4);
    }

    pub async fn parallel_requests_each_get_their_own_count<S: Store>(store: Arc<S>) {
        let key = a_key("198.51.100.9");
        store.count_request(&key, &a_window(0)).await.unwrap();

        let mut counts = race(&store, 40, |store, _| async move {
            store
                .count_request(&a_key("198.51.100.9"), &a_window(0))
                .await
                .unwrap()
        })
        .await;

        counts.sort_unstable();
        assert_eq!(counts, (2..=41).collect::<Vec<u64>>());
    }

    pub async fn purging_deletes_ended_windows_and_keeps_open_ones<S: Store>(store: Arc<S>) {
        let key = a_key("203.0.113.7");
        for minute in 0..3 {
            count_times(&*store, &key, &a_window(minute), 2).await;
        }
        count_times(&*store, &a_key("203.0.113.8"), &a_window(0), 1).await;

        // At the end of minute 1: minutes 0 (two keys) and 1 have ended, minute 2 has not begun.
        let deleted = store.purge_rate_windows(a_window(1).end).await.unwrap();
        let again = store.purge_rate_windows(a_window(1).end).await.unwrap();

        assert_eq!((deleted, again), (3, 0));
        assert_eq!(store.count_request(&key, &a_window(0)).await.unwrap(), 1, "purged: starts afresh");
        assert_eq!(store.count_request(&key, &a_window(2)).await.unwrap(), 3, "kept");
    }

    pub async fn parallel_requests_at_the_limit_admit_exactly_the_limit<S: Store>(store: Arc<S>) {
        let now = t0() + Duration::seconds(20);
        let limit = FixedWindowLimit::per_minute(10);
        let limits = RequestLimits::new(store.clone(), Arc::new(ManualClock::new(now)));

        let verdicts = race(&store, 30, move |_, _| {
            let limits = limits.clone();
            async move { limits.admit(&a_key("192.0.2.44"), &limit).await.unwrap() }
        })
        .await;

        let admitted = verdicts.iter().filter(|v| **v == RateVerdict::Admitted).count();
        assert_eq!(admitted, 10, "{verdicts:?}");
        let until_the_next_window = limit.window_at(now).end - now;
        let refused = RateVerdict::Refused { retry_after: until_the_next_window };
        assert_eq!(verdicts.iter().filter(|v| **v == refused).count(), 20);
    }
}
