//! What can go wrong in the domain. The HTTP layer maps each variant to a
//! status and an RFC 9457 body in exactly one place.

use std::time::Duration;

/// The underlying error of a failure the caller cannot fix (a database
/// error, a failed hashing job): kept whole for the log, never shown to clients.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

macro_rules! field_codes {
    ($($variant:ident = $name:literal,)*) => {
        /// Why one input field is invalid: the stable `code` of an entry of a
        /// problem's `errors`. `crates/http/src/problem.rs` documents each one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FieldCode { $($variant),* }

        impl FieldCode {
            /// Every code, in the order the docs list them.
            pub const ALL: &'static [FieldCode] = &[$(FieldCode::$variant),*];

            /// The public snake_case name.
            pub fn as_str(self) -> &'static str {
                match self { $(FieldCode::$variant => $name),* }
            }
        }
    };
}

field_codes! {
    Required = "required",
    UnknownField = "unknown_field",
    InvalidType = "invalid_type",
    InvalidItem = "invalid_item",
    InvalidLength = "invalid_length",
    InvalidCharacters = "invalid_characters",
    OutOfRange = "out_of_range",
    InvalidEmail = "invalid_email",
    EmailTaken = "email_taken",
    PasswordTooShort = "password_too_short",
    PasswordTooLong = "password_too_long",
    PasswordTooCommon = "password_too_common",
    PasswordEqualsEmail = "password_equals_email",
    InvalidPasswordHash = "invalid_password_hash",
    PasswordHashTooCostly = "password_hash_too_costly",
    InvalidUuid = "invalid_uuid",
    InvalidUsername = "invalid_username",
    InvalidRole = "invalid_role",
    InvalidRedirect = "invalid_redirect",
    InvalidChallenge = "invalid_challenge",
    InvalidIdempotencyKey = "invalid_idempotency_key",
    InvalidRange = "invalid_range",
    TooManyPoints = "too_many_points",
    InvalidStatus = "invalid_status",
    UnknownScope = "unknown_scope",
    ScopeNotAllowed = "scope_not_allowed",
    InvalidPlatformId = "invalid_platform_id",
    InvalidEnvironment = "invalid_environment",
    UnknownFeature = "unknown_feature",
    InvalidRegion = "invalid_region",
    InvalidUrl = "invalid_url",
    InvalidHostname = "invalid_hostname",
    ReservedHostname = "reserved_hostname",
    InvalidOrigin = "invalid_origin",
    InvalidRoute = "invalid_route",
    InvalidTemplate = "invalid_template",
    UnknownEventType = "unknown_event_type",
    EventTypeNotVisible = "event_type_not_visible",
    TargetNotAllowed = "target_not_allowed",
    UnresolvableHost = "unresolvable_host",
}

impl std::fmt::Display for FieldCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// Serialised by hand from `as_str`, so the wire name and the documented name
// cannot drift apart.
impl serde::Serialize for FieldCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: FieldCode,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
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
    /// The credentials were right (or a live sign-in link was presented) but
    /// the account is deactivated.
    #[error("this account is deactivated")]
    AccountDisabled,
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
    #[error(
        "this Idempotency-Key's first request completed, but its stored response can no longer be read \
         (it was sealed under an earlier server secret): check the outcome, and use a new key to retry"
    )]
    IdempotencyResponseUnreadable,
    #[error("this key was rotated already; rotate its successor instead")]
    KeyAlreadyRotated,
    /// A change conditioned on a version (`If-Match`) that is no longer the
    /// resource's current one.
    #[error("the {0} changed since that version: read it again, then retry")]
    Stale(&'static str),
    /// A webhook URL whose host is, or resolves to, an address the target
    /// policy refuses (loopback, private, metadata…), or does not resolve.
    #[error("{}", .0.message)]
    TargetNotAllowed(FieldError),
    #[error("too many requests")]
    RateLimited { retry_after: Duration },
    #[error("too many failed login attempts")]
    LoginThrottled { retry_after: Duration },
    #[error("the server is busy hashing passwords")]
    Overloaded { retry_after: Duration },
    /// The database cannot be reached or timed out; the cause is for the log.
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// A bug or an unexpected failure; the cause is for the log.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
}

impl DomainError {
    /// A validation error on a single field.
    pub fn invalid(field: &str, code: FieldCode, message: impl Into<String>) -> Self {
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
    Unavailable(#[source] Cause),
    #[error("database error: {0}")]
    Other(#[source] Cause),
}

impl StoreError {
    /// `Other`, keeping `cause` (an error or a message) for the log.
    pub fn other(cause: impl Into<Cause>) -> Self {
        Self::Other(cause.into())
    }

    /// `Unavailable`, keeping `cause` (an error or a message) for the log.
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::Unavailable(cause.into())
    }
}

impl From<StoreError> for crate::DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict("email") => crate::DomainError::EmailTaken,
            StoreError::Conflict(what) => crate::DomainError::Conflict(format!("a record with this {what} already exists")),
            StoreError::NotFound => crate::DomainError::NotFound("record"),
            e @ StoreError::Unavailable(_) => crate::DomainError::Unavailable(Box::new(e)),
            e @ StoreError::Other(_) => crate::DomainError::Internal(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_codes_are_unique_snake_case_and_serialise_as_named() {
        let mut names: Vec<_> = FieldCode::ALL.iter().map(|c| c.as_str()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        for code in FieldCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FieldCode::ALL.len());
    }

    #[test]
    fn store_failures_keep_their_cause() {
        use std::error::Error as _;
        let e = DomainError::from(StoreError::Other("no such table: usage_minutes".into()));
        assert!(matches!(e, DomainError::Internal(_)));
        assert!(e.to_string().contains("no such table"), "{e}");
        let store = e.source().and_then(|s| s.downcast_ref::<StoreError>());
        assert!(matches!(store, Some(StoreError::Other(_))), "{:?}", e.source());
        let e = DomainError::from(StoreError::Unavailable("pool timed out".into()));
        assert!(matches!(e, DomainError::Unavailable(_)), "{e:?}");
    }
}
