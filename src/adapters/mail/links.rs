//! Adapters layer: the links mails carry. Unless a shop configures its own front end
//! (`VERIFY_EMAIL_URL`, `RESET_PASSWORD_URL`), they open the service's account pages under
//! `PUBLIC_URL`, in the recipient's language. May depend on the core and url.

use thiserror::Error;
use url::Url;

use crate::core::model::Locale;

/// `PUBLIC_URL` cannot have paths appended (`mailto:…`, `data:…`); configuration should
/// refuse such a value before any mail is rendered.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("PUBLIC_URL {0} cannot be the base of links")]
pub struct NotABaseUrl(pub String);

/// Why a configured link template was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LinkTemplateError {
    #[error("must contain {{token}}, where the mailed token goes")]
    NoTokenPlaceholder,
    #[error("must be an absolute http:// or https:// URL once {{token}} is filled in ({0})")]
    NotAbsoluteHttp(String),
}

/// A shop's own link, e.g. `https://shop.example/reset?token={token}`: `{token}` becomes the
/// mailed token (percent-encoded), `{lang}`, if present, the recipient's language tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTemplate(String);

impl LinkTemplate {
    pub fn parse(raw: &str) -> Result<Self, LinkTemplateError> {
        if !raw.contains("{token}") {
            return Err(LinkTemplateError::NoTokenPlaceholder);
        }
        let template = Self(raw.trim().to_owned());
        let example = template.fill("token", Locale::default());
        let url = Url::parse(&example)
            .map_err(|error| LinkTemplateError::NotAbsoluteHttp(error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(LinkTemplateError::NotAbsoluteHttp(format!(
                "scheme `{}`",
                url.scheme()
            )));
        }
        Ok(template)
    }

    fn fill(&self, token: &str, locale: Locale) -> String {
        let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        self.0
            .replace("{token}", &token)
            .replace("{lang}", locale.tag())
    }
}

/// Where each mailed link leads.
#[derive(Debug, Clone)]
pub struct MailLinks {
    public_url: Url,
    verify_email: Option<LinkTemplate>,
    reset_password: Option<LinkTemplate>,
}

impl MailLinks {
    /// Links to the service's own pages under `public_url` (its path prefix kept), checked
    /// now rather than at the first mail.
    pub fn new(public_url: Url) -> Result<Self, NotABaseUrl> {
        let links = Self {
            public_url,
            verify_email: None,
            reset_password: None,
        };
        links.under_public_url(&["account"])?;
        Ok(links)
    }

    /// Verification links from `template` (`VERIFY_EMAIL_URL`) instead of the service's page.
    pub fn with_verify_email(mut self, template: Option<LinkTemplate>) -> Self {
        self.verify_email = template;
        self
    }

    /// Reset links from `template` (`RESET_PASSWORD_URL`) instead of the service's page.
    pub fn with_reset_password(mut self, template: Option<LinkTemplate>) -> Self {
        self.reset_password = template;
        self
    }

    /// The link that confirms an address: the configured template, else
    /// `{PUBLIC_URL}/account/verify-email?token=…&lang=…`.
    pub fn verify_email(&self, token: &str, locale: Locale) -> Result<String, NotABaseUrl> {
        self.link(self.verify_email.as_ref(), "verify-email", token, locale)
    }

    /// The link that chooses a new password: the configured template, else
    /// `{PUBLIC_URL}/account/reset-password?token=…&lang=…`.
    pub fn reset_password(&self, token: &str, locale: Locale) -> Result<String, NotABaseUrl> {
        self.link(
            self.reset_password.as_ref(),
            "reset-password",
            token,
            locale,
        )
    }

    /// `{PUBLIC_URL}/api/v1/auth/2fa/totp/disown`, where the "this wasn't me" token is POSTed.
    pub fn totp_disown_endpoint(&self) -> Result<String, NotABaseUrl> {
        self.under_public_url(&["api", "v1", "auth", "2fa", "totp", "disown"])
            .map(String::from)
    }

    fn link(
        &self,
        template: Option<&LinkTemplate>,
        page: &str,
        token: &str,
        locale: Locale,
    ) -> Result<String, NotABaseUrl> {
        if let Some(template) = template {
            return Ok(template.fill(token, locale));
        }
        let mut link = self.under_public_url(&["account", page])?;
        link.query_pairs_mut()
            .append_pair("token", token)
            .append_pair("lang", locale.tag());
        Ok(link.into())
    }

    /// `segments` appended to whatever path prefix `PUBLIC_URL` has, without its query.
    fn under_public_url(&self, segments: &[&str]) -> Result<Url, NotABaseUrl> {
        let mut url = self.public_url.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.path_segments_mut()
            .map_err(|()| NotABaseUrl(self.public_url.to_string()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(public_url: &str) -> MailLinks {
        MailLinks::new(Url::parse(public_url).unwrap()).unwrap()
    }

    #[test]
    fn by_default_links_open_the_service_pages_under_the_public_url_prefix() {
        let links = links("https://shop.example/base/?ignored=1");

        assert_eq!(
            links.verify_email("a b&c", Locale::Fr).unwrap(),
            "https://shop.example/base/account/verify-email?token=a+b%26c&lang=fr"
        );
        assert_eq!(
            links.reset_password("tok", Locale::En).unwrap(),
            "https://shop.example/base/account/reset-password?token=tok&lang=en"
        );
    }

    #[test]
    fn configured_templates_receive_the_encoded_token_and_the_language() {
        let links = links("https://api.example").with_reset_password(Some(
            LinkTemplate::parse("https://shop.example/{lang}/reset?t={token}").unwrap(),
        ));

        assert_eq!(
            links.reset_password("a/b c", Locale::En).unwrap(),
            "https://shop.example/en/reset?t=a%2Fb+c"
        );
        // The other link still opens the service's page.
        assert_eq!(
            links.verify_email("x", Locale::Fr).unwrap(),
            "https://api.example/account/verify-email?token=x&lang=fr"
        );
    }

    #[test]
    fn a_template_without_token_or_not_absolute_http_is_refused() {
        assert_eq!(
            LinkTemplate::parse("https://shop.example/reset"),
            Err(LinkTemplateError::NoTokenPlaceholder)
        );
        for raw in [
            "/reset?token={token}",
            "ftp://shop.example/{token}",
            "javascript:alert({token})",
        ] {
            assert!(
                matches!(
                    LinkTemplate::parse(raw),
                    Err(LinkTemplateError::NotAbsoluteHttp(_))
                ),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_public_url_that_cannot_hold_a_path_is_reported() {
        let refused = MailLinks::new(Url::parse("mailto:admin@example.com").unwrap());

        assert_eq!(
            refused.unwrap_err(),
            NotABaseUrl("mailto:admin@example.com".to_owned())
        );
    }
}
