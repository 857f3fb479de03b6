use serde::{Deserialize, Serialize};

/// Why one form field was refused, in words that tell the person what to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The form field's name (`email`, `password`, `team_name`, ...), as the form submits it.
    pub field: String,
    /// A sentence for the person, e.g. "Use at least 10 characters."
    pub message: String,
}

impl FieldError {
    /// A field error for `field` with a message for the person.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}
