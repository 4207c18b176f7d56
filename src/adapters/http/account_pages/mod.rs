//! Adapters layer (HTTP): the account pages people open from their mail —
//! `/account/verify-email` and `/account/reset-password` — server-rendered HTML in the link's
//! or the browser's language. Opening a page (GET) spends nothing: mail scanners and link
//! previews fetch links. The token is spent by the form's POST, through the same use cases as
//! the API (same rules, audit and throttling). Outside the OpenAPI document: they are pages
//! for people, not API operations.
//!
//! `language` picks the page's language, `form` reads a posted form, `views` renders the
//! pages (askama templates in `templates/pages/`, words from `locales/*/pages.ftl`),
//! `verify_email` and `reset_password` are the handlers.

mod form;
mod language;
mod reset_password;
mod verify_email;
mod views;

use poem::http::StatusCode;
use poem::{Body, Request, Response, Route, get};

use self::form::{Form, FormRefusal};
use self::language::{is_well_formed_token, page_language};
use self::views::{Notice, notice_page};
use crate::adapters::http::problems::{ApiError, fault};
use crate::core::model::Locale;

pub use views::PAGE_STYLE;

/// Where the pages live; their Content-Security-Policy and rate limit apply under it.
pub const ACCOUNT_PAGES_PREFIX: &str = "/account/";
pub const VERIFY_EMAIL_PAGE: &str = "/account/verify-email";
pub const RESET_PASSWORD_PAGE: &str = "/account/reset-password";

/// `routes` with the pages added (at their full paths: poem nests one route table per prefix).
pub fn with_account_pages(routes: Route) -> Route {
    routes
        .at(
            VERIFY_EMAIL_PAGE,
            get(verify_email::page).post(verify_email::confirm),
        )
        .at(
            RESET_PASSWORD_PAGE,
            get(reset_password::page).post(reset_password::submit),
        )
}

/// A posted form that is not one of these pages' forms: a page saying so, in the browser's
/// language (the form's own `lang` cannot be trusted).
/// A page's posted form with a well-formed `token`, and the language it asks for.
struct LinkForm {
    form: Form,
    locale: Locale,
    token: String,
}

/// Reads a page's form (only `fields`), its language and its token; the page that answers a
/// refused form or a broken link otherwise.
async fn read_link_form(
    request: &Request,
    body: Body,
    fields: &[&str],
) -> Result<LinkForm, Response> {
    let form = Form::read(request, body, fields)
        .await
        .map_err(|refusal| refused_form_page(request, &refusal))?;
    let locale = page_language(form.get("lang"), request);
    let token = match form.get("token") {
        Some(token) if is_well_formed_token(token) => token.to_owned(),
        _ => {
            return Err(notice_page(
                locale,
                Notice::LinkBroken,
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    Ok(LinkForm {
        form,
        locale,
        token,
    })
}

fn refused_form_page(request: &Request, refusal: &FormRefusal) -> Response {
    let status = match refusal {
        FormRefusal::NotAForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        FormRefusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        FormRefusal::UnexpectedField => StatusCode::BAD_REQUEST,
    };
    let locale = language::page_language(None, request);
    notice_page(locale, Notice::FormRefused, status)
}

/// A fault while spending a token: logged once with its cause (as the API does), answered
/// with a page that says nothing changed — 503 when the store ran out of time, else 500.
fn fault_page(locale: Locale, error: anyhow::Error) -> Response {
    let status = match fault(error) {
        ApiError::StoreTimeout => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    notice_page(locale, Notice::Fault, status)
}
