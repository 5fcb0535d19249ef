//! Prometheus metrics at `/metrics`, on any host, guarded by the operator's
//! metrics token (`Authorization: Bearer <token>`); `404` when no token is set.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::infra::secret::{Secret, ct_eq};

use crate::problem::{ApiError, ErrorCode};
use crate::state::AppState;

/// How the binary exposes its metrics recorder to the HTTP layer.
pub struct MetricsExport {
    pub render: Box<dyn Fn() -> String + Send + Sync>,
    pub token: Secret,
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(export) = state.metrics.as_ref() else {
        return ApiError::new(ErrorCode::NotFound, "no such endpoint").into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !ct_eq(presented.as_bytes(), export.token.expose().as_bytes()) {
        return ApiError::new(ErrorCode::Unauthenticated, "the metrics token is required").into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], (export.render)()).into_response()
}
