//! Adapters layer (HTTP): a request field that may be absent but is never `null`. poem-openapi's
//! `Option` reads `null` as absent while publishing a non-nullable schema, so `{"name": null}`
//! was silently taken for "leave the name alone" although the document calls it a wrong type;
//! contract fuzzing (`make fuzz-api`) found it. A `null` here is the 400 of any wrong type.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// Absent (`Optional(None)`) or a value; `null` is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Optional<T>(pub Option<T>);

impl<T> Default for Optional<T> {
    fn default() -> Self {
        Optional(None)
    }
}

impl<T> Optional<T> {
    pub fn into_option(self) -> Option<T> {
        self.0
    }
}

impl<T: Type> Type for Optional<T> {
    const IS_REQUIRED: bool = false;

    type RawValueType = T::RawValueType;

    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("optional_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Optional<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None => Ok(Optional(None)),
            Some(Value::Null) => Err(ParseError::custom(
                "null is not allowed here; leave the field out instead",
            )),
            Some(value) => T::parse_from_json(Some(value))
                .map(|value| Optional(Some(value)))
                .map_err(ParseError::propagate),
        }
    }
}

impl<T: ToJSON> ToJSON for Optional<T> {
    fn to_json(&self) -> Option<Value> {
        self.0.as_ref().and_then(ToJSON::to_json)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn absent_is_none_a_value_is_some_and_null_is_refused() {
        assert_eq!(
            Optional::<bool>::parse_from_json(None).unwrap(),
            Optional(None)
        );
        assert_eq!(
            Optional::<bool>::parse_from_json(Some(json!(true))).unwrap(),
            Optional(Some(true))
        );
        assert!(Optional::<bool>::parse_from_json(Some(json!(null))).is_err());
        assert!(Optional::<bool>::parse_from_json(Some(json!("yes"))).is_err());
    }

    #[test]
    fn is_published_as_the_inner_type_and_not_required() {
        const { assert!(!Optional::<bool>::IS_REQUIRED) };
        assert_eq!(
            format!("{:?}", Optional::<bool>::schema_ref()),
            format!("{:?}", bool::schema_ref())
        );
    }
}
