//! Adapters layer: the words of each language the service speaks, from `locales/<tag>/*.ftl`
//! (Fluent), compiled into the binary. Pages, mails and problem documents take their text here;
//! the core only knows which `Locale` a person reads.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_langneg::{NegotiationStrategy, negotiate_languages};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

use crate::core::model::Locale;

fluent_templates::static_loader! {
    static MESSAGES = {
        locales: "./locales",
        // Never reached for a published locale: the tests below prove every language has
        // every message.
        fallback_language: "en",
        // No Unicode isolation marks around placeholders: mails and pages are plain text and
        // HTML whose readers do not expect invisible characters in codes and links.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static LANGUAGES: LazyLock<Vec<(Locale, LanguageIdentifier)>> = LazyLock::new(|| {
    Locale::ALL
        .into_iter()
        .map(|locale| {
            let id = locale
                .tag()
                .parse()
                .expect("every locale tag is valid BCP 47");
            (locale, id)
        })
        .collect()
});

fn language_of(locale: Locale) -> &'static LanguageIdentifier {
    LANGUAGES
        .iter()
        .find(|(known, _)| *known == locale)
        .map(|(_, id)| id)
        .expect("LANGUAGES lists every locale")
}

/// The message `id` in `locale`, with no placeholders.
pub fn message(locale: Locale, id: &str) -> String {
    MESSAGES.lookup(language_of(locale), id)
}

/// The message `id` in `locale`, its placeholders filled from `args` (`{ $name }` ← `("name", …)`).
/// Numbers passed as numbers are formatted and pluralised by the language's rules.
pub fn message_with(
    locale: Locale,
    id: &str,
    args: &[(&'static str, FluentValue<'static>)],
) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue<'static>> = args
        .iter()
        .map(|(name, value)| (Cow::Borrowed(*name), value.clone()))
        .collect();
    MESSAGES.lookup_with_args(language_of(locale), id, &args)
}

/// The text direction of `locale`'s script, for `<html dir>`: every language so far is
/// left-to-right; Arabic, when it comes, is `rtl`.
pub fn direction(locale: Locale) -> &'static str {
    match locale {
        Locale::Fr | Locale::En => "ltr",
    }
}

/// The best language the service speaks for an `Accept-Language` header (weights and regional
/// variants understood: `fr-MA;q=0.9` is French), or `None` when it speaks none of them.
pub fn negotiate(accept_language: &str) -> Option<Locale> {
    let requested = by_preference(accept_language);
    let available: Vec<&LanguageIdentifier> = LANGUAGES.iter().map(|(_, id)| id).collect();
    let chosen = negotiate_languages(&requested, &available, None, NegotiationStrategy::Lookup);
    let chosen: &LanguageIdentifier = chosen.first()?;
    LANGUAGES
        .iter()
        .find(|(_, id)| id == chosen)
        .map(|(locale, _)| *locale)
}

/// The header's languages, most wanted first (RFC 9110 §12.5.4: by `q`, ties in the order
/// given; `q=0` means "not this one"). Fluent's own parser ignores the weights.
fn by_preference(accept_language: &str) -> Vec<LanguageIdentifier> {
    let mut weighted: Vec<(u16, LanguageIdentifier)> = accept_language
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let tag = parts.next()?.parse().ok()?;
            let weight = parts
                .find_map(|parameter| parameter.strip_prefix("q="))
                .map_or(Some(1000), thousandths)?;
            (weight > 0).then_some((weight, tag))
        })
        .collect();
    weighted.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
    weighted.into_iter().map(|(_, tag)| tag).collect()
}

/// A `q` value (`0` to `1`, up to three decimals) in thousandths; `None` when malformed.
fn thousandths(q: &str) -> Option<u16> {
    let value: f32 = q.parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use fluent_syntax::ast;

    use super::*;

    /// For one language: every message id (by file) and the placeholders it uses.
    type Catalogue = BTreeMap<(String, String), BTreeSet<String>>;

    fn catalogue(locale: Locale) -> Catalogue {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(locale.tag());
        let mut catalogue = Catalogue::new();
        for entry in std::fs::read_dir(&folder).expect("a folder per locale") {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let source = std::fs::read_to_string(&path).unwrap();
            let resource = fluent_syntax::parser::parse(source.as_str())
                .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
            for entry in resource.body {
                if let ast::Entry::Message(message) = entry {
                    let mut placeholders = BTreeSet::new();
                    if let Some(value) = &message.value {
                        collect_variables(value, &mut placeholders);
                    }
                    for attribute in &message.attributes {
                        collect_variables(&attribute.value, &mut placeholders);
                    }
                    catalogue.insert((file.clone(), message.id.name.to_owned()), placeholders);
                }
            }
        }
        catalogue
    }

    fn collect_variables(pattern: &ast::Pattern<&str>, into: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                collect_in_expression(expression, into);
            }
        }
    }

    fn collect_in_expression(expression: &ast::Expression<&str>, into: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Inline(inline) => collect_in_inline(inline, into),
            ast::Expression::Select { selector, variants } => {
                collect_in_inline(selector, into);
                for variant in variants {
                    collect_variables(&variant.value, into);
                }
            }
        }
    }

    fn collect_in_inline(inline: &ast::InlineExpression<&str>, into: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                into.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => {
                collect_in_expression(expression, into)
            }
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for argument in &arguments.positional {
                    collect_in_inline(argument, into);
                }
                for named in &arguments.named {
                    collect_in_inline(&named.value, into);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_language_has_every_message_with_the_same_placeholders() {
        let reference = catalogue(Locale::En);
        assert!(!reference.is_empty());
        for locale in Locale::ALL {
            let other = catalogue(locale);
            let missing: Vec<_> = reference
                .keys()
                .filter(|id| !other.contains_key(*id))
                .collect();
            let extra: Vec<_> = other
                .keys()
                .filter(|id| !reference.contains_key(*id))
                .collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
            assert!(
                extra.is_empty(),
                "{locale} has messages English lacks: {extra:?}"
            );
            for (id, placeholders) in &reference {
                assert_eq!(&other[id], placeholders, "{locale}: placeholders of {id:?}");
            }
        }
    }

    #[test]
    fn every_message_loads_in_every_language() {
        for ((_, id), placeholders) in catalogue(Locale::En) {
            // A message with placeholders only loads with them filled in.
            let args: HashMap<Cow<'static, str>, FluentValue<'static>> = placeholders
                .into_iter()
                .map(|name| (Cow::Owned(name), FluentValue::from(1)))
                .collect();
            for locale in Locale::ALL {
                assert!(
                    MESSAGES
                        .try_lookup_with_args(language_of(locale), &id, &args)
                        .is_some(),
                    "{locale} cannot load {id}"
                );
            }
        }
    }

    #[test]
    fn a_message_is_in_the_language_asked_for() {
        assert_eq!(message(Locale::Fr, "language-name"), "Français");
        assert_eq!(message(Locale::En, "language-name"), "English");
    }

    #[test]
    fn accept_language_picks_the_best_spoken_language() {
        assert_eq!(negotiate("fr"), Some(Locale::Fr));
        assert_eq!(negotiate("fr-MA,fr;q=0.9,en;q=0.8"), Some(Locale::Fr));
        assert_eq!(negotiate("de-DE,en-GB;q=0.7,fr;q=0.5"), Some(Locale::En));
        assert_eq!(negotiate("EN-us"), Some(Locale::En));
        assert_eq!(negotiate("de, ja"), None);
        assert_eq!(negotiate(""), None);
        assert_eq!(negotiate("*"), None);
    }

    #[test]
    fn accept_language_weights_win_over_the_order() {
        assert_eq!(negotiate("en;q=0.2, fr;q=0.8"), Some(Locale::Fr));
        assert_eq!(negotiate("fr;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(negotiate("fr;q=0"), None);
        assert_eq!(
            negotiate("en;q=2, fr;q=0.5"),
            Some(Locale::Fr),
            "a malformed weight drops its entry"
        );
    }

    #[test]
    fn every_language_so_far_reads_left_to_right() {
        for locale in Locale::ALL {
            assert_eq!(direction(locale), "ltr");
        }
    }
}
