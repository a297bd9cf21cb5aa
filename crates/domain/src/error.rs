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
}

impl DomainError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.into(), message.into());
        DomainError::Invalid(errors)
    }
}
