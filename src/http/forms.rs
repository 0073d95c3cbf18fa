//! The one convention of Tern's HTML forms (see `templates/macros/forms.html`): the messages of
//! a form that was not accepted, looked up by field name beside each field and listed above the
//! form, and the options of a select.

use axum::http::StatusCode;

use crate::error::{Error, FieldError};
use crate::http::errors::FORM_REFUSED;

/// The field name of a message about the whole form rather than one of its fields.
pub const FORM: &str = "form";

/// What was wrong with a posted form, one message per field (`crate::error::Error::Invalid`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// One message about the whole form (a provider that did not answer, too many attempts).
    pub fn form(message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(FORM, message)])
    }

    /// The field errors of `error`, or `error` itself when it is not about the form's fields.
    pub fn of(error: Error) -> Result<Self, Error> {
        match error {
            Error::Invalid(fields) => Ok(Self(fields)),
            other => Err(other),
        }
    }

    /// What a form page shows for a refused `error`, and its status: field errors beside their
    /// fields ([`FORM_REFUSED`]); too many attempts as a message about the whole form (429,
    /// with its wait); anything else is not about the form and stays `Err`.
    pub fn refusal(error: Error) -> Result<(StatusCode, Self), Error> {
        match error {
            Error::Invalid(fields) => Ok((FORM_REFUSED, Self(fields))),
            Error::RateLimited(message) => Ok((StatusCode::TOO_MANY_REQUESTS, Self::form(message))),
            other => Err(other),
        }
    }

    /// The message for `field`, shown beside it.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// Every message, in the order the checks found them, for the summary above the form.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// "One field needs your attention:" (`""` when only the whole form has a message).
    pub fn lead(&self) -> String {
        match self.0.iter().filter(|e| e.field != FORM).count() {
            0 => String::new(),
            1 => "One field needs your attention:".into(),
            n => format!("{n} fields need your attention:"),
        }
    }
}

impl From<Vec<FieldError>> for FieldErrors {
    fn from(errors: Vec<FieldError>) -> Self {
        Self(errors)
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// One option of a select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self { value: value.into(), label: label.into() }
    }
}

/// Reads posted form pairs into `T`, with each of `checkboxes` as a bool: a browser sends a
/// checked box as its value (`on`, unless the page says otherwise) and leaves an unchecked one
/// out, so "on", "true", "1" and "yes" read as true and anything else as false.
pub fn with_checkboxes<T: serde::de::DeserializeOwned>(
    pairs: Vec<(String, String)>,
    checkboxes: &[&str],
) -> Result<T, Error> {
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.into_iter().map(|(name, value)| {
            if checkboxes.contains(&name.as_str()) {
                let checked = matches!(value.trim(), "on" | "true" | "1" | "yes");
                (name, checked.to_string())
            } else {
                (name, value)
            }
        }))
        .finish();
    serde_urlencoded::from_str(&encoded)
        .map_err(|_| Error::BadRequest { code: "malformed_form", message: "The form could not be read.".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_found_by_field_and_counted_for_the_summary() {
        let errors = FieldErrors::from(vec![
            FieldError::new("email", "Enter your email."),
            FieldError::new("password", "Too short."),
            FieldError::new(FORM, "Try again."),
        ]);
        assert_eq!(errors.get("email"), Some("Enter your email."));
        assert_eq!(errors.get("name"), None);
        assert_eq!(errors.lead(), "2 fields need your attention:");
        assert_eq!(errors.iter().count(), 3);
        assert_eq!(FieldErrors::form("Try again.").lead(), "");
        assert!(FieldErrors::default().is_empty());
        assert!(FieldErrors::of(Error::NotFound("order")).is_err());
        assert_eq!(
            FieldErrors::of(Error::invalid("note", "Write.")).unwrap().lead(),
            "One field needs your attention:"
        );
    }
}
