//! Adapters layer (HTTP): the Content-Security-Policies of the service's HTML pages: the
//! Swagger UI page (`/docs`) and the account pages (`/account/…`).
//! poem-openapi inlines Swagger UI's script and stylesheet into the page, so the policy allows
//! exactly those inline scripts by their SHA-256 hash — never `'unsafe-inline'` for scripts —
//! and lets the page call the API at its server URL only.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use url::Url;

/// The policy for `page`, an HTML page whose inline `<script>` elements are allowed by hash,
/// sending its requests to `server_url`.
///
/// Styles are allowed inline: Swagger UI sets `style` attributes from its script, which no
/// hash can allow (`'unsafe-hashes'` would need every value in advance). The trade-off: an
/// injection into this page could restyle it, but not run a script; the page shows the public
/// OpenAPI document only and holds no session.
pub fn swagger_ui_policy(page: &str, server_url: &str) -> String {
    let scripts: Vec<String> = inline_elements(page, "script").map(source_hash).collect();
    let mut connect = vec!["'self'".to_owned()];
    if let Ok(url) = Url::parse(server_url) {
        connect.push(url.origin().ascii_serialization());
    }
    format!(
        "default-src 'none'; script-src {}; style-src 'unsafe-inline'; img-src 'self' data:; \
         connect-src {}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        scripts.join(" "),
        connect.join(" "),
    )
}

/// The policy of the account pages: they run no script, load nothing but their one inline
/// stylesheet (allowed by its hash) and an empty inline icon, post their forms to this
/// service only, and are framed by no one (their buttons must not be clickjacked).
pub fn account_page_policy(stylesheet: &str) -> String {
    format!(
        "default-src 'none'; style-src {}; img-src data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
        source_hash(stylesheet)
    )
}

/// The CSP source that allows an inline element whose text is `text`.
fn source_hash(text: &str) -> String {
    format!("'sha256-{}'", STANDARD.encode(Sha256::digest(text)))
}

/// The text of every `<tag …>…</tag>` element of `page`, as the browser hashes it.
fn inline_elements<'a>(page: &'a str, tag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = page;
    std::iter::from_fn(move || {
        let start = rest.find(&open)?;
        let after_open = &rest[start..];
        let body_start = after_open.find('>')? + 1;
        let body = &after_open[body_start..];
        let end = body.find(&close)?;
        rest = &body[end + close.len()..];
        Some(&body[..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<html><head><style>b{}</style><script charset=\"UTF-8\">one()</script>\
                        </head><body><script>\n two() \n</script></body></html>";

    fn hash(text: &str) -> String {
        format!("'sha256-{}'", STANDARD.encode(Sha256::digest(text)))
    }

    #[test]
    fn every_inline_script_is_allowed_by_its_hash_and_nothing_else_runs() {
        let policy = swagger_ui_policy(PAGE, "https://api.example.com/base");

        let script_src = policy
            .split("; ")
            .find(|directive| directive.starts_with("script-src "))
            .unwrap();
        assert_eq!(
            script_src,
            format!("script-src {} {}", hash("one()"), hash("\n two() \n"))
        );
        assert!(!script_src.contains("unsafe"));
        assert!(policy.starts_with("default-src 'none'; "));
        assert!(policy.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn account_pages_may_use_their_stylesheet_and_post_to_the_service_only() {
        let policy = account_page_policy("b{}");

        assert!(policy.starts_with("default-src 'none'; "));
        assert!(policy.contains(&format!("style-src {};", hash("b{}"))));
        assert!(policy.contains("form-action 'self'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("script-src"));
        assert!(!policy.contains("unsafe"));
    }

    #[test]
    fn the_page_may_call_its_own_origin_and_the_server_url_only() {
        let policy = swagger_ui_policy(PAGE, "https://api.example.com/base");

        assert!(policy.contains("connect-src 'self' https://api.example.com;"));
    }
}
