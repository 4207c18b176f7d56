//! Adapters layer (HTTP): `/account/verify-email` — GET shows the "confirm my address" button
//! and spends nothing; POST spends the token through `Registration::verify_email`, as the API
//! does, and shows how it ended.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response, handler};

use super::language::{is_well_formed_token, page_language, query_value};
use super::views::{Notice, notice_page, verify_email_page};
use super::{LinkForm, fault_page, read_link_form};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::RequestClient;
use crate::core::auth::VerifyEmailError;

/// The page a mailed link opens: a button, nothing spent.
#[handler]
pub fn page(request: &Request) -> Response {
    let locale = page_language(query_value(request, "lang").as_deref(), request);
    match query_value(request, "token") {
        Some(token) if is_well_formed_token(&token) => verify_email_page(locale, &token),
        _ => notice_page(locale, Notice::LinkBroken, StatusCode::BAD_REQUEST),
    }
}

/// The button pressed: the token is spent.
#[handler]
pub async fn confirm(
    request: &Request,
    Data(services): Data<&Arc<HttpServices>>,
    RequestClient(client): RequestClient,
    body: Body,
) -> Response {
    let LinkForm { locale, token, .. } =
        match read_link_form(request, body, &["token", "lang"]).await {
            Ok(form) => form,
            Err(answer) => return answer,
        };
    match services
        .core
        .registration
        .verify_email(&token, &client)
        .await
    {
        Ok(()) => notice_page(locale, Notice::AddressConfirmed, StatusCode::OK),
        Err(VerifyEmailError::InvalidToken) => notice_page(
            locale,
            Notice::VerificationLinkSpent,
            StatusCode::BAD_REQUEST,
        ),
        Err(VerifyEmailError::Unexpected(error)) => fault_page(locale, error),
    }
}
