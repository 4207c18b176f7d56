//! Adapters layer (HTTP): a request field that must be a JSON string. poem-openapi's `String`
//! also accepts numbers and booleans (`"name": 42` becomes `"42"`), which would turn a wrong
//! type into a silently accepted value instead of the 400 the contract promises.

use std::borrow::Cow;

use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// A JSON string, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl Type for Text {
    const IS_REQUIRED: bool = true;

    type RawValueType = String;

    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) => Ok(Text(text)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn accepts_strings_only() {
        assert_eq!(
            Text::parse_from_json(Some(json!("42"))).unwrap(),
            Text("42".into())
        );
        for wrong in [json!(42), json!(true), json!(null), json!(["a"]), json!({})] {
            assert!(
                Text::parse_from_json(Some(wrong.clone())).is_err(),
                "{wrong}"
            );
        }
        assert!(Text::parse_from_json(None).is_err());
    }
}
