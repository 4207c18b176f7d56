//! Fuzz target: `Email::parse` on any text — never panics, and what it accepts is normalised
//! (trimmed, lower-cased, at most 254 bytes) and parses again to itself.
#![no_main]

use allomedia::core::model::Email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(email) = Email::parse(raw) {
        assert_eq!(email.as_str(), raw.trim().to_lowercase());
        assert!(email.as_str().len() <= 254);
        assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
        assert_eq!(Email::parse(&raw.to_ascii_uppercase()), Ok(email));
    }
});
