//! Fuzz target: TOTP verification on any code, time and stored secret — never panics; a
//! sealed secret that is not one of ours (altered in the store) is an error, not a crash,
//! and any code is accepted only when it is one of the three codes around now.
#![no_main]

use std::sync::LazyLock;

use allomedia::adapters::crypto::SealedTotpEngine;
use allomedia::core::model::SealedTotpSecret;
use allomedia::core::ports::TotpEngine;
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

static ENGINE: LazyLock<(SealedTotpEngine, SealedTotpSecret)> = LazyLock::new(|| {
    let engine = SealedTotpEngine::new(b"fuzzing totp sealing key 32 b!!!", "allomedia").unwrap();
    let secret = engine.new_secret().unwrap();
    (engine, secret)
});

fuzz_target!(|input: (u32, &str, Vec<u8>)| {
    let (seconds, code, sealed) = input;
    let (engine, secret) = &*ENGINE;
    let now = DateTime::from_timestamp(i64::from(seconds), 0).unwrap();
    if let Some(step) = engine.verify(secret, code, now).unwrap() {
        let current = u64::from(seconds) / 30;
        assert!(
            step + 1 >= current && step <= current + 1,
            "step {step} at {current}"
        );
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    }
    // Bytes from a store are either a secret sealed under our key or refused.
    let _ = engine.verify(&SealedTotpSecret::from_bytes(sealed), code, now);
});
