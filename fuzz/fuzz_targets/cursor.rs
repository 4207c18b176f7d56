//! Fuzz target: `PageRequest::parse` on any limit and cursor — never panics, refuses limits
//! outside 1..=100, and a cursor it accepts names the id it was made from.
#![no_main]

use allomedia::core::model::{Page, PageRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Option<i64>, &str)| {
    let (limit, cursor) = input;
    match PageRequest::parse(limit, Some(cursor)) {
        Ok(request) => {
            assert!(limit.is_none_or(|n| (1..=100).contains(&n)));
            if let Some(id) = request.before {
                // The service's own cursor for that id leads to the same id.
                let page = Page::from_fetched(vec![id, id], PageRequest::first(1), |id| *id);
                let again = PageRequest::parse(None, page.next_cursor.as_deref());
                assert_eq!(again.map(|r| r.before), Ok(Some(id)));
            }
        }
        Err(errors) => assert!(!errors.fields().is_empty()),
    }
});
