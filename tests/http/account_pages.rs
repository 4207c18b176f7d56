//! The account pages mailed links open (`/account/verify-email`, `/account/reset-password`):
//! opening one spends nothing, the form's POST spends the token through the same use cases as
//! the API, every page exists in every language, and the pages answer under their own strict
//! Content-Security-Policy, uncached and without a referrer.

use chrono::Duration;
use poem::http::StatusCode;

use allomedia::core::model::Locale;
use testkit::PASSWORD;
use testkit::http::{Api, Reply, send};

const FORM: &str = "application/x-www-form-urlencoded";
const NEW_PASSWORD: &str = "tulipe-marteau-orage-42";

async fn get_page(api: &Api, path: &str, accept_language: Option<&str>) -> Reply {
    let mut request = api.client.get(path);
    if let Some(languages) = accept_language {
        request = request.header("accept-language", languages);
    }
    send(request).await
}

async fn post_form(api: &Api, path: &str, body: String) -> Reply {
    send(api.client.post(path).content_type(FORM).body(body)).await
}

fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

#[track_caller]
fn assert_page(reply: &Reply, status: StatusCode, lang: &str, words: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        reply
            .body
            .contains(&format!("<html lang=\"{lang}\" dir=\"ltr\">")),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains(words),
        "{words:?} not in {}",
        reply.body
    );
}

async fn registered(api: &Api, email: &str) -> String {
    assert_eq!(api.register(email).await.status, StatusCode::ACCEPTED);
    api.world.mailer.verification_token(email)
}

async fn verified_can_sign_in(api: &Api, email: &str, password: &str) -> bool {
    api.login(email, password).await.status == StatusCode::ACCEPTED
}

/// The reset page's form, as a person submits it.
async fn submit_reset(api: &Api, token: &str, lang: &str, password: &str, again: &str) -> Reply {
    let fields = [
        ("token", token),
        ("lang", lang),
        ("new_password", password),
        ("new_password_again", again),
    ];
    post_form(api, "/account/reset-password", form(&fields)).await
}

async fn reset_token(api: &Api, email: &str) -> String {
    api.verified_account(email).await;
    let forgot = api
        .post(
            "/api/v1/auth/password/forgot",
            serde_json::json!({"email": email}),
        )
        .await;
    assert_eq!(forgot.status, StatusCode::ACCEPTED);
    api.world.mailer.reset_token(email)
}

// ---- confirming an address ----

#[tokio::test]
async fn opening_the_verification_page_spends_nothing() {
    let api = Api::new();
    let token = registered(&api, "amina@example.com").await;

    for _ in 0..3 {
        let page = get_page(&api, &format!("/account/verify-email?token={token}"), None).await;
        assert_page(&page, StatusCode::OK, "fr", "Confirmer mon adresse");
        assert!(
            page.body
                .contains(&format!("name=\"token\" value=\"{token}\""))
        );
    }

    assert!(!verified_can_sign_in(&api, "amina@example.com", PASSWORD).await);
}

#[tokio::test]
async fn pressing_the_button_confirms_the_address_once() {
    let api = Api::new();
    let token = registered(&api, "amina@example.com").await;

    let done = post_form(
        &api,
        "/account/verify-email",
        form(&[("token", &token), ("lang", "en")]),
    )
    .await;
    assert_page(&done, StatusCode::OK, "en", "Your address is confirmed");
    assert!(verified_can_sign_in(&api, "amina@example.com", PASSWORD).await);

    let again = post_form(
        &api,
        "/account/verify-email",
        form(&[("token", &token), ("lang", "en")]),
    )
    .await;
    assert_page(&again, StatusCode::BAD_REQUEST, "en", "already used");
}

#[tokio::test]
async fn every_verification_page_speaks_french_and_english() {
    for (locale, button, done, spent) in [
        (
            Locale::Fr,
            "Confirmer mon adresse",
            "Votre adresse est confirmée",
            "déjà été utilisé",
        ),
        (
            Locale::En,
            "Confirm my address",
            "Your address is confirmed",
            "already used",
        ),
    ] {
        let api = Api::new();
        let token = registered(&api, "amina@example.com").await;
        let lang = locale.tag();

        let page = get_page(
            &api,
            &format!("/account/verify-email?token={token}&lang={lang}"),
            None,
        )
        .await;
        assert_page(&page, StatusCode::OK, lang, button);
        assert!(
            page.body
                .contains(&format!("name=\"lang\" value=\"{lang}\""))
        );

        let body = form(&[("token", &token), ("lang", lang)]);
        let confirmed = post_form(&api, "/account/verify-email", body.clone()).await;
        assert_page(&confirmed, StatusCode::OK, lang, done);
        let used = post_form(&api, "/account/verify-email", body).await;
        assert_page(&used, StatusCode::BAD_REQUEST, lang, spent);
    }
}

#[tokio::test]
async fn an_expired_verification_link_says_how_to_get_a_new_one() {
    let api = Api::new();
    let token = registered(&api, "amina@example.com").await;
    api.world.clock.advance(Duration::hours(25));

    let expired = post_form(
        &api,
        "/account/verify-email",
        form(&[("token", &token), ("lang", "en")]),
    )
    .await;

    assert_page(&expired, StatusCode::BAD_REQUEST, "en", "has expired");
    assert!(expired.body.contains("To get a new link, sign in"));
    assert!(!verified_can_sign_in(&api, "amina@example.com", PASSWORD).await);
}

// ---- choosing a new password ----

#[tokio::test]
async fn opening_the_reset_page_spends_nothing_and_states_the_servers_rules() {
    let api = Api::new();
    let token = reset_token(&api, "amina@example.com").await;

    let page = get_page(
        &api,
        &format!("/account/reset-password?token={token}&lang=en"),
        None,
    )
    .await;
    assert_page(&page, StatusCode::OK, "en", "Choose a new password");
    assert!(page.body.contains("Between 8 and 128 characters"));
    assert!(page.body.contains("<label for=\"new_password\">"));
    assert!(page.body.contains("<label for=\"new_password_again\">"));

    // The token still works: the page did not spend it.
    let reset = submit_reset(&api, &token, "en", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_page(&reset, StatusCode::OK, "en", "Your password is changed");
}

#[tokio::test]
async fn a_reset_sets_the_password_ends_sessions_and_spends_the_link() {
    let api = Api::new();
    let token = reset_token(&api, "amina@example.com").await;
    let session = api.sign_in("amina@example.com").await;
    let body = form(&[
        ("token", &token),
        ("lang", "fr"),
        ("new_password", NEW_PASSWORD),
        ("new_password_again", NEW_PASSWORD),
    ]);

    let reset = post_form(&api, "/account/reset-password", body.clone()).await;

    assert_page(
        &reset,
        StatusCode::OK,
        "fr",
        "Votre mot de passe est changé",
    );
    assert!(!reset.body.contains(NEW_PASSWORD));
    assert_eq!(
        api.get_as("/api/v1/me", &session.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(!verified_can_sign_in(&api, "amina@example.com", PASSWORD).await);
    assert!(verified_can_sign_in(&api, "amina@example.com", NEW_PASSWORD).await);
    let again = post_form(&api, "/account/reset-password", body).await;
    assert_page(&again, StatusCode::BAD_REQUEST, "fr", "déjà été utilisé");
}

#[tokio::test]
async fn a_refused_password_is_shown_in_place_never_echoed_and_the_link_still_works() {
    for (locale, weak, problem) in [
        (Locale::En, "short", "Too short: at least 8 characters."),
        (Locale::Fr, "short", "Trop court : au moins 8 caractères."),
        (
            Locale::En,
            "password123",
            "Too common or too easy to guess.",
        ),
        (
            Locale::Fr,
            "password123",
            "Trop courant ou trop facile à deviner.",
        ),
    ] {
        let api = Api::new();
        let token = reset_token(&api, "amina@example.com").await;
        let lang = locale.tag();

        let refused = submit_reset(&api, &token, lang, weak, weak).await;

        assert_page(&refused, StatusCode::UNPROCESSABLE_ENTITY, lang, problem);
        assert!(
            refused
                .body
                .contains("<p class=\"error\" id=\"new_password-error\" role=\"alert\">")
        );
        assert!(refused.body.contains("aria-invalid=\"true\""));
        assert!(!refused.body.contains(&format!("value=\"{weak}\"")));
        assert!(verified_can_sign_in(&api, "amina@example.com", PASSWORD).await);
        let page = get_page(
            &api,
            &format!("/account/reset-password?token={token}"),
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn two_different_passwords_are_refused_next_to_the_second_field_without_spending() {
    for (locale, problem) in [
        (Locale::En, "The two passwords differ."),
        (Locale::Fr, "Les deux mots de passe diffèrent."),
    ] {
        let api = Api::new();
        let token = reset_token(&api, "amina@example.com").await;
        let lang = locale.tag();

        let refused =
            submit_reset(&api, &token, lang, NEW_PASSWORD, "tulipe-marteau-orage-43").await;

        assert_page(&refused, StatusCode::UNPROCESSABLE_ENTITY, lang, problem);
        assert!(refused.body.contains("id=\"new_password_again-error\""));
        assert!(!refused.body.contains(NEW_PASSWORD));
        assert!(verified_can_sign_in(&api, "amina@example.com", PASSWORD).await);
    }
}

#[tokio::test]
async fn an_expired_reset_link_says_how_to_get_a_new_one_in_both_languages() {
    for (locale, spent, next) in [
        (Locale::En, "has expired", "Forgot my password"),
        (Locale::Fr, "a expiré", "Mot de passe oublié"),
    ] {
        let api = Api::new();
        let token = reset_token(&api, "amina@example.com").await;
        api.world.clock.advance(Duration::hours(2));
        let lang = locale.tag();

        let expired = submit_reset(&api, &token, lang, NEW_PASSWORD, NEW_PASSWORD).await;

        assert_page(&expired, StatusCode::BAD_REQUEST, lang, spent);
        assert!(expired.body.contains(next));
    }
}

// ---- the language ----

#[tokio::test]
async fn the_links_language_wins_then_the_browsers_then_french() {
    let api = Api::new();
    let page = "/account/verify-email?token=abc";

    let cases = [
        (format!("{page}&lang=en"), Some("fr-MA,fr;q=0.9"), "en"),
        (format!("{page}&lang=EN"), None, "en"),
        (format!("{page}&lang=de"), Some("en-GB,en;q=0.8"), "en"),
        (page.to_owned(), Some("de, en;q=0.5"), "en"),
        (page.to_owned(), Some("fr-MA"), "fr"),
        (page.to_owned(), Some("de"), "fr"),
        (page.to_owned(), None, "fr"),
    ];
    for (path, accept_language, lang) in cases {
        let reply = get_page(&api, &path, accept_language).await;
        assert_page(&reply, StatusCode::OK, lang, "<form method=\"post\"");
    }
}

// ---- headers ----

#[tokio::test]
async fn pages_answer_under_their_own_strict_policy_uncached_and_without_referrer() {
    let api = Api::new();

    for path in [
        "/account/verify-email?token=abc",
        "/account/reset-password?token=abc",
        "/account/verify-email",
    ] {
        let reply = get_page(&api, path, None).await;
        let policy = reply.header("content-security-policy").unwrap();
        assert!(
            policy.starts_with("default-src 'none'; style-src 'sha256-"),
            "{policy}"
        );
        assert!(policy.contains("form-action 'self'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("script-src"));
        assert!(!policy.contains("unsafe"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert!(!reply.body.contains("<script"));
        assert!(!reply.body.contains("http://") && !reply.body.contains("https://"));
    }
}

#[tokio::test]
async fn the_api_keeps_its_own_policy() {
    let api = Api::new();

    let reply = api.get("/api/v1/products").await;

    assert!(
        reply
            .header("content-security-policy")
            .unwrap()
            .contains("form-action 'none'")
    );
}

// ---- bad input ----

#[tokio::test]
async fn a_missing_or_garbled_token_is_an_invalid_link_page_never_a_fault() {
    let api = Api::new();
    let too_long = "a".repeat(300);

    for page in ["/account/verify-email", "/account/reset-password"] {
        for query in ["", "?token=", "?token=%00%ff", "?token=a%20b", "?lang=en"] {
            let reply = get_page(&api, &format!("{page}{query}"), Some("fr")).await;
            let (lang, heading) = if query == "?lang=en" {
                ("en", "This link is incomplete")
            } else {
                ("fr", "Ce lien est incomplet")
            };
            assert_page(&reply, StatusCode::BAD_REQUEST, lang, heading);
        }
        let reply = get_page(&api, &format!("{page}?token={too_long}&lang=en"), None).await;
        assert_page(
            &reply,
            StatusCode::BAD_REQUEST,
            "en",
            "This link is incomplete",
        );
        for body in ["lang=en", "token=&lang=en", "token=%3Cscript%3E&lang=en"] {
            let reply = post_form(&api, page, body.to_owned()).await;
            assert_page(
                &reply,
                StatusCode::BAD_REQUEST,
                "en",
                "This link is incomplete",
            );
        }
        let empty = post_form(&api, page, String::new()).await;
        assert_page(
            &empty,
            StatusCode::BAD_REQUEST,
            "fr",
            "Ce lien est incomplet",
        );
    }
}

#[tokio::test]
async fn a_form_that_is_not_the_pages_own_is_refused_with_a_page() {
    let api = Api::new();
    let token = registered(&api, "amina@example.com").await;

    let unknown_field = post_form(
        &api,
        "/account/verify-email",
        form(&[("token", &token), ("email_verified", "true")]),
    )
    .await;
    let repeated = post_form(
        &api,
        "/account/verify-email",
        form(&[("token", &token), ("token", &token)]),
    )
    .await;
    let json = send(
        api.client
            .post("/account/verify-email")
            .content_type("application/json")
            .body(format!("{{\"token\":\"{token}\"}}")),
    )
    .await;
    let too_large = post_form(
        &api,
        "/account/reset-password",
        form(&[("token", &token), ("new_password", &"x".repeat(5000))]),
    )
    .await;

    for (reply, status) in [
        (&unknown_field, StatusCode::BAD_REQUEST),
        (&repeated, StatusCode::BAD_REQUEST),
        (&json, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (&too_large, StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        assert_page(reply, status, "fr", "Ce formulaire");
    }
    assert!(!verified_can_sign_in(&api, "amina@example.com", PASSWORD).await);
}

#[tokio::test]
async fn the_pages_are_not_api_operations() {
    let spec: serde_json::Value =
        serde_json::from_str(&allomedia::adapters::http::openapi_json()).unwrap();

    let paths = spec["paths"].as_object().unwrap();

    assert!(paths.keys().all(|path| !path.starts_with("/account")));
}
