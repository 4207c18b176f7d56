//! Fuzz target: access-token verification on any text — never panics and never accepts a
//! token this service did not sign.
#![no_main]

use std::sync::{Arc, LazyLock};

use allomedia::adapters::crypto::{JwtAccessTokens, ManualClock};
use allomedia::core::ports::AccessTokens;
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

static TOKENS: LazyLock<JwtAccessTokens> = LazyLock::new(|| {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap());
    JwtAccessTokens::new(
        b"fuzzing signing key of 32 bytes!",
        "allomedia".to_owned(),
        "allomedia-api".to_owned(),
        chrono::Duration::minutes(15),
        Arc::new(clock),
    )
    .unwrap()
});

fuzz_target!(|raw: &str| {
    assert!(TOKENS.verify(raw).is_err(), "accepted {raw:?}");
});
