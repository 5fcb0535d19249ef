//! OAuth's error format (RFC 6749 §5.2): `{error, error_description}` with
//! `Cache-Control: no-store`, for every error on `/oauth/` paths.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use onramp_domain::oauth::{OAuthCode, OAuthError};
use serde_json::{Value, json};

use super::BASE;
use crate::problem::ApiError;

/// Problem documents are small; anything larger is not one of ours.
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

/// The challenge of a `401` (RFC 6749 §5.2: required when the client
/// authenticated with HTTP Basic, and what HTTP asks of every 401).
const BASIC_CHALLENGE: &str = "Basic realm=\"oauth\", charset=\"UTF-8\"";

/// An OAuth error answer.
#[derive(Debug)]
pub struct OAuthResponse {
    code: OAuthCode,
    description: String,
}

impl OAuthResponse {
    pub fn new(code: OAuthCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(OAuthCode::InvalidClient, description)
    }
}

fn status_of(code: OAuthCode) -> StatusCode {
    match code {
        OAuthCode::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        OAuthCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, as RFC 6749 §5.1 asks
/// of every answer that carries or concerns a token.
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn body(code: &str, description: &str) -> String {
    json!({ "error": code, "error_description": description }).to_string()
}

impl IntoResponse for OAuthResponse {
    fn into_response(self) -> Response {
        let mut response = (
            status_of(self.code),
            [(header::CONTENT_TYPE, "application/json")],
            body(self.code.as_str(), &self.description),
        )
            .into_response();
        if self.code == OAuthCode::InvalidClient {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(BASIC_CHALLENGE));
        }
        no_store(response.headers_mut());
        response
    }
}

/// A refusal answers with its code; a failure underneath takes our usual
/// mapping (logged, `503` with `Retry-After` when overloaded) and is then
/// rewritten into OAuth's format by [`oauth_errors`].
impl From<OAuthError> for OAuthAnswer {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::Refused { code, description } => OAuthAnswer(OAuthResponse::new(code, description).into_response()),
            OAuthError::Failed(e) => OAuthAnswer(ApiError::from(e).into_response()),
        }
    }
}

impl From<OAuthResponse> for OAuthAnswer {
    fn from(e: OAuthResponse) -> Self {
        OAuthAnswer(e.into_response())
    }
}

impl From<onramp_domain::DomainError> for OAuthAnswer {
    fn from(e: onramp_domain::DomainError) -> Self {
        OAuthError::Failed(e).into()
    }
}

/// Any error of an OAuth handler, ready to answer.
pub struct OAuthAnswer(Response);

impl IntoResponse for OAuthAnswer {
    fn into_response(self) -> Response {
        self.0
    }
}

/// The OAuth code of a status the shared layers answer with.
fn code_of(status: StatusCode) -> OAuthCode {
    match status.as_u16() {
        401 => OAuthCode::InvalidClient,
        403 => OAuthCode::UnauthorizedClient,
        429 | 503 => OAuthCode::TemporarilyUnavailable,
        500..=599 => OAuthCode::ServerError,
        _ => OAuthCode::InvalidRequest,
    }
}

/// Rewrites problem documents answered on `/oauth/` paths into OAuth
/// errors, keeping the status and the headers (`Retry-After`,
/// `RateLimit-*`, `X-Request-Id`).
pub async fn oauth_errors(req: Request, next: Next) -> Response {
    // Every request passes here: a prefix check, no allocation.
    let path = req.uri().path();
    let oauth = path.strip_prefix(BASE).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    let response = next.run(req).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !oauth || !is_problem {
        return response;
    }
    let (mut parts, problem) = response.into_parts();
    let problem: Value = match to_bytes(problem, MAX_PROBLEM_BYTES).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let code = code_of(parts.status);
    let description = problem["detail"].as_str().or(problem["title"].as_str()).unwrap_or("error");
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    if code == OAuthCode::InvalidClient {
        parts
            .headers
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(BASIC_CHALLENGE));
    }
    no_store(&mut parts.headers);
    Response::from_parts(parts, Body::from(body(code.as_str(), description)))
}
