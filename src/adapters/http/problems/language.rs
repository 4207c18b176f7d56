//! Adapters layer (HTTP): the language problem documents are written in — the request's
//! `Accept-Language` when the service speaks it, else English. English, not the service's
//! French default: API clients that send no `Accept-Language` read the same words as before
//! languages existed, and they act on `code`, which never changes.
//!
//! Problems are made deep inside handlers, extractors and middleware that never see the
//! request's headers, so `ReaderLanguage` (outermost middleware) puts the language in a
//! task-local for the request's whole handling.

use poem::http::header;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::adapters::i18n;
use crate::core::model::Locale;

tokio::task_local! {
    static READER: Locale;
}

/// The language of the request being answered; English outside of one.
pub(super) fn reader_language() -> Locale {
    READER.try_with(|locale| *locale).unwrap_or(Locale::En)
}

/// Reads `Accept-Language` once per request for the problem documents it may answer with.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReaderLanguage;

impl<E: Endpoint> Middleware<E> for ReaderLanguage {
    type Output = ReaderLanguageEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ReaderLanguageEndpoint { inner }
    }
}

pub struct ReaderLanguageEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for ReaderLanguageEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> Result<Response> {
        let locale = request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(i18n::negotiate)
            .unwrap_or(Locale::En);
        READER
            .scope(locale, async move {
                // Errors become their responses inside the scope, in the reader's language.
                match self.inner.call(request).await {
                    Ok(response) => Ok(response.into_response()),
                    Err(error) => Ok(error.into_response()),
                }
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outside_a_request_problems_are_in_english() {
        assert_eq!(reader_language(), Locale::En);
    }

    #[tokio::test]
    async fn inside_a_request_problems_are_in_its_language() {
        let inside = READER.scope(Locale::Fr, async { reader_language() }).await;
        assert_eq!(inside, Locale::Fr);
    }
}
