//! Adapters layer (HTTP): a JSON field that may be absent, `null` or a value, and says so in
//! the OpenAPI document (`nullable: true`) — poem-openapi's `MaybeUndefined` parses the three
//! cases but publishes a plain, non-nullable schema.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{MaybeUndefined, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// Absent (`Undefined`), explicitly `null` (`Null`), or a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Nullable<T>(pub MaybeUndefined<T>);

impl<T> Nullable<T> {
    /// `None` when absent, `Some(None)` when `null`, `Some(Some(value))` otherwise — the shape
    /// the core uses for "leave alone / clear / set".
    pub fn into_change(self) -> Option<Option<T>> {
        match self.0 {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(value) => Some(Some(value)),
        }
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    /// A value that is always present, possibly `null`.
    fn from(value: Option<T>) -> Self {
        Nullable(MaybeUndefined::from_opt_null(value))
    }
}

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = false;

    type RawValueType = T::RawValueType;

    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        match T::schema_ref() {
            MetaSchemaRef::Inline(schema) => MetaSchemaRef::Inline(Box::new(MetaSchema {
                nullable: true,
                ..*schema
            })),
            reference => MetaSchemaRef::Inline(Box::new(MetaSchema {
                nullable: true,
                all_of: vec![reference],
                ..MetaSchema::ANY
            })),
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_raw_value()
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        self.0.raw_element_iter()
    }

    fn is_none(&self) -> bool {
        self.0.is_undefined()
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        MaybeUndefined::<T>::parse_from_json(value)
            .map(Nullable)
            .map_err(poem_openapi::types::ParseError::propagate)
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<Value> {
        self.0.to_json()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tells_absent_null_and_value_apart() {
        let parse = |value| {
            Nullable::<String>::parse_from_json(value)
                .unwrap()
                .into_change()
        };

        assert_eq!(parse(None), None);
        assert_eq!(parse(Some(json!(null))), Some(None));
        assert_eq!(parse(Some(json!("x"))), Some(Some("x".to_owned())));
    }

    #[test]
    fn is_published_as_nullable() {
        let MetaSchemaRef::Inline(schema) = Nullable::<String>::schema_ref() else {
            panic!("expected an inline schema");
        };
        assert!(schema.nullable);
        assert_eq!(schema.ty, "string");
    }

    #[test]
    fn a_present_value_is_written_even_when_null() {
        assert_eq!(Nullable::<String>::from(None).to_json(), Some(json!(null)));
    }
}
