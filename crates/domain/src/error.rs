//! Errors that the domain's rules raise, each naming the field it is about.

use std::collections::BTreeMap;

/// Messages per field path (`items[0].offer.id`), in the order the fields were checked.
pub type FieldErrors = BTreeMap<String, String>;

/// A rule of the domain that a request broke.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// The payload is malformed or breaks a rule; details per field.
    #[error("invalid input: {0:?}")]
    Invalid(FieldErrors),
    /// The entity addressed does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A required parameter is absent.
    #[error("parameter '{0}' is missing")]
    MissingParameter(String),
    /// An entity the payload refers to (an order's customer) does not exist, so the payload could not
    /// be loaded; details per field.
    #[error("unresolved references: {0:?}")]
    Unresolved(FieldErrors),
    /// Stored stock refused the write; each face words it in its dialect.
    #[error("{0}")]
    Refused(crate::stock::Refusal),
}

impl DomainError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.into(), message.into());
        DomainError::Invalid(errors)
    }

    /// The error as per-field messages in the domain's own wording (a batch's per-item results).
    pub fn into_fields(self) -> FieldErrors {
        match self {
            DomainError::Invalid(f) | DomainError::Unresolved(f) => f,
            DomainError::NotFound(what) => FieldErrors::from([(what.clone(), format!("{what} not found."))]),
            DomainError::MissingParameter(p) => FieldErrors::from([(p.clone(), format!("Parameter '{p}' is missing"))]),
            DomainError::Refused(r) => r.fields(),
        }
    }
}

/// Helpers for the domain's tests of refusals.
#[cfg(test)]
pub(crate) mod testing {
    use super::{DomainError, FieldErrors};

    /// The fields of an `Invalid` refusal; any other error fails the test.
    pub(crate) fn invalid(e: DomainError) -> FieldErrors {
        match e {
            DomainError::Invalid(f) => f,
            other => panic!("not invalid: {other:?}"),
        }
    }

    /// One field's message, as a refusal names it.
    pub(crate) fn one(field: &str, message: &str) -> FieldErrors {
        FieldErrors::from([(field.to_string(), message.to_string())])
    }
}
