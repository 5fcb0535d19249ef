//! SCIM's error format (RFC 7644 §3.12) for every error on SCIM paths.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};

use super::{BASE, MEDIA_TYPE};

/// The error schema's URN.
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Problem documents are small; anything larger is not one of ours.
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

/// Rewrites problem documents answered on SCIM paths into SCIM errors,
/// keeping the status and the headers (`WWW-Authenticate`, `Retry-After`,
/// `RateLimit-*`, `X-Request-Id`).
pub async fn scim_errors(req: Request, next: Next) -> Response {
    // Every request passes here: a prefix check, no allocation.
    let path = req.uri().path();
    let scim = path.strip_prefix(BASE).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    let response = next.run(req).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !scim || !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let problem: Value = match to_bytes(body, MAX_PROBLEM_BYTES).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let code = problem["code"].as_str().unwrap_or_default();
    let mut error = json!({
        "schemas": [ERROR_SCHEMA],
        "status": parts.status.as_u16().to_string(),
        "detail": problem["detail"].as_str().or(problem["title"].as_str()).unwrap_or("error"),
    });
    if let Some(kind) = scim_type(code) {
        error["scimType"] = json!(kind);
    }
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(error.to_string()))
}

/// The `scimType` of our error codes that SCIM names.
fn scim_type(code: &str) -> Option<&'static str> {
    match code {
        "invalid_json" | "unsupported_media_type" => Some("invalidSyntax"),
        "validation_failed" | "unknown_field" | "invalid_query" => Some("invalidValue"),
        "invalid_path" => Some("invalidPath"),
        "read_only_attribute" => Some("mutability"),
        "conflict" | "email_taken" => Some("uniqueness"),
        "invalid_filter" => Some("invalidFilter"),
        _ => None,
    }
}
