//! `GET|POST /oauth/userinfo` (OpenID Connect Core §5.3): the claims an
//! access token of the authorization-code grant allows, as JSON; a token
//! that is not (or no longer) good is `401 invalid_token` (RFC 6750 §3).
//! The token comes as a Bearer header, or with POST in a form body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use serde_json::json;

use onramp_domain::tenancy::Tenant;

use super::errors::{OAuthResponse, no_store};
use super::form::OAuthForm;
use crate::extract::CurrentTenant;
use crate::problem::ApiError;
use crate::state::AppState;

fn invalid_token() -> Response {
    let body = json!({ "error": "invalid_token", "error_description": "the access token is not valid" });
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    let challenge = HeaderValue::from_static("Bearer error=\"invalid_token\"");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    no_store(response.headers_mut());
    response
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// No credentials at all: the challenge names no error (RFC 6750 §3.1).
fn no_token() -> Response {
    let mut response = invalid_token();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// `GET /oauth/userinfo`: the token in the `Authorization` header.
pub async fn userinfo(State(state): State<AppState>, CurrentTenant(tenant): CurrentTenant, headers: HeaderMap) -> Response {
    match bearer(&headers) {
        Some(token) => claims(&state, &tenant, token).await,
        None => no_token(),
    }
}

/// `POST /oauth/userinfo`: the token in the header or, in a form-encoded
/// body, as `access_token` (RFC 6750 §2.2). Both at once is refused as
/// ambiguous (§2: a client uses one method only).
pub async fn userinfo_post(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    let form = if is_form {
        match OAuthForm::parse(&body) {
            Ok(form) => Some(form),
            Err(refused) => return with_bearer_error(refused.into_response()),
        }
    } else {
        None
    };
    let in_body = form.as_ref().and_then(|f| f.get("access_token"));
    match (bearer(&headers), in_body) {
        (Some(_), Some(_)) => with_bearer_error(
            OAuthResponse::invalid_request("send the access token in the Authorization header or the body, not both").into_response(),
        ),
        (Some(token), None) | (None, Some(token)) => claims(&state, &tenant, token).await,
        (None, None) => no_token(),
    }
}

/// A malformed request to a protected resource also says so in its
/// challenge (RFC 6750 §3.1).
fn with_bearer_error(mut response: Response) -> Response {
    let challenge = HeaderValue::from_static("Bearer error=\"invalid_request\"");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    response
}

async fn claims(state: &AppState, tenant: &Tenant, token: &str) -> Response {
    match state.core.oauth().userinfo(tenant, token).await {
        Ok((sub, profile)) => {
            let mut body = serde_json::to_value(profile).unwrap_or_default();
            body["sub"] = json!(sub);
            let mut response = Json(body).into_response();
            no_store(response.headers_mut());
            response
        }
        Err(DomainError::Unauthenticated) => invalid_token(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
