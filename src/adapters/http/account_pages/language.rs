//! Adapters layer (HTTP): the language of an account page — the link's (`lang`), else the
//! browser's (`Accept-Language`), else the service's default.

use poem::Request;
use poem::http::header::ACCEPT_LANGUAGE;

use crate::adapters::i18n;
use crate::core::model::Locale;

/// `lang` if it is a tag the service speaks, else the best match of the request's
/// `Accept-Language`, else `Locale::default()`.
pub fn page_language(lang: Option<&str>, request: &Request) -> Locale {
    lang.and_then(|tag| tag.parse().ok())
        .or_else(|| {
            request
                .headers()
                .get(ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(i18n::negotiate)
        })
        .unwrap_or_default()
}

/// A query parameter of `request` (the first one named `name`), decoded.
pub fn query_value(request: &Request, name: &str) -> Option<String> {
    url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Whether `token` can be a token the service mailed (URL-safe base64, bounded): anything
/// else is a cut or garbled link, answered without asking the store.
pub fn is_well_formed_token(token: &str) -> bool {
    (1..=256).contains(&token.len())
        && token
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}
