//! Adapters layer (HTTP): the account pages' HTML — askama templates in `templates/pages/`
//! (escaped automatically), every word from `locales/<tag>/pages.ftl`, one stylesheet inlined
//! and allowed by its hash (`account_page_policy`), nothing loaded from anywhere.

use askama::Template;
use fluent_templates::fluent_bundle::FluentValue;
use poem::Response;
use poem::http::StatusCode;

use crate::adapters::i18n::{self, message};
use crate::core::model::{Locale, Password};

/// The pages' only stylesheet, inlined in each page; the Content-Security-Policy allows
/// exactly this text by its hash.
pub const PAGE_STYLE: &str = include_str!("../../../../templates/pages/style.css");

/// What every page has around its content.
struct Frame {
    lang: &'static str,
    dir: &'static str,
    title: String,
    service: String,
    heading: String,
    style: &'static str,
}

impl Frame {
    fn new(locale: Locale, heading_id: &str) -> Self {
        let heading = message(locale, heading_id);
        Frame {
            lang: locale.tag(),
            dir: i18n::direction(locale),
            title: i18n::message_with(
                locale,
                "page-title",
                &[("heading", FluentValue::from(heading.clone()))],
            ),
            service: message(locale, "service-name"),
            heading,
            style: PAGE_STYLE,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/message.html")]
struct MessagePage {
    frame: Frame,
    paragraphs: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/verify_email.html")]
struct VerifyEmailPage<'a> {
    frame: Frame,
    intro: String,
    button: String,
    token: &'a str,
}

#[derive(Template)]
#[template(path = "pages/reset_password.html")]
struct ResetPasswordPage<'a> {
    frame: Frame,
    intro: String,
    rules: String,
    new_password_label: String,
    again_label: String,
    button: String,
    token: &'a str,
    new_password_error: Option<String>,
    again_error: Option<String>,
}

/// A page that tells how something ended, and what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    AddressConfirmed,
    VerificationLinkSpent,
    PasswordChanged,
    ResetLinkSpent,
    /// The link has no token, or one the service never makes (cut or garbled).
    LinkBroken,
    /// The form posted is not one of these pages' forms.
    FormRefused,
    /// A fault on the service's side; nothing was changed.
    Fault,
}

impl Notice {
    fn messages(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Notice::AddressConfirmed => ("verify-done-heading", &["verify-done-body"]),
            Notice::VerificationLinkSpent => (
                "verify-invalid-heading",
                &["verify-invalid-body", "verify-invalid-next"],
            ),
            Notice::PasswordChanged => ("reset-done-heading", &["reset-done-body"]),
            Notice::ResetLinkSpent => (
                "reset-invalid-heading",
                &["reset-invalid-body", "reset-invalid-next"],
            ),
            Notice::LinkBroken => ("link-broken-heading", &["link-broken-body"]),
            Notice::FormRefused => ("form-refused-heading", &["form-refused-body"]),
            Notice::Fault => ("fault-heading", &["fault-body"]),
        }
    }
}

/// The page of `notice` in `locale`, answered with `status`.
pub fn notice_page(locale: Locale, notice: Notice, status: StatusCode) -> Response {
    let (heading, paragraphs) = notice.messages();
    let page = MessagePage {
        frame: Frame::new(locale, heading),
        paragraphs: paragraphs.iter().map(|id| message(locale, id)).collect(),
    };
    html(page.render(), status)
}

/// The page with the "confirm my address" button, its form carrying `token` and the language.
pub fn verify_email_page(locale: Locale, token: &str) -> Response {
    let page = VerifyEmailPage {
        frame: Frame::new(locale, "verify-heading"),
        intro: message(locale, "verify-intro"),
        button: message(locale, "verify-button"),
        token,
    };
    html(page.render(), StatusCode::OK)
}

/// Why a new password was refused, shown next to the field it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    TooGuessable,
    /// The second typing differs from the first.
    Mismatch,
}

/// The new-password form, with `problem` in place when a submission was refused. The
/// passwords typed are never sent back.
pub fn reset_password_page(
    locale: Locale,
    token: &str,
    problem: Option<PasswordProblem>,
    status: StatusCode,
) -> Response {
    let (min, max) = (
        FluentValue::from(Password::MIN_CHARS),
        FluentValue::from(Password::MAX_CHARS),
    );
    let error = |problem: PasswordProblem| match problem {
        PasswordProblem::TooShort => {
            i18n::message_with(locale, "reset-error-too-short", &[("min", min.clone())])
        }
        PasswordProblem::TooLong => {
            i18n::message_with(locale, "reset-error-too-long", &[("max", max.clone())])
        }
        PasswordProblem::TooGuessable => message(locale, "reset-error-too-guessable"),
        PasswordProblem::Mismatch => message(locale, "reset-error-mismatch"),
    };
    let (new_password_error, again_error) = match problem {
        None => (None, None),
        Some(PasswordProblem::Mismatch) => (None, Some(error(PasswordProblem::Mismatch))),
        Some(other) => (Some(error(other)), None),
    };
    let page = ResetPasswordPage {
        frame: Frame::new(locale, "reset-heading"),
        intro: message(locale, "reset-intro"),
        rules: i18n::message_with(
            locale,
            "reset-rules",
            &[("min", min.clone()), ("max", max.clone())],
        ),
        new_password_label: message(locale, "reset-new-password"),
        again_label: message(locale, "reset-new-password-again"),
        button: message(locale, "reset-button"),
        token,
        new_password_error,
        again_error,
    };
    html(page.render(), status)
}

fn html(rendered: askama::Result<String>, status: StatusCode) -> Response {
    match rendered {
        Ok(body) => Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        // The templates are compiled in; a render failure is a bug, answered opaquely.
        Err(error) => {
            tracing::error!(error = %error, "an account page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into()
        }
    }
}
