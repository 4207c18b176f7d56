//! Adapters layer: how each mail of the core looks — subject, plain text and HTML.
//! May depend on the core and url; shared by every mail transport.

use thiserror::Error;
use url::Url;

use crate::core::model::{Mail, MailMessage, OrderReceipt};

/// The name people know the service by.
const SERVICE_NAME: &str = "allomedia";

/// A mail ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `PUBLIC_URL` cannot have paths appended (`mailto:…`, `data:…`); configuration should
/// refuse such a value before any mail is rendered.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("PUBLIC_URL {0} cannot be the base of links")]
pub struct NotABaseUrl(pub String);

/// Renders `mail`, building links from `public_url` (the `PUBLIC_URL` setting, path prefix
/// included).
pub fn render(mail: &Mail, public_url: &Url) -> Result<RenderedMail, NotABaseUrl> {
    let greeting = greeting(&mail.to_name);
    let (subject, text, html_body) = match &mail.message {
        MailMessage::VerifyEmail { token, valid_hours } => {
            let link = verification_link(public_url, token)?;
            verify_email(&greeting, link.as_str(), &hours(*valid_hours))
        }
        MailMessage::RegistrationAttempt => registration_attempt(&greeting),
        MailMessage::LoginCode {
            code,
            valid_minutes,
        } => login_code(&greeting, code, &minutes(*valid_minutes)),
        MailMessage::RecoveryCodeUsed { remaining } => recovery_code_used(&greeting, *remaining),
        MailMessage::OrderReceipt(receipt) => order_receipt(&greeting, receipt),
        MailMessage::PasswordReset {
            token,
            valid_minutes,
        } => {
            let endpoint = password_reset_endpoint(public_url)?;
            password_reset(
                &greeting,
                token,
                endpoint.as_str(),
                &minutes(*valid_minutes),
            )
        }
        MailMessage::PasswordChanged => password_changed(&greeting),
        MailMessage::TotpEnabled {
            disown_token,
            valid_hours,
        } => {
            let endpoint = totp_disown_endpoint(public_url)?;
            totp_enabled(
                &greeting,
                disown_token,
                endpoint.as_str(),
                &hours(*valid_hours),
            )
        }
        MailMessage::TotpDisabled => totp_disabled(&greeting),
        MailMessage::RecoveryCodesRegenerated => recovery_codes_regenerated(&greeting),
    };
    Ok(RenderedMail {
        to: mail.to.as_str().to_owned(),
        to_name: mail.to_name.clone(),
        html: html_page(&subject, &html_body),
        subject,
        text,
    })
}

/// `{PUBLIC_URL}/api/v1/auth/verify-email?token=<token>`: path segments appended to whatever
/// prefix `PUBLIC_URL` has, and the token percent-encoded as a query value.
pub fn verification_link(public_url: &Url, token: &str) -> Result<Url, NotABaseUrl> {
    let mut link = public_url.clone();
    link.set_query(None);
    link.set_fragment(None);
    link.path_segments_mut()
        .map_err(|()| NotABaseUrl(public_url.to_string()))?
        .pop_if_empty()
        .extend(["api", "v1", "auth", "verify-email"]);
    link.query_pairs_mut().append_pair("token", token);
    Ok(link)
}

/// `{PUBLIC_URL}/api/v1/auth/password/reset`: where the reset token is POSTed. There is no web
/// front-end, so the mail names the API call instead of a page to open.
pub fn password_reset_endpoint(public_url: &Url) -> Result<Url, NotABaseUrl> {
    let mut endpoint = public_url.clone();
    endpoint.set_query(None);
    endpoint.set_fragment(None);
    endpoint
        .path_segments_mut()
        .map_err(|()| NotABaseUrl(public_url.to_string()))?
        .pop_if_empty()
        .extend(["api", "v1", "auth", "password", "reset"]);
    Ok(endpoint)
}

/// `{PUBLIC_URL}/api/v1/auth/2fa/totp/disown`: where the "this wasn't me" token is POSTed.
pub fn totp_disown_endpoint(public_url: &Url) -> Result<Url, NotABaseUrl> {
    let mut endpoint = public_url.clone();
    endpoint.set_query(None);
    endpoint.set_fragment(None);
    endpoint
        .path_segments_mut()
        .map_err(|()| NotABaseUrl(public_url.to_string()))?
        .pop_if_empty()
        .extend(["api", "v1", "auth", "2fa", "totp", "disown"]);
    Ok(endpoint)
}

/// Subject, plain text and HTML body (the HTML already escaped).
type Parts = (String, String, String);

fn verify_email(greeting: &str, link: &str, validity: &str) -> Parts {
    let subject = format!("Confirm your email address for {SERVICE_NAME}");
    // The link stands alone on its line: mail clients make it clickable, and nothing next to
    // it can be mistaken for part of it.
    let text = format!(
        "{greeting}\n\
         \n\
         Welcome to {SERVICE_NAME}. To confirm that this address is yours, open this link:\n\
         \n\
         {link}\n\
         \n\
         The link works once, for {validity}. After that, ask for a new one from the sign-in page.\n\
         \n\
         If you did not create an account, ignore this mail: without confirmation the account \
         cannot be used.\n"
    );
    let (greeting, link, validity) = (escape(greeting), escape(link), escape(validity));
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>Welcome to {SERVICE_NAME}. To confirm that this address is yours, open this link:</p>\n\
         <p><a href=\"{link}\">Confirm my email address</a></p>\n\
         <p>If the link does not open, paste this address into your browser:<br>{link}</p>\n\
         <p>The link works once, for {validity}. After that, ask for a new one from the sign-in \
         page.</p>\n\
         <p>If you did not create an account, ignore this mail: without confirmation the \
         account cannot be used.</p>"
    );
    (subject, text, html)
}

fn registration_attempt(greeting: &str) -> Parts {
    let subject = format!("Someone tried to register with your address at {SERVICE_NAME}");
    let text = format!(
        "{greeting}\n\
         \n\
         Someone just tried to create an {SERVICE_NAME} account with this email address. You \
         already have an account, so no new one was made and nothing changed on yours.\n\
         \n\
         If it was you: you do not need a new account. Sign in as usual, or, if you forgot \
         your password, reset it with \"Forgot password\" on the sign-in page.\n\
         \n\
         If it was not you, you can ignore this mail.\n"
    );
    let greeting = escape(greeting);
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>Someone just tried to create an {SERVICE_NAME} account with this email address. You \
         already have an account, so no new one was made and nothing changed on yours.</p>\n\
         <p>If it was you: you do not need a new account. Sign in as usual, or, if you forgot \
         your password, reset it with &quot;Forgot password&quot; on the sign-in page.</p>\n\
         <p>If it was not you, you can ignore this mail.</p>"
    );
    (subject, text, html)
}

fn recovery_code_used(greeting: &str, remaining: u64) -> Parts {
    let subject = format!("A recovery code was used to sign in to {SERVICE_NAME}");
    let left = match remaining {
        0 => {
            "You have no recovery codes left: create new ones in your security settings.".to_owned()
        }
        1 => "You have 1 recovery code left.".to_owned(),
        n => format!("You have {n} recovery codes left."),
    };
    let text = format!(
        "{greeting}\n\
         \n\
         One of your recovery codes was just used to sign in to your {SERVICE_NAME} account. \
         It will not work again. {left}\n\
         \n\
         If it was not you, someone has your password and a recovery code: change your \
         password, create new recovery codes and sign out of every session now.\n"
    );
    let greeting = escape(greeting);
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>One of your recovery codes was just used to sign in to your {SERVICE_NAME} account. \
         It will not work again. {left}</p>\n\
         <p>If it was not you, someone has your password and a recovery code: change your \
         password, create new recovery codes and sign out of every session now.</p>"
    );
    (subject, text, html)
}

/// Minor units as `123.45 MAD`: every currency the service reports has two decimals.
fn amount(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", cents / 100, cents % 100)
}

fn order_receipt(greeting: &str, receipt: &OrderReceipt) -> Parts {
    let subject = format!("Your {SERVICE_NAME} order was delivered");
    let delivered_at = receipt.delivered_at.format("%Y-%m-%d %H:%M UTC");
    let lines: Vec<(String, String)> = receipt
        .lines
        .iter()
        .map(|line| {
            (
                format!(
                    "{} × {} at {}",
                    line.quantity,
                    line.name,
                    amount(line.unit_price_cents, &receipt.currency)
                ),
                amount(line.line_total_cents, &receipt.currency),
            )
        })
        .collect();
    let total = amount(receipt.total_cents, &receipt.currency);
    let text_lines: String = lines
        .iter()
        .map(|(what, cost)| format!("- {what}: {cost}\n"))
        .collect();
    let text = format!(
        "{greeting}\n\
         \n\
         Your order {order} was delivered on {delivered_at}. Here is your receipt.\n\
         \n\
         {text_lines}\
         Total: {total}\n\
         \n\
         Thank you for ordering with {SERVICE_NAME}.\n",
        order = receipt.order_id,
    );
    let html_lines: String = lines
        .iter()
        .map(|(what, cost)| format!("<li>{}: {}</li>", escape(what), escape(cost)))
        .collect();
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>Your order {order} was delivered on {delivered_at}. Here is your receipt.</p>\n\
         <ul>{html_lines}</ul>\n\
         <p><strong>Total: {total}</strong></p>\n\
         <p>Thank you for ordering with {SERVICE_NAME}.</p>",
        greeting = escape(greeting),
        order = escape(&receipt.order_id),
        total = escape(&total),
    );
    (subject, text, html)
}

fn password_reset(greeting: &str, token: &str, endpoint: &str, validity: &str) -> Parts {
    // The token stays out of the subject, which phones show on a locked screen.
    let subject = format!("Reset your {SERVICE_NAME} password");
    let text = format!(
        "{greeting}\n\
         \n\
         Someone asked to reset the password of your {SERVICE_NAME} account. Your reset token is:\n\
         \n\
         {token}\n\
         \n\
         To choose a new password, send it with the new password to the API:\n\
         \n\
         POST {endpoint}\n\
         Content-Type: application/json\n\
         \n\
         {{\"token\": \"{token}\", \"new_password\": \"<your new password>\"}}\n\
         \n\
         The token works once, for {validity}. Resetting signs you out everywhere; your second \
         factor, if you set one up, is still asked for at the next sign-in.\n\
         \n\
         If you did not ask for this, ignore this mail: your password stays as it is.\n"
    );
    let (greeting, token, endpoint, validity) = (
        escape(greeting),
        escape(token),
        escape(endpoint),
        escape(validity),
    );
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>Someone asked to reset the password of your {SERVICE_NAME} account. Your reset \
         token is:</p>\n\
         <p style=\"font-family: monospace; font-size: 1.2em; font-weight: bold;\">{token}</p>\n\
         <p>To choose a new password, send it with the new password to the API:</p>\n\
         <pre>POST {endpoint}\n\
         Content-Type: application/json\n\
         \n\
         {{&quot;token&quot;: &quot;{token}&quot;, &quot;new_password&quot;: &quot;&lt;your new \
         password&gt;&quot;}}</pre>\n\
         <p>The token works once, for {validity}. Resetting signs you out everywhere; your \
         second factor, if you set one up, is still asked for at the next sign-in.</p>\n\
         <p>If you did not ask for this, ignore this mail: your password stays as it is.</p>"
    );
    (subject, text, html)
}

fn password_changed(greeting: &str) -> Parts {
    let subject = format!("Your {SERVICE_NAME} password was changed");
    let text = format!(
        "{greeting}\n\
         \n\
         The password of your {SERVICE_NAME} account was just changed, and your other sessions \
         were signed out.\n\
         \n\
         If it was you, there is nothing to do. If it was not, reset your password now with \
         \"forgot password\" (POST /api/v1/auth/password/forgot) and check your second factor.\n"
    );
    let greeting = escape(greeting);
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>The password of your {SERVICE_NAME} account was just changed, and your other \
         sessions were signed out.</p>\n\
         <p>If it was you, there is nothing to do. If it was not, reset your password now with \
         &quot;forgot password&quot; (POST /api/v1/auth/password/forgot) and check your second \
         factor.</p>"
    );
    (subject, text, html)
}

fn totp_enabled(greeting: &str, token: &str, endpoint: &str, validity: &str) -> Parts {
    // The token stays out of the subject, which phones show on a locked screen.
    let subject = format!("An authenticator app was turned on for your {SERVICE_NAME} account");
    let text = format!(
        "{greeting}\n\
         \n\
         An authenticator app was just turned on as the second factor of your {SERVICE_NAME} \
         account. From now on signing in asks for a code from that app or a recovery code; \
         codes by mail are no longer accepted.\n\
         \n\
         If it was you, there is nothing to do.\n\
         \n\
         If it was NOT you, someone has your password and a session. Choose a new password \
         with this token; that turns the app off, signs out every session and forgets every \
         remembered device:\n\
         \n\
         POST {endpoint}\n\
         Content-Type: application/json\n\
         \n\
         {{\"token\": \"{token}\", \"new_password\": \"<your new password>\"}}\n\
         \n\
         The token works once, for {validity}.\n"
    );
    let (greeting, token, endpoint, validity) = (
        escape(greeting),
        escape(token),
        escape(endpoint),
        escape(validity),
    );
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>An authenticator app was just turned on as the second factor of your \
         {SERVICE_NAME} account. From now on signing in asks for a code from that app or a \
         recovery code; codes by mail are no longer accepted.</p>\n\
         <p>If it was you, there is nothing to do.</p>\n\
         <p>If it was <strong>not</strong> you, someone has your password and a session. \
         Choose a new password with this token; that turns the app off, signs out every \
         session and forgets every remembered device:</p>\n\
         <p><code>{token}</code></p>\n\
         <pre>POST {endpoint}\n\
         Content-Type: application/json\n\
         \n\
         {{&quot;token&quot;: &quot;{token}&quot;, &quot;new_password&quot;: &quot;&lt;your new \
         password&gt;&quot;}}</pre>\n\
         <p>The token works once, for {validity}.</p>"
    );
    (subject, text, html)
}

fn totp_disabled(greeting: &str) -> Parts {
    let subject = format!("The authenticator app of your {SERVICE_NAME} account was turned off");
    let text = format!(
        "{greeting}\n\
         \n\
         The authenticator app of your {SERVICE_NAME} account was just turned off, and its \
         recovery codes with it. Signing in now asks for a code sent to this address.\n\
         \n\
         If it was not you, reset your password now with \"forgot password\" \
         (POST /api/v1/auth/password/forgot) and turn the app on again.\n"
    );
    let greeting = escape(greeting);
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>The authenticator app of your {SERVICE_NAME} account was just turned off, and its \
         recovery codes with it. Signing in now asks for a code sent to this address.</p>\n\
         <p>If it was not you, reset your password now with &quot;forgot password&quot; \
         (POST /api/v1/auth/password/forgot) and turn the app on again.</p>"
    );
    (subject, text, html)
}

fn recovery_codes_regenerated(greeting: &str) -> Parts {
    let subject = format!("New recovery codes were made for your {SERVICE_NAME} account");
    let text = format!(
        "{greeting}\n\
         \n\
         New recovery codes were just made for your {SERVICE_NAME} account; the old ones no \
         longer work.\n\
         \n\
         If it was not you, someone has your password and a session: reset your password now \
         with \"forgot password\" (POST /api/v1/auth/password/forgot) and sign out everywhere.\n"
    );
    let greeting = escape(greeting);
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>New recovery codes were just made for your {SERVICE_NAME} account; the old ones no \
         longer work.</p>\n\
         <p>If it was not you, someone has your password and a session: reset your password \
         now with &quot;forgot password&quot; (POST /api/v1/auth/password/forgot) and sign out \
         everywhere.</p>"
    );
    (subject, text, html)
}

fn login_code(greeting: &str, code: &str, validity: &str) -> Parts {
    // The code stays out of the subject, which phones show on a locked screen.
    let subject = format!("Your {SERVICE_NAME} sign-in code");
    let text = format!(
        "{greeting}\n\
         \n\
         Your sign-in code is:\n\
         \n\
         {code}\n\
         \n\
         It works once, for {validity}. Never share it: {SERVICE_NAME} will never ask you for it.\n\
         \n\
         If you are not signing in right now, someone else knows your password: change it.\n"
    );
    let (greeting, code, validity) = (escape(greeting), escape(code), escape(validity));
    let html = format!(
        "<p>{greeting}</p>\n\
         <p>Your sign-in code is:</p>\n\
         <p style=\"font-size: 1.6em; font-weight: bold; letter-spacing: 0.2em;\">{code}</p>\n\
         <p>It works once, for {validity}. Never share it: {SERVICE_NAME} will never ask you \
         for it.</p>\n\
         <p>If you are not signing in right now, someone else knows your password: change \
         it.</p>"
    );
    (subject, text, html)
}

fn html_page(subject: &str, body: &str) -> String {
    let subject = escape(subject);
    format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\">\n\
         <head><meta charset=\"utf-8\"><title>{subject}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.5;\">\n\
         {body}\n\
         </body>\n\
         </html>\n"
    )
}

fn greeting(name: &str) -> String {
    if name.trim().is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {name},")
    }
}

fn hours(count: i64) -> String {
    if count == 1 {
        "1 hour".to_owned()
    } else {
        format!("{count} hours")
    }
}

fn minutes(count: i64) -> String {
    if count == 1 {
        "1 minute".to_owned()
    } else {
        format!("{count} minutes")
    }
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Email;

    fn mail(message: MailMessage) -> Mail {
        Mail {
            to: Email::parse("amina@example.com").unwrap(),
            to_name: "Amina".to_owned(),
            message,
        }
    }

    fn verify(token: &str) -> Mail {
        mail(MailMessage::VerifyEmail {
            token: token.to_owned(),
            valid_hours: 24,
        })
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn the_verification_link_hangs_off_a_public_url_without_a_path() {
        let rendered = render(&verify("abc_DEF-123"), &url("http://127.0.0.1:8080")).unwrap();

        let link = "http://127.0.0.1:8080/api/v1/auth/verify-email?token=abc_DEF-123";
        assert!(
            rendered.text.lines().any(|line| line == link),
            "{}",
            rendered.text
        );
        assert!(rendered.html.contains(&format!("<a href=\"{link}\">")));
    }

    #[test]
    fn the_verification_link_keeps_the_path_prefix_of_the_public_url() {
        for public_url in [
            "https://example.com/shop",
            "https://example.com/shop/",
            "https://example.com/shop/?utm=x#top",
        ] {
            let link = verification_link(&url(public_url), "abc").unwrap();

            assert_eq!(
                link.as_str(),
                "https://example.com/shop/api/v1/auth/verify-email?token=abc",
                "{public_url}"
            );
        }
    }

    #[test]
    fn the_token_is_percent_encoded_in_the_link_and_comes_back_intact() {
        let token = "a+b&c=d/é #";

        let link = verification_link(&url("https://example.com"), token).unwrap();

        assert_eq!(link.query(), Some("token=a%2Bb%26c%3Dd%2F%C3%A9+%23"));
        let pairs: Vec<(String, String)> = link.query_pairs().into_owned().collect();
        assert_eq!(pairs, vec![("token".to_owned(), token.to_owned())]);
    }

    #[test]
    fn the_verification_mail_says_how_long_the_link_works() {
        let rendered = render(&verify("abc"), &url("https://example.com")).unwrap();

        assert_eq!(rendered.subject, "Confirm your email address for allomedia");
        assert!(rendered.text.contains("for 24 hours"));
        assert!(rendered.html.contains("for 24 hours"));
        assert_eq!(rendered.to, "amina@example.com");
        assert_eq!(rendered.to_name, "Amina");
    }

    #[test]
    fn a_single_hour_is_not_written_as_a_plural() {
        let one_hour = mail(MailMessage::VerifyEmail {
            token: "abc".to_owned(),
            valid_hours: 1,
        });

        let rendered = render(&one_hour, &url("https://example.com")).unwrap();

        assert!(rendered.text.contains("for 1 hour."), "{}", rendered.text);
    }

    #[test]
    fn every_interpolated_value_is_escaped_in_the_html() {
        let hostile = Mail {
            to_name: "<script>alert('x')</script> & \"Co\"".to_owned(),
            ..verify("a&b<c>")
        };

        let rendered = render(&hostile, &url("https://example.com")).unwrap();

        assert!(!rendered.html.contains("<script>"));
        assert!(rendered.html.contains(
            "Hello &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Co&quot;,"
        ));
        assert!(
            rendered.html.contains(
                "href=\"https://example.com/api/v1/auth/verify-email?token=a%26b%3Cc%3E\""
            )
        );
        assert!(
            rendered
                .text
                .contains("Hello <script>alert('x')</script> & \"Co\",")
        );
    }

    #[test]
    fn a_link_with_an_ampersand_is_escaped_inside_the_html_attribute() {
        let rendered = render(&verify("abc"), &url("https://example.com/a&b/")).unwrap();

        assert!(
            rendered.html.contains(
                "href=\"https://example.com/a&amp;b/api/v1/auth/verify-email?token=abc\""
            )
        );
    }

    #[test]
    fn the_totp_enabled_mail_carries_the_disown_token_and_its_api_call_out_of_the_subject() {
        let enabled = mail(MailMessage::TotpEnabled {
            disown_token: "dis-123".to_owned(),
            valid_hours: 72,
        });

        let rendered = render(&enabled, &url("https://shop.example/base/")).unwrap();

        assert!(!rendered.subject.contains("dis-123"));
        for body in [&rendered.text, &rendered.html] {
            assert!(body.contains("dis-123"), "{body}");
            assert!(
                body.contains("https://shop.example/base/api/v1/auth/2fa/totp/disown"),
                "{body}"
            );
            assert!(body.contains("72 hours"), "{body}");
        }
    }

    #[test]
    fn the_second_factor_notices_say_what_changed() {
        let disabled = render(&mail(MailMessage::TotpDisabled), &url("https://a.example")).unwrap();
        let regenerated = render(
            &mail(MailMessage::RecoveryCodesRegenerated),
            &url("https://a.example"),
        )
        .unwrap();

        assert!(
            disabled.subject.contains("turned off"),
            "{}",
            disabled.subject
        );
        assert!(
            regenerated.subject.contains("New recovery codes"),
            "{}",
            regenerated.subject
        );
    }

    #[test]
    fn the_reset_mail_shows_the_token_the_api_call_and_how_long_it_works() {
        let reset = mail(MailMessage::PasswordReset {
            token: "tok-123".to_owned(),
            valid_minutes: 60,
        });

        let rendered = render(&reset, &url("https://example.com/shop/")).unwrap();

        assert!(!rendered.subject.contains("tok-123"));
        let endpoint = "POST https://example.com/shop/api/v1/auth/password/reset";
        for body in [&rendered.text, &rendered.html] {
            assert!(body.contains("tok-123"), "{body}");
            assert!(body.contains(endpoint), "{body}");
            assert!(body.contains("for 60 minutes"), "{body}");
        }
        assert!(
            rendered
                .text
                .contains("{\"token\": \"tok-123\", \"new_password\": ")
        );
    }

    #[test]
    fn the_password_changed_mail_says_what_to_do_if_it_was_not_you() {
        let rendered = render(
            &mail(MailMessage::PasswordChanged),
            &url("https://example.com"),
        )
        .unwrap();

        assert_eq!(rendered.subject, "Your allomedia password was changed");
        assert!(rendered.text.contains("If it was not, reset your password"));
    }

    #[test]
    fn a_public_url_that_cannot_hold_a_path_is_reported() {
        let result = render(&verify("abc"), &url("mailto:admin@example.com"));

        assert_eq!(
            result.unwrap_err(),
            NotABaseUrl("mailto:admin@example.com".to_owned())
        );
    }

    #[test]
    fn the_registration_attempt_mail_says_it_can_be_ignored_or_the_password_reset() {
        let rendered = render(
            &mail(MailMessage::RegistrationAttempt),
            &url("https://example.com"),
        )
        .unwrap();

        assert_eq!(
            rendered.subject,
            "Someone tried to register with your address at allomedia"
        );
        for body in [&rendered.text, &rendered.html] {
            assert!(body.contains("Someone just tried to create an allomedia account"));
            assert!(body.contains("you can ignore this mail"));
            assert!(body.contains("if you forgot your password, reset it"));
        }
    }

    #[test]
    fn the_login_code_mail_shows_the_code_and_how_long_it_works() {
        let code = mail(MailMessage::LoginCode {
            code: "042137".to_owned(),
            valid_minutes: 10,
        });

        let rendered = render(&code, &url("https://example.com")).unwrap();

        assert_eq!(rendered.subject, "Your allomedia sign-in code");
        assert!(rendered.text.lines().any(|line| line == "042137"));
        assert!(rendered.html.contains(">042137</p>"));
        assert!(rendered.text.contains("for 10 minutes"));
        assert!(rendered.html.contains("for 10 minutes"));
    }

    #[test]
    fn an_empty_name_gets_a_plain_greeting() {
        let nameless = Mail {
            to_name: String::new(),
            ..mail(MailMessage::RegistrationAttempt)
        };

        let rendered = render(&nameless, &url("https://example.com")).unwrap();

        assert!(rendered.text.starts_with("Hello,\n"));
    }

    #[test]
    fn the_receipt_lists_each_line_and_the_total_and_escapes_product_names() {
        let receipt = crate::core::model::OrderReceipt {
            order_id: "0190c0de-0000-7000-8000-000000000001".to_owned(),
            lines: vec![crate::core::model::ReceiptLine {
                name: "Tajine <poulet>".to_owned(),
                quantity: 2,
                unit_price_cents: 4550,
                line_total_cents: 9100,
            }],
            total_cents: 9100,
            currency: "MAD".to_owned(),
            delivered_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };

        let rendered = render(
            &mail(MailMessage::OrderReceipt(receipt)),
            &url("https://example.com"),
        )
        .unwrap();

        assert_eq!(rendered.subject, "Your allomedia order was delivered");
        assert!(
            rendered
                .text
                .contains("- 2 × Tajine <poulet> at 45.50 MAD: 91.00 MAD")
        );
        assert!(rendered.text.contains("Total: 91.00 MAD"));
        assert!(
            rendered
                .html
                .contains("2 × Tajine &lt;poulet&gt; at 45.50 MAD: 91.00 MAD")
        );
        assert!(!rendered.html.contains("<poulet>"));
    }

    #[test]
    fn the_recovery_code_mail_says_how_many_are_left_and_what_to_do_if_it_was_not_you() {
        let rendered = render(
            &mail(MailMessage::RecoveryCodeUsed { remaining: 9 }),
            &url("https://example.com"),
        )
        .unwrap();

        assert_eq!(
            rendered.subject,
            "A recovery code was used to sign in to allomedia"
        );
        for body in [&rendered.text, &rendered.html] {
            assert!(body.contains("You have 9 recovery codes left."));
            assert!(body.contains("If it was not you"));
        }
    }
}
