//! The domain's own error: what went wrong, in the terms of the rules, apart from HTTP. The
//! API edge turns it into Pipedrive's envelope (`crate::error::ApiError`); the command line
//! prints it in words.

use super::ports::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum DomainError {
    /// A value breaks a rule; `field` names it when there is one (the message then reads
    /// `"<field>: <reason>"`), so that a form can show it next to that field.
    #[error("{}", describe(field.as_deref(), reason))]
    Invalid {
        field: Option<String>,
        reason: String,
    },
    /// A value the operation needs was not given (`"<field>: is required"`).
    #[error("{0}: is required")]
    Required(String),
    /// What was asked for does not exist, or the user may not see it (the two are answered
    /// alike, so that what one may not see cannot be told from what is not there).
    #[error("{0}")]
    NotFound(String),
    /// The user may see it but not do this.
    #[error("{0}")]
    Forbidden(String),
    /// What the change builds on changed meanwhile, and it cannot be applied as asked.
    #[error("{0}")]
    Conflict(String),
    /// A limit on how many of something one may have is reached (40 webhooks per user).
    #[error("{0}")]
    LimitReached(String),
    /// Storage failed (unavailable, a uniqueness rule, a lost race, or a fault), its cause
    /// kept.
    #[error(transparent)]
    Store(StoreError),
    /// A fault outside storage (the system's random source, say).
    #[error("{0}")]
    Internal(String),
}

fn describe(field: Option<&str>, reason: &str) -> String {
    match field {
        Some(field) => format!("{field}: {reason}"),
        None => reason.to_owned(),
    }
}

impl From<StoreError> for DomainError {
    /// A rule's refusal carried through the store is the rule's own error again.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused(e) => *e,
            other => Self::Store(other),
        }
    }
}

impl DomainError {
    /// A value of `field` breaks a rule.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::Invalid {
            field: Some(field.to_owned()),
            reason: reason.to_string(),
        }
    }

    /// The input is refused for a reason no one field carries (`"Name must be given."`).
    pub fn refused(reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: None,
            reason: reason.into(),
        }
    }

    /// Whether this says that something does not exist (or cannot be seen).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}
