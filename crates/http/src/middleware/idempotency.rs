//! `Idempotency-Key` on creating endpoints: the first response for a key is
//! stored (per credential, 24 hours) and replayed for the same request with
//! `Idempotent-Replayed: true`; the same key with another body gets `409`.
//!
//! The layer is given the route's authorization extractor and runs it first:
//! a caller without a valid credential, the feature, an approved partner or
//! the scope gets that refusal, and no key is claimed or replayed for them.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use onramp_domain::idempotency::service::{Begin, Claim};
use onramp_domain::tenancy::Tenant;

use crate::BATCH_BODY_LIMIT;
use crate::middleware::guard::{Credential, route_key};
use crate::problem::{ApiError, ErrorCode};
use crate::state::AppState;

/// Responses that depend on passing state (auth, limits, outages) are not
/// remembered, so a retry with the same key gets a fresh answer.
fn worth_storing(status: StatusCode) -> bool {
    !(status.is_server_error() || matches!(status.as_u16(), 401 | 403 | 429))
}

/// Idempotency for routes whose handlers authorise with `A` (e.g.
/// `PartnerAuthorized<AccountsWrite>`): `A` is checked before the key is
/// claimed or replayed, and its refusal is the answer.
pub async fn idempotency<A>(State(state): State<AppState>, req: Request, next: Next) -> Response
where
    A: FromRequestParts<AppState>,
    A::Rejection: IntoResponse,
{
    let Some(raw_key) = req
        .headers()
        .get("idempotency-key")
        .filter(|_| req.method() == axum::http::Method::POST)
        .cloned()
    else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    if let Err(refusal) = A::from_request_parts(&mut parts, &state).await {
        return refusal.into_response();
    }
    let req = Request::from_parts(parts, body);
    let Ok(key) = raw_key.to_str().map(str::to_owned) else {
        return ApiError::new(ErrorCode::ValidationFailed, "Idempotency-Key must be visible ASCII").into_response();
    };
    let credential = match req.extensions().get::<Credential>() {
        Some(c) if c.is_authenticated() => c.to_string(),
        // `A` let an anonymous caller through: nothing to scope a key to.
        _ => return next.run(req).await,
    };
    let Some(tenant) = req.extensions().get::<Arc<Tenant>>().cloned() else {
        return next.run(req).await;
    };
    let route = route_key(&req);
    let (parts, body) = req.into_parts();
    // The handler's own extractor enforces the route's limit on the buffered body.
    let Ok(bytes) = to_bytes(body, BATCH_BODY_LIMIT).await else {
        return ApiError::new(ErrorCode::PayloadTooLarge, "the body is too large").into_response();
    };
    let claim = match state
        .core
        .idempotency()
        .idempotency_begin(&tenant, &credential, &key, &route, &bytes)
        .await
    {
        Ok(Begin::Fresh(claim)) => ClaimGuard::new(&state, claim),
        Ok(Begin::Replay { status, body }) => return replay(status, body),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let status = response.status();
    if !worth_storing(status) {
        claim.release().await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return ApiError::new(ErrorCode::Internal, "").into_response();
    };
    claim.complete(status.as_u16(), &bytes).await;
    Response::from_parts(parts, Body::from(bytes))
}

/// A claimed key that must not outlive its request "in progress": when the
/// client goes away, the server drops the request's future mid-flight, and
/// the drop releases the claim, so the client's retry runs instead of
/// meeting `409` (the store's lease is the backstop for a node that dies).
struct ClaimGuard {
    state: AppState,
    claim: Option<Claim>,
}

impl ClaimGuard {
    fn new(state: &AppState, claim: Claim) -> Self {
        Self {
            state: state.clone(),
            claim: Some(claim),
        }
    }

    async fn complete(mut self, status: u16, body: &[u8]) {
        let Some(claim) = self.claim.take() else { return };
        if let Err(e) = self.state.core.idempotency().idempotency_complete(claim, status, body).await {
            tracing::warn!(error = %e, "could not store an idempotent response");
        }
    }

    async fn release(mut self) {
        let Some(claim) = self.claim.take() else { return };
        release(&self.state, claim).await;
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if let Some(claim) = self.claim.take() {
            let state = self.state.clone();
            tokio::spawn(async move { release(&state, claim).await });
        }
    }
}

async fn release(state: &AppState, claim: Claim) {
    if let Err(e) = state.core.idempotency().idempotency_release(claim).await {
        tracing::warn!(error = %e, "could not release an idempotency key");
    }
}

fn replay(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
