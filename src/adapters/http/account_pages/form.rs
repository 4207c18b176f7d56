//! Adapters layer (HTTP): a form posted by an account page — `application/x-www-form-urlencoded`,
//! small, only the fields the page has, each once. Anything else is refused before any use
//! case runs (the caller answers with a page, never a crash).

use std::collections::HashMap;

use poem::http::header::CONTENT_TYPE;
use poem::{Body, Request};

/// A page's form is a token, a language tag and two passwords of at most 128 characters:
/// 4 KiB is ample, and much less than the API's body limit.
const FORM_LIMIT_BYTES: usize = 4 * 1024;
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Why a posted form was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum FormRefusal {
    /// Not `application/x-www-form-urlencoded` (415).
    NotAForm,
    /// Over `FORM_LIMIT_BYTES` (413).
    TooLarge,
    /// A field the page does not have, or one given twice (400).
    UnexpectedField,
}

/// The fields of a posted form, by name.
pub struct Form(HashMap<String, String>);

impl Form {
    /// Reads `body` as a form whose fields are among `fields`.
    pub async fn read(request: &Request, body: Body, fields: &[&str]) -> Result<Self, FormRefusal> {
        let is_form = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case(FORM_CONTENT_TYPE));
        if !is_form {
            return Err(FormRefusal::NotAForm);
        }
        let bytes = body
            .into_bytes_limit(FORM_LIMIT_BYTES)
            .await
            .map_err(|_| FormRefusal::TooLarge)?;
        Self::parse(&bytes, fields)
    }

    fn parse(bytes: &[u8], fields: &[&str]) -> Result<Self, FormRefusal> {
        let mut values = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(bytes) {
            if !fields.contains(&name.as_ref()) {
                return Err(FormRefusal::UnexpectedField);
            }
            if values
                .insert(name.into_owned(), value.into_owned())
                .is_some()
            {
                return Err(FormRefusal::UnexpectedField);
            }
        }
        Ok(Form(values))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_are_read_decoded() {
        let form = Form::parse(
            b"token=a-b_c&lang=fr&new_password=x%20y+z",
            &["token", "lang", "new_password"],
        )
        .unwrap();

        assert_eq!(form.get("token"), Some("a-b_c"));
        assert_eq!(form.get("new_password"), Some("x y z"));
        assert_eq!(form.get("absent"), None);
    }

    #[test]
    fn an_unknown_or_repeated_field_refuses_the_form() {
        for body in [&b"token=a&role=manager"[..], b"token=a&token=b"] {
            assert_eq!(
                Form::parse(body, &["token"]).err(),
                Some(FormRefusal::UnexpectedField)
            );
        }
    }
}
