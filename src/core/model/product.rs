//! Core layer: the catalogue — products, their prices and the currency every amount is in.
//!
//! Money is integer minor units (`price_cents`) so that sums are exact; the currency is one
//! per deployment (configuration), reported next to every amount.

use std::fmt;

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::ProductId;
use super::profile::{TextError, clean_text};

/// An ISO 4217 code: three upper-case ASCII letters (`MAD`, `EUR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

#[derive(Debug, Error, PartialEq, Eq)]
#[error("must be an ISO 4217 code: three upper-case letters")]
pub struct CurrencyError;

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, CurrencyError> {
        if raw.len() == 3 && raw.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(CurrencyError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A product's name as customers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        clean_text(raw, Self::MAX_CHARS, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product's description, possibly on several lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDescription(String);

impl ProductDescription {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        clean_text(raw, Self::MAX_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unit price in minor units: positive, and bounded so that sums of many priced lines stay
/// far from `i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PriceCents(i64);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PriceError {
    #[error("must be greater than 0")]
    NotPositive,
    #[error("must be at most {}", PriceCents::MAX)]
    TooLarge,
}

impl PriceCents {
    /// Ten million units of the currency: more than any one product of a delivery business.
    pub const MAX: i64 = 1_000_000_000;

    pub fn new(cents: i64) -> Result<Self, PriceError> {
        if cents <= 0 {
            Err(PriceError::NotPositive)
        } else if cents > Self::MAX {
            Err(PriceError::TooLarge)
        } else {
            Ok(Self(cents))
        }
    }

    pub fn cents(&self) -> i64 {
        self.0
    }
}

/// One product of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub description: Option<ProductDescription>,
    pub price: PriceCents,
    /// Whether it can be ordered now; unavailable products stay listed for managers to edit.
    pub available: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A partial update of a product. `Some(None)` clears the description.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductChanges {
    pub name: Option<ProductName>,
    pub description: Option<Option<ProductDescription>>,
    pub price: Option<PriceCents>,
    pub available: Option<bool>,
}

impl ProductChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.price.is_none()
            && self.available.is_none()
    }
}

/// Text searched for in product names (`?q=`): trimmed, 1 to 100 printable characters.
/// Stores match it as a plain substring, case-insensitively (at least for ASCII letters) —
/// never as a pattern, so `%`, `_` or `.*` match themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSearch(String);

impl ProductSearch {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        clean_text(raw, Self::MAX_CHARS, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` contains this text, ignoring ASCII case — what every store does.
    pub fn matches(&self, name: &ProductName) -> bool {
        name.as_str()
            .to_ascii_lowercase()
            .contains(&self.0.to_ascii_lowercase())
    }
}

/// Which products a list shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductFilter {
    pub available: Option<bool>,
    pub name_contains: Option<ProductSearch>,
}

impl ProductFilter {
    pub fn admits(&self, product: &Product) -> bool {
        self.available.is_none_or(|a| a == product.available)
            && self
                .name_contains
                .as_ref()
                .is_none_or(|search| search.matches(&product.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_positive_and_bounded() {
        assert_eq!(PriceCents::new(0), Err(PriceError::NotPositive));
        assert_eq!(PriceCents::new(-5), Err(PriceError::NotPositive));
        assert_eq!(
            PriceCents::new(PriceCents::MAX + 1),
            Err(PriceError::TooLarge)
        );
        assert_eq!(PriceCents::new(1250).unwrap().cents(), 1250);
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert_eq!(Currency::parse("MAD").unwrap().as_str(), "MAD");
        for wrong in ["mad", "MA", "MADD", "M4D", ""] {
            assert_eq!(Currency::parse(wrong), Err(CurrencyError), "{wrong}");
        }
    }

    #[test]
    fn a_search_matches_a_substring_ignoring_case_and_treats_wildcards_literally() {
        let name = ProductName::parse("Tajine 100% poulet").unwrap();

        assert!(ProductSearch::parse("TAJINE").unwrap().matches(&name));
        assert!(ProductSearch::parse("100%").unwrap().matches(&name));
        assert!(!ProductSearch::parse("t_jine").unwrap().matches(&name));
        assert!(!ProductSearch::parse(".*").unwrap().matches(&name));
    }
}
