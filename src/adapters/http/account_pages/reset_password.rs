//! Adapters layer (HTTP): `/account/reset-password` — GET shows the new-password form and
//! spends nothing; POST sets the password through `PasswordRecovery::reset_password`, as the
//! API does (sessions ended, devices forgotten, other reset tokens spent), or shows the form
//! again with the problem next to its field.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response, handler};

use super::language::{is_well_formed_token, page_language, query_value};
use super::views::{Notice, PasswordProblem, notice_page, reset_password_page};
use super::{LinkForm, fault_page, read_link_form};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::RequestClient;
use crate::core::auth::{ResetPasswordError, ResetPasswordRequest};
use crate::core::model::{PasswordError, ValidationErrors};

const NEW_PASSWORD: &str = "new_password";
const NEW_PASSWORD_AGAIN: &str = "new_password_again";

/// The page a mailed link opens: the form, nothing spent.
#[handler]
pub fn page(request: &Request) -> Response {
    let locale = page_language(query_value(request, "lang").as_deref(), request);
    match query_value(request, "token") {
        Some(token) if is_well_formed_token(&token) => {
            reset_password_page(locale, &token, None, StatusCode::OK)
        }
        _ => notice_page(locale, Notice::LinkBroken, StatusCode::BAD_REQUEST),
    }
}

/// The form submitted: the password is set and the token spent, or the form comes back with
/// the problem in place (the token then still works).
#[handler]
pub async fn submit(
    request: &Request,
    Data(services): Data<&Arc<HttpServices>>,
    RequestClient(client): RequestClient,
    body: Body,
) -> Response {
    let fields = ["token", "lang", NEW_PASSWORD, NEW_PASSWORD_AGAIN];
    let LinkForm {
        form,
        locale,
        token,
    } = match read_link_form(request, body, &fields).await {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    let token = token.as_str();
    let new_password = form.get(NEW_PASSWORD).unwrap_or_default();
    if form.get(NEW_PASSWORD_AGAIN).unwrap_or_default() != new_password {
        return reset_password_page(
            locale,
            token,
            Some(PasswordProblem::Mismatch),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let reset = ResetPasswordRequest {
        token: token.to_owned(),
        new_password: new_password.to_owned(),
        client,
    };
    match services.core.password_recovery.reset_password(reset).await {
        Ok(()) => notice_page(locale, Notice::PasswordChanged, StatusCode::OK),
        Err(ResetPasswordError::InvalidToken) => {
            notice_page(locale, Notice::ResetLinkSpent, StatusCode::BAD_REQUEST)
        }
        Err(ResetPasswordError::Invalid(errors)) => reset_password_page(
            locale,
            token,
            Some(password_problem(&errors)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(ResetPasswordError::Unexpected(error)) => fault_page(locale, error),
    }
}

/// Which of the core's password rules refused the new password, read from the core's own
/// errors (its messages are `PasswordError`'s), so that the page states the server's rule
/// rather than a copy of it. A refusal the page does not know is shown as "too guessable",
/// the rule that depends on the person (their name and address are context words).
fn password_problem(errors: &ValidationErrors) -> PasswordProblem {
    let message = errors
        .fields()
        .iter()
        .find(|error| error.field == NEW_PASSWORD)
        .map(|error| error.message.as_str());
    let is = |error: PasswordError| message == Some(error.to_string().as_str());
    if is(PasswordError::TooShort) {
        PasswordProblem::TooShort
    } else if is(PasswordError::TooLong) {
        PasswordProblem::TooLong
    } else {
        PasswordProblem::TooGuessable
    }
}
