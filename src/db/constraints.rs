//! Writes PostgreSQL refused, as the form field they concern (realworld's `on_constraint`).

use sqlx::error::ErrorKind;

/// What a refused write means.
#[derive(Debug)]
pub enum Refusal {
    /// A constraint that belongs to one field: the message to show beside it.
    Field { field: &'static str, message: &'static str },
    /// A constraint no field explains (the data changed meanwhile): its name, for the log.
    Constraint(String),
    /// Not a constraint at all.
    Other(sqlx::Error),
}

/// Maps a failed write through `(constraint, field, message)` rows.
pub fn on_constraint(e: sqlx::Error, fields: &[(&str, &'static str, &'static str)]) -> Refusal {
    let Some(db_error) = e.as_database_error() else { return Refusal::Other(e) };
    let constraint = db_error.constraint().unwrap_or_default();
    if let Some((_, field, message)) = fields.iter().find(|(name, ..)| *name == constraint) {
        return Refusal::Field { field, message };
    }
    match db_error.kind() {
        ErrorKind::UniqueViolation
        | ErrorKind::ForeignKeyViolation
        | ErrorKind::NotNullViolation
        | ErrorKind::CheckViolation => Refusal::Constraint(constraint.to_string()),
        _ => Refusal::Other(e),
    }
}
