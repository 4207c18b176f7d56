//! Core layer: the languages the service speaks to people (mails, pages, problem documents).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A language the service speaks. A user has one (`PATCH /me`'s `locale`); every mail to them
/// is in it. Adding a language is a variant here and one folder of messages in `locales/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    /// The business and most of its customers speak French first: the language of anyone
    /// who did not say otherwise.
    #[default]
    Fr,
    En,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{0}` is not a language the service speaks (fr, en)")]
pub struct UnknownLocale(pub String);

impl Locale {
    /// Every language, the default first.
    pub const ALL: [Locale; 2] = [Locale::Fr, Locale::En];

    /// The BCP 47 tag, as stored and published.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::En => "en",
        }
    }
}

impl FromStr for Locale {
    type Err = UnknownLocale;

    /// Exactly one of the published tags, in any letter case (BCP 47 tags are case-insensitive).
    /// Regional variants (`fr-MA`) are the HTTP adapter's business: it negotiates them down.
    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        Locale::ALL
            .into_iter()
            .find(|locale| locale.tag().eq_ignore_ascii_case(tag))
            .ok_or_else(|| UnknownLocale(tag.to_owned()))
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_reads_back_from_its_tag() {
        for locale in Locale::ALL {
            assert_eq!(locale.tag().parse::<Locale>(), Ok(locale));
            assert_eq!(locale.tag().to_uppercase().parse::<Locale>(), Ok(locale));
        }
    }

    #[test]
    fn unknown_and_regional_tags_are_refused() {
        for tag in ["de", "", "fr-MA", "english", " fr"] {
            assert_eq!(tag.parse::<Locale>(), Err(UnknownLocale(tag.to_owned())));
        }
    }

    #[test]
    fn french_is_the_default() {
        assert_eq!(Locale::default(), Locale::Fr);
        assert_eq!(Locale::ALL[0], Locale::default());
    }
}
