//! Core layer: field-level validation errors, gathered so a client can fix all fields at once.

use std::fmt;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every invalid field of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl fmt::Display) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.to_string(),
        });
    }

    /// Keeps the value when it parsed, records the error under `field` when it did not.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keeps the value when it parsed, and the field errors of a part that did not (a page
    /// request, say) alongside this request's own.
    pub fn absorb<T>(&mut self, parsed: Result<T, ValidationErrors>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(errors) => {
                self.0.extend(errors.0);
                None
            }
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        write!(f, "{}", fields.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absorbing_a_failed_part_keeps_its_field_errors_after_ours() {
        let mut errors = ValidationErrors::new();
        errors.add("kind", "unknown");
        let mut part = ValidationErrors::new();
        part.add("limit", "must be between 1 and 100");
        part.add("cursor", "is not a cursor this service returned");

        let absorbed: Option<u32> = errors.absorb(Err(part));
        let kept = errors.absorb(Ok::<_, ValidationErrors>(7));

        assert_eq!(absorbed, None);
        assert_eq!(kept, Some(7));
        let fields: Vec<&str> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "limit", "cursor"]);
    }
}
