//! RFC 9457 problem responses and the one table of error codes. Every error
//! the API returns is built here; `docs/errors.md` is generated from
//! [`ErrorCode::ALL`] and [`FieldCode::ALL`].

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::{DomainError, FieldCode, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::middleware::request_id::current_request_id;

macro_rules! error_codes {
    ($($variant:ident = $status:literal, $name:literal, $title:literal, $doc:literal;)*) => {
        /// Stable, documented error codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::from_u16($status).expect("valid status")),* }
            }
            /// The public snake_case name, also the last segment of `type`.
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name),* }
            }
            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title),* }
            }
            /// When a client sees this code.
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc),* }
            }
        }
    };
}

error_codes! {
    InvalidJson = 400, "invalid_json", "Malformed JSON", "The body is not valid JSON, or not a JSON object.";
    ValidationFailed = 400, "validation_failed", "Request validation failed", "A field is missing, has the wrong type or breaks a rule; `errors` lists each field.";
    UnknownField = 400, "unknown_field", "Unknown field", "The body has a field this endpoint does not accept; `errors` names it.";
    InvalidQuery = 400, "invalid_query", "Invalid query parameters", "A query parameter is malformed or out of range.";
    InvalidPath = 400, "invalid_path", "Invalid path", "A SCIM PATCH `path` is malformed (answered as SCIM `invalidPath`).";
    ReadOnlyAttribute = 400, "read_only_attribute", "Read-only attribute", "A SCIM PATCH changes an attribute clients cannot change, such as `id` or `meta` (answered as SCIM `mutability`).";
    InvalidFilter = 400, "invalid_filter", "Invalid filter", "A SCIM `filter` is malformed or filters on an attribute not supported (answered as SCIM `invalidFilter`).";
    InvalidGrant = 400, "invalid_grant", "Invalid grant", "The one-time token or code is unknown, already used, or not valid here.";
    TokenExpired = 400, "token_expired", "Token expired", "The one-time token is past its expiry; ask for a new one.";
    WebhookTargetNotAllowed = 400, "webhook_target_not_allowed", "Webhook target not allowed", "The webhook URL's host is, or resolves to, an address outside the public internet (loopback, private, link-local, shared, multicast, documentation, cloud metadata…), or does not resolve; `errors` says which. Deployments whose receivers run on such addresses set `--webhook-allow-private-targets`.";
    Unauthenticated = 401, "unauthenticated", "Authentication required", "Credentials are missing, invalid, expired, disabled or belong to another environment.";
    Forbidden = 403, "forbidden", "Forbidden", "The credentials are valid but lack the role this endpoint needs.";
    FeatureDisabled = 403, "feature_disabled", "Feature disabled", "The instance has not enabled the feature behind this endpoint.";
    AccountDisabled = 403, "account_disabled", "Account deactivated", "The account is deactivated: it cannot sign in until a service user or its partner reactivates it. Only a caller who proved the password (or holds a live sign-in link) sees this; a wrong password is `unauthenticated` as for any account.";
    PartnerNotApproved = 403, "partner_not_approved", "Partner not approved", "The API key is valid but its partner is pending or suspended.";
    NotFound = 404, "not_found", "Not found", "No such resource in this environment.";
    UnknownInstance = 404, "unknown_instance", "Unknown instance", "No platform instance answers at this Host.";
    UserNotFound = 404, "user_not_found", "User not found", "The person behind the authorization code deleted their account.";
    MethodNotAllowed = 405, "method_not_allowed", "Method not allowed", "The path exists but not with this HTTP method.";
    Conflict = 409, "conflict", "Conflict", "A resource with this identifier already exists.";
    PreconditionFailed = 412, "precondition_failed", "Precondition failed", "The `If-Match` version is not the resource's current one: read it again, then retry.";
    EmailTaken = 409, "email_taken", "Email already in use", "Another account in this environment has this email (compared case-insensitively).";
    KeyAlreadyRotated = 409, "key_already_rotated", "Key already rotated", "This API key was rotated already and is in its grace period; rotate its successor instead.";
    IdempotencyKeyReused = 409, "idempotency_key_reused", "Idempotency key reused", "This Idempotency-Key was already used by this credential with a different request.";
    IdempotencyResponseUnreadable = 409, "idempotency_response_unreadable", "Stored response unreadable", "This Idempotency-Key's first request completed, but its stored response was sealed under an earlier server secret and cannot be replayed; the request is not run again. Check its outcome, then retry with a new key.";
    PayloadTooLarge = 413, "payload_too_large", "Payload too large", "The body is larger than 64 KiB.";
    UnsupportedMediaType = 415, "unsupported_media_type", "Unsupported media type", "The body is not sent as `application/json`.";
    RateLimited = 429, "rate_limited", "Too many requests", "A rate limit or the failed-login backoff applies; retry after `retry_after` seconds.";
    Internal = 500, "internal", "Internal server error", "A bug or an unexpected failure; the body carries only the request id.";
    Unavailable = 503, "unavailable", "Service unavailable", "The database cannot be reached; retry later.";
    Overloaded = 503, "overloaded", "Server overloaded", "Too many password hashes are queued; retry after `Retry-After` seconds.";
}

/// The body of every error response (RFC 9457 plus `code`, `request_id`, `errors`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// One invalid field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// When a client sees each field code (the `code` of an entry of `errors`).
pub fn field_code_description(code: FieldCode) -> &'static str {
    use FieldCode as F;
    match code {
        F::Required => "The field is missing, or neither of two alternatives was given (`password` or `passwordHash`).",
        F::UnknownField => "The body has a field this endpoint does not accept.",
        F::InvalidType => "The value has the wrong JSON type or shape.",
        F::InvalidItem => "A batch item is not an object of the documented shape.",
        F::InvalidLength => "The value, or the list, is shorter or longer than allowed.",
        F::InvalidCharacters => "The value contains control characters.",
        F::OutOfRange => "A number or duration is outside its allowed range.",
        F::InvalidEmail => "Not a valid email address, or longer than 254 characters.",
        F::EmailTaken => "Another account in this environment has this email (compared case-insensitively).",
        F::PasswordTooShort => "The password has fewer than 8 characters.",
        F::PasswordTooLong => "The password has more than 256 characters.",
        F::PasswordTooCommon => "The password is one of the most common passwords.",
        F::PasswordEqualsEmail => "The password is the account's email address.",
        F::InvalidPasswordHash => "`passwordHash` is not an argon2id, argon2i, bcrypt or scrypt hash.",
        F::PasswordHashTooCostly => {
            "`passwordHash` costs more to verify than the server accepts (bcrypt cost over 12; argon2 or scrypt over twice the \
             server's argon2id memory or work): see the README."
        }
        F::InvalidUuid => "The id is not a UUID.",
        F::InvalidUsername => "A service-user name is not 1 to 64 letters, digits, `.`, `_`, `-` or `@`.",
        F::InvalidRole => "Not a valid role name.",
        F::InvalidRedirect => "The redirect is not a path on the platform starting with a single `/`.",
        F::InvalidChallenge => "`code_challenge` is not a base64url SHA-256 (43 characters).",
        F::InvalidIdempotencyKey => "`Idempotency-Key` is not 1 to 255 visible ASCII characters.",
        F::InvalidRange => "The time range is empty: `to` is not after `from`.",
        F::TooManyPoints => "The time range holds more than 10,000 buckets at this granularity.",
        F::InvalidStatus => "Not a partner status.",
        F::UnknownScope => "Not an API key scope.",
        F::ScopeNotAllowed => "A scope the operator does not allow this partner's keys.",
        F::InvalidPlatformId => "A platform id is not 2 to 40 lowercase letters, digits or `-`, starting with a letter.",
        F::InvalidEnvironment => "Not `staging` or `production`.",
        F::UnknownFeature => "Not an instance feature.",
        F::InvalidRegion => "A region is not 2 to 16 lowercase letters, digits or `-`.",
        F::InvalidUrl => {
            "Not an absolute http:// or https:// URL without query or fragment; a webhook URL may have a query but no \
             credentials (`user:password@`), and must be https:// in production."
        }
        F::InvalidHostname => "Not a valid hostname.",
        F::ReservedHostname => "The hostname is a canonical API host and cannot be added.",
        F::InvalidOrigin => "Not an origin like `https://app.example.com[:port]` (`http://localhost` in staging only).",
        F::InvalidRoute => "A rate-limit route that is neither `default` nor a route like `POST /v1/client/login`.",
        F::InvalidTemplate => "A sign-in link template that does not start with `{app_url}` or `http(s)://`, or lacks `{token}`.",
        F::UnknownEventType => "Not a lifecycle event type (see the README's list).",
        F::EventTypeNotVisible => {
            "An event type a partner's endpoint never receives (partners get `account.*`, `signin_link.redeemed`, `api_key.*`, `usage.alert`, `endpoint.disabled` and `message.attempt.exhausted`)."
        }
        F::TargetNotAllowed => {
            "The webhook URL's host is, or resolves to, an address outside the public internet (with `webhook_target_not_allowed`)."
        }
        F::UnresolvableHost => "The webhook URL's host does not resolve to any address (with `webhook_target_not_allowed`).",
    }
}

/// The cause of a server error, carried from the handler to the access log
/// in a response extension: logged once there, with the request id, and
/// never written into the body.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub Arc<dyn std::error::Error + Send + Sync>);

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<Duration>,
    /// The `WWW-Authenticate` scheme for 401s.
    pub challenge: &'static str,
    /// What went wrong underneath a 5xx, for the log only.
    pub cause: Option<ErrorCause>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: Some(detail.into()),
            errors: Vec::new(),
            retry_after: None,
            challenge: "Bearer",
            cause: None,
        }
    }

    pub fn fields(code: ErrorCode, detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self {
            errors,
            ..Self::new(code, detail)
        }
    }

    pub fn retry(code: ErrorCode, detail: impl Into<String>, after: Duration) -> Self {
        Self {
            retry_after: Some(after),
            ..Self::new(code, detail)
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        use DomainError as D;
        let detail = e.to_string();
        match e {
            D::Validation(errors) => {
                let unknown = errors.iter().any(|f| f.code == FieldCode::UnknownField);
                let code = if unknown {
                    ErrorCode::UnknownField
                } else {
                    ErrorCode::ValidationFailed
                };
                ApiError::fields(code, errors.first().map_or(detail, |f| f.message.clone()), errors)
            }
            D::Unauthenticated | D::InvalidCredentials => ApiError::new(ErrorCode::Unauthenticated, detail),
            D::Forbidden(_) => ApiError::new(ErrorCode::Forbidden, detail),
            D::AccountDisabled => ApiError::new(ErrorCode::AccountDisabled, detail),
            D::FeatureDisabled(_) => ApiError::new(ErrorCode::FeatureDisabled, detail),
            D::PartnerNotApproved(_) => ApiError::new(ErrorCode::PartnerNotApproved, detail),
            D::InvalidGrant(_) => ApiError::new(ErrorCode::InvalidGrant, detail),
            D::TokenExpired => ApiError::new(ErrorCode::TokenExpired, detail),
            D::UserNotFound => ApiError::new(ErrorCode::UserNotFound, detail),
            D::NotFound(_) => ApiError::new(ErrorCode::NotFound, detail),
            D::UnknownInstance => ApiError::new(ErrorCode::UnknownInstance, detail),
            D::EmailTaken => ApiError::fields(
                ErrorCode::EmailTaken,
                detail,
                vec![FieldError::new(
                    "email",
                    FieldCode::EmailTaken,
                    "an account with this email already exists",
                )],
            ),
            D::Conflict(_) => ApiError::new(ErrorCode::Conflict, detail),
            D::IdempotencyKeyReused => ApiError::new(ErrorCode::IdempotencyKeyReused, detail),
            D::IdempotencyResponseUnreadable => ApiError::new(ErrorCode::IdempotencyResponseUnreadable, detail),
            D::KeyAlreadyRotated => ApiError::new(ErrorCode::KeyAlreadyRotated, detail),
            D::Stale(_) => ApiError::new(ErrorCode::PreconditionFailed, detail),
            D::TargetNotAllowed(field) => ApiError::fields(ErrorCode::WebhookTargetNotAllowed, detail, vec![field]),
            D::RateLimited { retry_after } | D::LoginThrottled { retry_after } => {
                ApiError::retry(ErrorCode::RateLimited, detail, retry_after)
            }
            D::Overloaded { retry_after } => ApiError::retry(ErrorCode::Overloaded, detail, retry_after),
            D::Unavailable(cause) => ApiError {
                cause: Some(ErrorCause(Arc::from(cause))),
                ..ApiError::retry(
                    ErrorCode::Unavailable,
                    "the database is unavailable; retry later",
                    Duration::from_secs(1),
                )
            },
            D::Internal(cause) => ApiError {
                detail: None,
                cause: Some(ErrorCause(Arc::from(cause))),
                ..ApiError::new(ErrorCode::Internal, "")
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_secs = self.retry_after.map(|d| d.as_secs_f64().ceil().max(1.0) as u64);
        let problem = Problem {
            type_: format!("https://onramp.dev/errors/{}", self.code.name()),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail,
            code: self.code.name().to_owned(),
            request_id: current_request_id(),
            errors: self
                .errors
                .into_iter()
                .map(|f| ProblemField {
                    field: f.field,
                    code: f.code.as_str().to_owned(),
                    message: f.message,
                })
                .collect(),
            retry_after: retry_secs,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.code.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = retry_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.code == ErrorCode::Unauthenticated {
            let value = format!("{} realm=\"onramp\"", self.challenge);
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_str(&value).expect("ascii"));
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

/// The error-code table as Markdown (`docs/errors.md`).
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\nGenerated from `crates/http/src/problem.rs` (field codes: `FieldCode` in `crates/domain/src/error.rs`) \
         by `cargo test` (`UPDATE_DOCS=1` rewrites it).\n\
         Every error is an RFC 9457 `application/problem+json` body with `type`, `title`, `status`, `detail`, `code`, \
         `request_id` and, for invalid input, `errors` (one entry per field). `code` is stable.\n\n\
         | code | status | title | when |\n|---|---|---|---|\n",
    );
    for code in ErrorCode::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            code.name(),
            code.status().as_u16(),
            code.title(),
            code.description()
        ));
    }
    out.push_str(
        "\n## Field codes\n\nThe `code` of each entry of `errors` (with `validation_failed`, `unknown_field`, \
         `email_taken` or `webhook_target_not_allowed`), naming the rule that one field breaks. Also stable.\n\n\
         | code | when |\n|---|---|\n",
    );
    for code in FieldCode::ALL {
        out.push_str(&format!("| `{}` | {} |\n", code.as_str(), field_code_description(*code)));
    }
    out
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/errors.md` is generated from the table; `UPDATE_DOCS=1 cargo test` rewrites it.
    #[test]
    fn errors_doc_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
        let expected = errors_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            actual, expected,
            "docs/errors.md is stale: run `UPDATE_DOCS=1 cargo test -p onramp-http`"
        );
    }

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.name()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    /// Every field code the domain can produce is in the doc's table.
    #[test]
    fn errors_doc_lists_every_field_code() {
        let doc = errors_markdown();
        for code in FieldCode::ALL {
            let row = format!("| `{}` | {} |", code.as_str(), field_code_description(*code));
            assert!(doc.contains(&row), "docs/errors.md misses the field code {code}");
        }
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let e = ApiError::from(DomainError::Internal("secret db path".into()));
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(e.detail.is_none());
        let cause = e.cause.clone().expect("the cause is kept for the log");
        assert_eq!(cause.0.to_string(), "secret db path");
        let response = e.into_response();
        assert!(
            response.extensions().get::<ErrorCause>().is_some(),
            "the cause travels to the access log"
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("secret"), "{body}");
    }

    #[test]
    fn unavailable_keeps_its_cause_out_of_the_detail() {
        let e = ApiError::from(DomainError::Unavailable("pool timed out at 10.0.0.7".into()));
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(!e.detail.as_deref().unwrap_or_default().contains("10.0.0.7"));
        assert!(e.cause.is_some());
    }
}
