//! Resolves the `Host` header to a platform instance and environment.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;
use crate::state::AppState;

pub async fn resolve_tenant(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or_default()
        .to_owned();
    match state.core.tenancy().resolve_host(&host).await {
        Ok(tenant) => {
            req.extensions_mut().insert(Arc::clone(&tenant));
            next.run(req).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
