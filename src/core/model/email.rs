//! Core layer: email addresses, the identity of an account.

use std::fmt;
use thiserror::Error;

/// A syntactically valid address, trimmed and lower-cased: two spellings of one address are
/// one identity, so one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("is not a valid email address")]
    Invalid,
    #[error("must be at most 254 characters")]
    TooLong,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let normalized = raw.trim().to_lowercase();
        // RFC 5321 caps a forward path at 256 octets including the angle brackets.
        if normalized.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = normalized.rsplit_once('@').ok_or(EmailError::Invalid)?;
        // The library accepts quoted strings, IP literals and dot-less domains that no real
        // mailbox of our clients uses; we require a plain `local@host.tld`.
        let plain_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let plain_local = !local.contains('"') && !local.chars().any(char::is_whitespace);
        if !plain_domain || !plain_local || !email_address::EmailAddress::is_valid(&normalized) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_address_are_one_identity() {
        let a = Email::parse("  Alice@Example.COM ").unwrap();
        let b = Email::parse("alice@example.com").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "alice@example.com");
    }

    #[test]
    fn refuses_what_is_not_a_plain_mailbox() {
        for raw in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "al ice@example.com",
            "alice@exa mple.com",
            "\"a\"@example.com",
            "alice@.example.com",
            "alice@example.com.",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn refuses_overlong_addresses() {
        let raw = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&raw), Err(EmailError::TooLong));
    }
}
