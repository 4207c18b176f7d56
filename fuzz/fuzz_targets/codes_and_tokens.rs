//! Fuzz target: the parsers of codes and tokens a client sends — refresh tokens
//! (`<session>.<generation>.<mac>`), delivery codes, second-factor names — never panic, and
//! what they accept reads back exactly as it was written.
#![no_main]

use allomedia::core::model::{DeliveryCode, RefreshToken, SecondFactor, secrets_match};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Some(token) = RefreshToken::parse(raw) {
        assert_eq!(token.encode(), raw.trim());
        assert!(!token.mac.is_empty() && token.mac.len() <= 128);
    }
    if let Ok(code) = DeliveryCode::parse(raw) {
        assert!(raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit()));
        assert!(code.matches(raw));
    }
    if let Some(method) = SecondFactor::parse(raw) {
        assert_eq!(method.as_str(), raw);
    }
    // Split on a character boundary near the middle: two texts to compare.
    let middle = raw
        .char_indices()
        .map(|(i, _)| i)
        .nth(raw.chars().count() / 2)
        .unwrap_or(raw.len());
    let (a, b) = raw.split_at(middle);
    assert_eq!(secrets_match(a, b), a == b);
});
