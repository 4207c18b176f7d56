//! Tests: the store contract of `StoreHealth`, run against every store adapter.

use crate::builders::*;

store_contract! {
    pub async fn a_working_store_answers_the_ping<S: Store>(store: Arc<S>) {
        let outcome = store.ping().await;

        assert!(outcome.is_ok(), "{outcome:?}");
    }
}
