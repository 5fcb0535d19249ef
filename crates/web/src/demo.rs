//! The demo vendor of `serve --demo`: a shop page, meant to be opened on a
//! different origin than the platform (http://127.0.0.1:PORT vs
//! http://localhost:PORT), whose backend exchanges the code with its key.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::WebState;
use crate::views::{self, render};

pub async fn page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let Some(demo) = state.demo.as_ref() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let tenant = match state.core.tenancy().resolve_host(host).await {
        Ok(t) => t,
        Err(_) => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let page = views::DemoVendor {
        platform: tenant.instance.name.clone(),
        platform_origin: demo.platform_origin.clone(),
        client_id: demo.app_id.to_string(),
    };
    let mut response = render(StatusCode::OK, &page);
    let csp = format!(
        "default-src 'self'; script-src 'self' {origin}; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        origin = demo.platform_origin
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert("content-security-policy", value);
    }
    response
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeResult {
    code: String,
    code_verifier: String,
}

/// The shop's backend: exchanges the code with the shop's key, as a real
/// vendor would with `POST /v1/integration/exchange`.
pub async fn exchange(State(state): State<WebState>, headers: HeaderMap, Json(body): Json<CodeResult>) -> Response {
    let Some(demo) = state.demo.as_ref() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let result = async {
        let tenant = state.core.tenancy().resolve_host(host).await?;
        let app = state.core.integration().authenticate_vendor_key(&tenant, demo.key.expose()).await?;
        state
            .core
            .integration()
            .exchange_code(&tenant, &app, &body.code, &body.code_verifier)
            .await
    }
    .await;
    match result {
        Ok((account, grant)) => Json(json!({
            "user": { "id": account.id, "email": account.email, "name": { "first_name": account.name.first_name, "last_name": account.name.last_name } },
            "granted_at": onramp_domain::clock::rfc3339(grant.granted_at),
        }))
        .into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e.to_string() }))).into_response(),
    }
}
