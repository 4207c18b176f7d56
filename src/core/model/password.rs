//! Core layer: passwords as people choose them, and their stored hashes.

use std::fmt;
use thiserror::Error;

/// A password acceptable for a new account, per NIST SP 800-63B §3.1.1.2: 8 to 128 characters,
/// no composition rules, and not one that attackers try first.
#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("must be at least 8 characters")]
    TooShort,
    #[error("must be at most 128 characters")]
    TooLong,
    #[error("is too common or too easy to guess; try a longer phrase of unrelated words")]
    TooGuessable,
}

/// Words a guesser tries first against this service whoever the user is (OWASP ASVS 5.0
/// 6.1.2 / 6.2.11): the service's name and what it does, in the languages its customers
/// speak. They join each user's own details as zxcvbn's context words (docs/security.md).
pub const SERVICE_WORDS: &[&str] = &[
    "allomedia",
    "allo",
    "media",
    "delivery",
    "livraison",
    "order",
    "commande",
    "courier",
    "coursier",
    "livreur",
    "manager",
    "client",
    "kitchen",
    "cuisine",
    "maroc",
    "morocco",
    "casablanca",
];

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    /// Accepts `raw` as a new password. `context` holds words a guesser would try first
    /// (the user's name and email), so that "alice2024!" is refused for Alice; the service's
    /// own words (`SERVICE_WORDS`) are always added.
    pub fn parse(raw: &str, context: &[&str]) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        // zxcvbn ranks against ~30,000 common passwords plus dictionaries, keyboard walks,
        // dates and the context words. Score 2 means more than 10^6 guesses: out of reach of
        // an online attacker facing our throttling. Its matchers grow faster than linearly
        // with length, and the first 64 characters already decide whether a password is weak.
        let estimated: String = raw.chars().take(64).collect();
        let words: Vec<&str> = context.iter().chain(SERVICE_WORDS).copied().collect();
        let score = zxcvbn::zxcvbn(&estimated, &words).score();
        if u8::from(score) < 2 {
            return Err(PasswordError::TooGuessable);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password hash in PHC string format, as produced by the password-hashing port.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_long_passphrase_without_composition_rules() {
        assert!(Password::parse("correct horse battery staple", &[]).is_ok());
        assert!(Password::parse("tulipe-marteau-orage", &[]).is_ok());
    }

    #[test]
    fn refuses_common_passwords() {
        for raw in [
            "password",
            "12345678",
            "password123",
            "qwertyuiop",
            "iloveyou1",
            "azertyuiop",
        ] {
            assert_eq!(
                Password::parse(raw, &[]).unwrap_err(),
                PasswordError::TooGuessable,
                "{raw}"
            );
        }
    }

    #[test]
    fn refuses_passwords_built_from_the_users_own_details() {
        assert_eq!(
            Password::parse("aliceexample", &["alice", "alice@example.com"]).unwrap_err(),
            PasswordError::TooGuessable
        );
    }

    #[test]
    fn refuses_passwords_built_from_the_services_own_words() {
        for raw in ["allomedia2026", "livraison123", "AlloMedia!1"] {
            assert!(
                matches!(Password::parse(raw, &[]), Err(PasswordError::TooGuessable)),
                "{raw}"
            );
        }
    }

    #[test]
    fn enforces_length_bounds_in_characters() {
        assert_eq!(
            Password::parse("Zq9#x", &[]).unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            Password::parse(&"é".repeat(129), &[]).unwrap_err(),
            PasswordError::TooLong
        );
        assert!(Password::parse(&"Zq9#xLm2".repeat(16), &[]).is_ok());
    }

    #[test]
    fn never_prints_the_secret() {
        let password = Password::parse("correct horse battery staple", &[]).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
