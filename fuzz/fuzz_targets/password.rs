//! Fuzz target: `Password::parse` on any text and context words — never panics, and its
//! length bounds are counted in characters.
#![no_main]

use allomedia::core::model::{Password, PasswordError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    // The first line is the password, the others are context words (name, email).
    let mut lines = raw.split('\n');
    let password = lines.next().unwrap_or_default();
    let context: Vec<&str> = lines.take(4).collect();
    let chars = password.chars().count();
    match Password::parse(password, &context) {
        Ok(_) | Err(PasswordError::TooGuessable) => {
            assert!((Password::MIN_CHARS..=Password::MAX_CHARS).contains(&chars))
        }
        Err(PasswordError::TooShort) => assert!(chars < Password::MIN_CHARS),
        Err(PasswordError::TooLong) => assert!(chars > Password::MAX_CHARS),
    }
});
