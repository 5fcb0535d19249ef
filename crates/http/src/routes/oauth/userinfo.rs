//! `GET|POST /oauth/userinfo` (OpenID Connect Core §5.3): the claims an
//! access token of the authorization-code grant allows, as JSON; a token
//! that is not (or no longer) good is `401 invalid_token` (RFC 6750 §3).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use serde_json::json;

use super::errors::no_store;
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

pub async fn userinfo(State(state): State<AppState>, CurrentTenant(tenant): CurrentTenant, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = bearer else {
        let mut response = invalid_token();
        // No credentials at all: the challenge names no error (RFC 6750 §3.1).
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    match state.core.oauth().userinfo(&tenant, token).await {
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
