//! Core layer: the free-text details of a person — name, phone, delivery address.

use std::fmt;
use thiserror::Error;

use super::Locale;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    ControlCharacters,
    #[error("must be 6 to 20 digits, optionally with a leading + and spaces, dots or dashes")]
    NotAPhoneNumber,
}

/// Trims `raw` and checks it is non-empty printable text of at most `max` characters.
pub(super) fn clean_text(raw: &str, max: usize, allow_newlines: bool) -> Result<String, TextError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty);
    }
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && c == '\n'))
    {
        return Err(TextError::ControlCharacters);
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, max = $max:expr, newlines = $newlines:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, TextError> {
                clean_text(raw, $max, $newlines).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A person's display name.
    Name, max = 100, newlines = false
);
text_type!(
    /// A delivery address, possibly on several lines.
    Address, max = 500, newlines = true
);

/// A phone number as people write it: 6 to 20 digits, an optional leading `+`, and spaces,
/// dots or dashes between digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let trimmed = clean_text(raw, 32, false)?;
        let body = trimmed.strip_prefix('+').unwrap_or(&trimmed);
        let digits = body.chars().filter(char::is_ascii_digit).count();
        let allowed = body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-'));
        if !allowed || !(6..=20).contains(&digits) {
            return Err(TextError::NotAPhoneNumber);
        }
        Ok(Self(trimmed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A partial update of the signed-in user's own details. `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChanges {
    pub name: Option<Name>,
    pub phone: Option<Option<Phone>>,
    pub address: Option<Option<Address>>,
    pub locale: Option<Locale>,
}

impl ProfileChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.phone.is_none()
            && self.address.is_none()
            && self.locale.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Amina  ").unwrap().as_str(), "Amina");
        assert_eq!(Name::parse("   "), Err(TextError::Empty));
        assert_eq!(Name::parse(&"x".repeat(101)), Err(TextError::TooLong(100)));
        assert_eq!(Name::parse("a\u{0}b"), Err(TextError::ControlCharacters));
    }

    #[test]
    fn addresses_may_span_lines() {
        assert!(Address::parse("12 rue Atlas\nCasablanca").is_ok());
    }

    #[test]
    fn phones_are_digits_with_light_punctuation() {
        assert!(Phone::parse("+212 6 12-34.56.78").is_ok());
        assert_eq!(Phone::parse("call me"), Err(TextError::NotAPhoneNumber));
        assert_eq!(Phone::parse("12345"), Err(TextError::NotAPhoneNumber));
    }
}
