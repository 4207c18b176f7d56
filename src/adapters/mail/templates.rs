//! Adapters layer: how each mail of the core looks — subject, plain text and HTML — in the
//! recipient's language. The layout is the askama templates `templates/mail/mail.{txt,html}`
//! (the HTML one escapes every value); the words are the Fluent messages of
//! `locales/<tag>/mail.ftl`. May depend on the core, the i18n adapter, askama and url.

use askama::Template;
use fluent_templates::fluent_bundle::FluentValue;

use super::links::MailLinks;
pub use super::links::NotABaseUrl;
use crate::adapters::i18n;
use crate::core::model::{Locale, Mail, MailMessage, OrderReceipt};

/// A mail ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// One part of a mail's body, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Paragraph(String),
    /// A link to open: a labelled anchor in HTML, the bare address on its own line in text
    /// (mail clients make it clickable, and nothing next to it can be mistaken for part of it).
    Link {
        href: String,
        label: String,
    },
    /// A code or token to type, on its own line.
    Code(String),
    /// A list, one item a line.
    Lines(Vec<String>),
    Strong(String),
}

#[derive(Template)]
#[template(path = "mail/mail.html")]
struct HtmlPart<'a> {
    lang: &'a str,
    dir: &'a str,
    subject: &'a str,
    greeting: &'a str,
    link_fallback: &'a str,
    blocks: &'a [Block],
}

#[derive(Template)]
#[template(path = "mail/mail.txt")]
struct TextPart<'a> {
    greeting: &'a str,
    blocks: &'a [Block],
}

/// Renders `mail` in its recipient's language, its links from `links`.
pub fn render(mail: &Mail, links: &MailLinks) -> Result<RenderedMail, NotABaseUrl> {
    let words = Words(mail.locale);
    let (subject, blocks) = content(mail, links, words)?;
    let greeting = if mail.to_name.trim().is_empty() {
        words.get("mail-greeting")
    } else {
        words.with("mail-greeting-named", &[("name", text(&mail.to_name))])
    };
    let link_fallback = words.get("mail-link-fallback");
    let html = HtmlPart {
        lang: mail.locale.tag(),
        dir: i18n::direction(mail.locale),
        subject: &subject,
        greeting: &greeting,
        link_fallback: &link_fallback,
        blocks: &blocks,
    }
    .render()
    .expect("the mail templates render any values");
    let text = TextPart {
        greeting: &greeting,
        blocks: &blocks,
    }
    .render()
    .expect("the mail templates render any values");
    // One line break at the end, whatever the last block left.
    let text = format!("{}\n", text.trim_end());
    Ok(RenderedMail {
        to: mail.to.as_str().to_owned(),
        to_name: mail.to_name.clone(),
        subject,
        text,
        html,
    })
}

/// The messages of one language.
#[derive(Clone, Copy)]
struct Words(Locale);

impl Words {
    fn get(self, id: &str) -> String {
        i18n::message(self.0, id)
    }

    fn with(self, id: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        i18n::message_with(self.0, id, args)
    }

    fn paragraph(self, id: &str) -> Block {
        Block::Paragraph(self.get(id))
    }

    fn hours(self, count: i64) -> String {
        self.with("mail-hours", &[("count", FluentValue::from(count))])
    }

    fn minutes(self, count: i64) -> String {
        self.with("mail-minutes", &[("count", FluentValue::from(count))])
    }

    /// Minor units as `45.50 MAD` / `45,50 MAD`: every currency the service reports has two
    /// decimals.
    fn amount(self, cents: i64, currency: &str) -> String {
        let sign = if cents < 0 { "-" } else { "" };
        let cents = cents.unsigned_abs();
        self.with(
            "mail-amount",
            &[
                ("units", text(&format!("{sign}{}", cents / 100))),
                ("cents", text(&format!("{:02}", cents % 100))),
                ("currency", text(currency)),
            ],
        )
    }
}

/// A value shown as given (no number formatting).
fn text(value: &str) -> FluentValue<'static> {
    FluentValue::from(value.to_owned())
}

/// A mail whose point is one link (verify, reset): `mail-<kind>-subject`, `-intro`, the link
/// labelled `-button`, how long it works (`-validity`), and what to do if it was not you
/// (`-ignore`).
fn link_mail(words: Words, kind: &str, href: String, validity: String) -> (String, Vec<Block>) {
    let key = |part: &str| format!("mail-{kind}-{part}");
    (
        words.get(&key("subject")),
        vec![
            words.paragraph(&key("intro")),
            Block::Link {
                href,
                label: words.get(&key("button")),
            },
            Block::Paragraph(words.with(&key("validity"), &[("validity", text(&validity))])),
            words.paragraph(&key("ignore")),
        ],
    )
}

/// Subject and body blocks of each kind of mail.
fn content(
    mail: &Mail,
    links: &MailLinks,
    words: Words,
) -> Result<(String, Vec<Block>), NotABaseUrl> {
    let locale = mail.locale;
    Ok(match &mail.message {
        MailMessage::VerifyEmail { token, valid_hours } => link_mail(
            words,
            "verify",
            links.verify_email(token, locale)?,
            words.hours(*valid_hours),
        ),
        MailMessage::RegistrationAttempt => (
            words.get("mail-attempt-subject"),
            vec![
                words.paragraph("mail-attempt-intro"),
                words.paragraph("mail-attempt-if-you"),
                words.paragraph("mail-attempt-if-not"),
            ],
        ),
        // Codes and tokens stay out of subjects, which phones show on a locked screen.
        MailMessage::LoginCode {
            code,
            valid_minutes,
        } => (
            words.get("mail-code-subject"),
            vec![
                words.paragraph("mail-code-intro"),
                Block::Code(code.clone()),
                Block::Paragraph(words.with(
                    "mail-code-validity",
                    &[("validity", text(&words.minutes(*valid_minutes)))],
                )),
                words.paragraph("mail-code-if-not"),
            ],
        ),
        MailMessage::RecoveryCodeUsed { remaining } => (
            words.get("mail-recovery-used-subject"),
            vec![
                Block::Paragraph(format!(
                    "{} {}",
                    words.get("mail-recovery-used-intro"),
                    words.with(
                        "mail-recovery-used-left",
                        &[("remaining", FluentValue::from(*remaining))]
                    )
                )),
                words.paragraph("mail-recovery-used-if-not"),
            ],
        ),
        MailMessage::OrderReceipt(receipt) => order_receipt(receipt, words),
        MailMessage::PasswordReset {
            token,
            valid_minutes,
        } => link_mail(
            words,
            "reset",
            links.reset_password(token, locale)?,
            words.minutes(*valid_minutes),
        ),
        MailMessage::PasswordChanged => (
            words.get("mail-changed-subject"),
            vec![
                words.paragraph("mail-changed-intro"),
                words.paragraph("mail-changed-if-not"),
            ],
        ),
        // No page turns the app off: the token goes to the API, as the mail says.
        MailMessage::TotpEnabled {
            disown_token,
            valid_hours,
        } => (
            words.get("mail-totp-on-subject"),
            vec![
                words.paragraph("mail-totp-on-intro"),
                words.paragraph("mail-totp-on-if-you"),
                words.paragraph("mail-totp-on-if-not"),
                Block::Code(disown_token.clone()),
                Block::Paragraph(words.with(
                    "mail-totp-on-how",
                    &[
                        ("endpoint", text(&links.totp_disown_endpoint()?)),
                        ("validity", text(&words.hours(*valid_hours))),
                    ],
                )),
            ],
        ),
        MailMessage::TotpDisabled => (
            words.get("mail-totp-off-subject"),
            vec![
                words.paragraph("mail-totp-off-intro"),
                words.paragraph("mail-totp-off-if-not"),
            ],
        ),
        MailMessage::RecoveryCodesRegenerated => (
            words.get("mail-codes-new-subject"),
            vec![
                words.paragraph("mail-codes-new-intro"),
                words.paragraph("mail-codes-new-if-not"),
            ],
        ),
    })
}

fn order_receipt(receipt: &OrderReceipt, words: Words) -> (String, Vec<Block>) {
    let at = receipt.delivered_at;
    let date = words.with(
        "mail-date",
        &[
            ("year", text(&at.format("%Y").to_string())),
            ("month", text(&at.format("%m").to_string())),
            ("day", text(&at.format("%d").to_string())),
            ("hour", text(&at.format("%H").to_string())),
            ("minute", text(&at.format("%M").to_string())),
        ],
    );
    let lines = receipt
        .lines
        .iter()
        .map(|line| {
            words.with(
                "mail-receipt-line",
                &[
                    ("quantity", text(&line.quantity.to_string())),
                    ("product", text(&line.name)),
                    (
                        "unit_price",
                        text(&words.amount(line.unit_price_cents, &receipt.currency)),
                    ),
                    (
                        "line_total",
                        text(&words.amount(line.line_total_cents, &receipt.currency)),
                    ),
                ],
            )
        })
        .collect();
    let total = words.amount(receipt.total_cents, &receipt.currency);
    (
        words.get("mail-receipt-subject"),
        vec![
            Block::Paragraph(words.with(
                "mail-receipt-intro",
                &[("order", text(&receipt.order_id)), ("date", text(&date))],
            )),
            Block::Lines(lines),
            Block::Strong(words.with("mail-receipt-total", &[("total", text(&total))])),
            words.paragraph("mail-receipt-thanks"),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::mail::links::LinkTemplate;
    use crate::core::model::{Email, ReceiptLine};

    fn mail(locale: Locale, message: MailMessage) -> Mail {
        Mail {
            to: Email::parse("amina@example.com").unwrap(),
            to_name: "Amina".to_owned(),
            locale,
            message,
        }
    }

    fn links() -> MailLinks {
        MailLinks::new(url::Url::parse("https://shop.example/base/").unwrap()).unwrap()
    }

    fn rendered(locale: Locale, message: MailMessage) -> RenderedMail {
        render(&mail(locale, message), &links()).unwrap()
    }

    fn receipt() -> OrderReceipt {
        OrderReceipt {
            order_id: "0190c0de-0000-7000-8000-000000000001".to_owned(),
            lines: vec![ReceiptLine {
                name: "Tajine <poulet>".to_owned(),
                quantity: 2,
                unit_price_cents: 4550,
                line_total_cents: 9100,
            }],
            total_cents: 9100,
            currency: "MAD".to_owned(),
            delivered_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        }
    }

    /// Every kind of mail, with its English and French subjects.
    fn every_kind() -> Vec<(MailMessage, &'static str, &'static str)> {
        vec![
            (
                MailMessage::VerifyEmail {
                    token: "tok-v".to_owned(),
                    valid_hours: 24,
                },
                "Confirm your email address for allomedia",
                "Confirmez votre adresse e-mail pour allomedia",
            ),
            (
                MailMessage::RegistrationAttempt,
                "Someone tried to register with your address at allomedia",
                "Quelqu’un a tenté de s’inscrire sur allomedia avec votre adresse",
            ),
            (
                MailMessage::LoginCode {
                    code: "042137".to_owned(),
                    valid_minutes: 10,
                },
                "Your allomedia sign-in code",
                "Votre code de connexion allomedia",
            ),
            (
                MailMessage::RecoveryCodeUsed { remaining: 9 },
                "A recovery code was used to sign in to allomedia",
                "Un code de secours a servi à se connecter à allomedia",
            ),
            (
                MailMessage::OrderReceipt(receipt()),
                "Your allomedia order was delivered",
                "Votre commande allomedia a été livrée",
            ),
            (
                MailMessage::PasswordReset {
                    token: "tok-r".to_owned(),
                    valid_minutes: 60,
                },
                "Reset your allomedia password",
                "Réinitialisez votre mot de passe allomedia",
            ),
            (
                MailMessage::PasswordChanged,
                "Your allomedia password was changed",
                "Votre mot de passe allomedia a été modifié",
            ),
            (
                MailMessage::TotpEnabled {
                    disown_token: "dis-123".to_owned(),
                    valid_hours: 72,
                },
                "An authenticator app was turned on for your allomedia account",
                "Une application d’authentification a été activée sur votre compte allomedia",
            ),
            (
                MailMessage::TotpDisabled,
                "The authenticator app of your allomedia account was turned off",
                "L’application d’authentification de votre compte allomedia a été désactivée",
            ),
            (
                MailMessage::RecoveryCodesRegenerated,
                "New recovery codes were made for your allomedia account",
                "De nouveaux codes de secours ont été créés pour votre compte allomedia",
            ),
        ]
    }

    #[test]
    fn every_mail_is_written_in_both_languages_in_text_and_html() {
        for (message, english, french) in every_kind() {
            for (locale, subject, hello) in [
                (Locale::En, english, "Hello Amina,"),
                (Locale::Fr, french, "Bonjour Amina,"),
            ] {
                let mail = rendered(locale, message.clone());

                assert_eq!(mail.subject, subject);
                assert!(
                    mail.text.starts_with(&format!("{hello}\n\n")),
                    "{}",
                    mail.text
                );
                assert!(mail.text.ends_with('\n') && !mail.text.ends_with("\n\n\n"));
                assert!(!mail.text.contains("<p>"), "{}", mail.text);
                let html_lang = format!("<html lang=\"{}\" dir=\"ltr\">", locale.tag());
                assert!(mail.html.contains(&html_lang), "{}", mail.html);
                assert!(
                    mail.html.contains(&format!("<p>{hello}</p>")),
                    "{}",
                    mail.html
                );
                // askama writes an apostrophe as `&#39;`; the typographic one (’) stays.
                let title = format!("<title>{}</title>", subject.replace('\'', "&#39;"));
                assert!(mail.html.contains(&title), "{}", mail.html);
            }
        }
    }

    #[test]
    fn the_french_mails_follow_french_typography() {
        let mail = rendered(Locale::Fr, MailMessage::RegistrationAttempt);

        assert!(
            mail.text.contains("«\u{a0}Mot de passe oublié\u{a0}»"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("Si c’était vous\u{a0}:"),
            "{}",
            mail.text
        );
        assert!(!mail.text.contains(" :"));
    }

    #[test]
    fn the_verification_link_opens_the_account_page_in_the_recipient_language() {
        for locale in Locale::ALL {
            let mail = rendered(
                locale,
                MailMessage::VerifyEmail {
                    token: "a&b<c>".to_owned(),
                    valid_hours: 24,
                },
            );
            let link = format!(
                "https://shop.example/base/account/verify-email?token=a%26b%3Cc%3E&lang={}",
                locale.tag()
            );

            assert!(mail.text.lines().any(|line| line == link), "{}", mail.text);
            let escaped = link.replace('&', "&#38;");
            assert!(
                mail.html.contains(&format!("<a href=\"{escaped}\">")),
                "{}",
                mail.html
            );
        }
        let english = rendered(
            Locale::En,
            MailMessage::VerifyEmail {
                token: "t".to_owned(),
                valid_hours: 24,
            },
        );
        assert!(english.text.contains("for 24 hours"));
        assert!(!english.text.contains("sign-in page"));
    }

    #[test]
    fn the_reset_mail_is_just_a_link_without_an_api_recipe() {
        let english = rendered(
            Locale::En,
            MailMessage::PasswordReset {
                token: "tok-123".to_owned(),
                valid_minutes: 60,
            },
        );
        let french = rendered(
            Locale::Fr,
            MailMessage::PasswordReset {
                token: "tok-123".to_owned(),
                valid_minutes: 60,
            },
        );

        let link = "https://shop.example/base/account/reset-password?token=tok-123&lang=en";
        assert!(
            english.text.lines().any(|line| line == link),
            "{}",
            english.text
        );
        assert!(english.text.contains("for 60 minutes"));
        assert!(french.text.contains("pendant 60 minutes"));
        assert!(french.text.contains("reset-password?token=tok-123&lang=fr"));
        for body in [&english.text, &english.html, &french.text, &french.html] {
            assert!(!body.contains("POST"), "{body}");
            assert!(!body.contains("new_password"), "{body}");
            assert!(!body.contains("Content-Type"), "{body}");
        }
        assert!(!english.subject.contains("tok-123"));
    }

    #[test]
    fn configured_link_templates_replace_the_service_pages() {
        let links = links()
            .with_verify_email(Some(
                LinkTemplate::parse("https://front.example/verify/{token}?hl={lang}").unwrap(),
            ))
            .with_reset_password(Some(
                LinkTemplate::parse("https://front.example/reset?token={token}").unwrap(),
            ));
        let verify = mail(
            Locale::Fr,
            MailMessage::VerifyEmail {
                token: "v1".to_owned(),
                valid_hours: 24,
            },
        );
        let reset = mail(
            Locale::En,
            MailMessage::PasswordReset {
                token: "r 1".to_owned(),
                valid_minutes: 60,
            },
        );

        let verify = render(&verify, &links).unwrap();
        let reset = render(&reset, &links).unwrap();

        assert!(
            verify
                .text
                .lines()
                .any(|l| l == "https://front.example/verify/v1?hl=fr")
        );
        assert!(
            reset
                .text
                .lines()
                .any(|l| l == "https://front.example/reset?token=r+1")
        );
        assert!(
            reset
                .html
                .contains("href=\"https://front.example/reset?token=r+1\"")
        );
    }

    #[test]
    fn names_and_product_names_are_escaped_in_html_only() {
        let hostile = Mail {
            to_name: "<script>alert('x')</script> & \"Co\"".to_owned(),
            ..mail(Locale::En, MailMessage::OrderReceipt(receipt()))
        };

        let mail = render(&hostile, &links()).unwrap();

        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(!mail.html.contains("<poulet>"), "{}", mail.html);
        assert!(
            mail.html
                .contains("Hello &#60;script&#62;alert(&#39;x&#39;)"),
            "{}",
            mail.html
        );
        assert!(
            mail.html.contains("Tajine &#60;poulet&#62;"),
            "{}",
            mail.html
        );
        assert!(
            mail.text
                .starts_with("Hello <script>alert('x')</script> & \"Co\",\n")
        );
    }

    #[test]
    fn the_receipt_lists_each_line_and_the_total_in_each_language() {
        let english = rendered(Locale::En, MailMessage::OrderReceipt(receipt()));
        let french = rendered(Locale::Fr, MailMessage::OrderReceipt(receipt()));

        assert!(
            english
                .text
                .contains("- 2 × Tajine <poulet> at 45.50 MAD: 91.00 MAD\n"),
            "{}",
            english.text
        );
        assert!(english.text.contains("Total: 91.00 MAD"));
        assert!(
            english.text.contains("delivered on 2027-01-15 08:00 UTC"),
            "{}",
            english.text
        );
        assert!(
            french
                .text
                .contains("- 2\u{a0}× Tajine <poulet> à 45,50\u{a0}MAD\u{a0}: 91,00\u{a0}MAD\n"),
            "{}",
            french.text
        );
        assert!(
            french
                .text
                .contains("livrée le 15/01/2027 à 08\u{a0}h\u{a0}00 (UTC)"),
            "{}",
            french.text
        );
        assert!(english.html.contains("<strong>Total: 91.00 MAD</strong>"));
    }

    #[test]
    fn counts_follow_each_language_plural_rules() {
        let left =
            |locale, remaining| rendered(locale, MailMessage::RecoveryCodeUsed { remaining }).text;

        assert!(left(Locale::En, 9).contains("You have 9 recovery codes left."));
        assert!(left(Locale::En, 1).contains("You have 1 recovery code left."));
        assert!(left(Locale::En, 0).contains("no recovery codes left"));
        assert!(left(Locale::Fr, 9).contains("Il vous reste 9 codes de secours."));
        assert!(left(Locale::Fr, 0).contains("aucun code de secours"));
        let one_hour = rendered(
            Locale::Fr,
            MailMessage::VerifyEmail {
                token: "t".to_owned(),
                valid_hours: 1,
            },
        );
        assert!(
            one_hour.text.contains("pendant 1 heure."),
            "{}",
            one_hour.text
        );
    }

    #[test]
    fn codes_and_tokens_stand_on_their_own_line_and_stay_out_of_subjects() {
        let code = rendered(
            Locale::Fr,
            MailMessage::LoginCode {
                code: "042137".to_owned(),
                valid_minutes: 10,
            },
        );
        let disown = rendered(
            Locale::En,
            MailMessage::TotpEnabled {
                disown_token: "dis-123".to_owned(),
                valid_hours: 72,
            },
        );

        assert!(
            code.text.lines().any(|line| line == "042137"),
            "{}",
            code.text
        );
        assert!(code.html.contains(">042137</p>"));
        assert!(disown.text.lines().any(|line| line == "dis-123"));
        assert!(
            disown
                .text
                .contains("https://shop.example/base/api/v1/auth/2fa/totp/disown")
        );
        assert!(!code.subject.contains("042137") && !disown.subject.contains("dis-123"));
    }

    #[test]
    fn an_empty_name_gets_a_plain_greeting() {
        for (locale, hello) in [(Locale::En, "Hello,\n"), (Locale::Fr, "Bonjour,\n")] {
            let nameless = Mail {
                to_name: " ".to_owned(),
                ..mail(locale, MailMessage::PasswordChanged)
            };

            assert!(render(&nameless, &links()).unwrap().text.starts_with(hello));
        }
    }
}
