//! What can go wrong in the domain. The HTTP layer maps each variant to a
//! status and an RFC 9457 body in exactly one place.

use std::time::Duration;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("validation failed: {}", summary(.0))]
    Validation(Vec<FieldError>),
    #[error("authentication required or credentials invalid")]
    Unauthenticated,
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("the feature `{0}` is not enabled for this instance")]
    FeatureDisabled(&'static str),
    #[error("this partner is not approved (status: {0})")]
    PartnerNotApproved(&'static str),
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("the token has expired")]
    TokenExpired,
    #[error("the user no longer exists")]
    UserNotFound,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("unknown platform instance")]
    UnknownInstance,
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("{0}")]
    Conflict(String),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("too many requests")]
    RateLimited { retry_after: Duration },
    #[error("too many failed login attempts")]
    LoginThrottled { retry_after: Duration },
    #[error("the server is busy hashing passwords")]
    Overloaded { retry_after: Duration },
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
}

impl DomainError {
    /// A validation error on a single field.
    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }
}

/// Collects validation errors for several fields before failing once.
#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Records the error of a failed parse and returns the value if it succeeded.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// # Errors
    /// `DomainError::Validation` with every recorded field error.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.errors))
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

/// What a storage operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; the payload names what was duplicated
    /// (`email`, `id`, `username`, `platform_id`, `hostname`).
    #[error("duplicate {0}")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
    /// The database cannot be reached or timed out.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<StoreError> for crate::DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict("email") => crate::DomainError::EmailTaken,
            StoreError::Conflict(what) => crate::DomainError::Conflict(format!("a record with this {what} already exists")),
            StoreError::NotFound => crate::DomainError::NotFound("record"),
            StoreError::Unavailable(msg) => crate::DomainError::Unavailable(msg),
            StoreError::Other(msg) => crate::DomainError::Internal(msg),
        }
    }
}
