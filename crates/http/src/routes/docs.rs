//! The OpenAPI document and the bundled Swagger UI. "Try it out" is on only
//! when the page is opened on a staging host; production pages are read-only.

use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use onramp_domain::tenancy::EnvKind;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::Config;

use crate::problem::{ApiError, ErrorCode};
use crate::state::AppState;

static STAGING: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| Arc::new(Config::from("/openapi.json").try_it_out_enabled(false)));
static READ_ONLY: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::from("/openapi.json").supported_submit_methods(Vec::<String>::new())));

pub fn router(api: OpenApi) -> Router<AppState> {
    let json = Arc::new(api.to_json().unwrap_or_default());
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(|| async { Redirect::permanent("/docs/") }))
        .route("/docs/", get(|s, h| docs_file(s, h, Path(String::new()))))
        .route("/docs/{*file}", get(docs_file))
        .layer(Extension(json))
}

async fn openapi_json(Extension(json): Extension<Arc<String>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json.as_str().to_owned()).into_response()
}

async fn docs_file(State(state): State<AppState>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let staging = matches!(state.core.tenancy().resolve_host(host).await, Ok(t) if t.env.kind == EnvKind::Staging);
    let config = if staging { Arc::clone(&STAGING) } else { Arc::clone(&READ_ONLY) };
    match utoipa_swagger_ui::serve(&file, config) {
        Ok(Some(file)) => {
            let mut response = (StatusCode::OK, file.bytes.into_owned()).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, file.content_type.parse().expect("mime"));
            headers.insert(header::CACHE_CONTROL, "no-cache".parse().expect("ascii"));
            // No other site may frame the docs (clickjacking "try it out" on staging).
            headers.insert(header::X_FRAME_OPTIONS, "DENY".parse().expect("ascii"));
            headers.insert(header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'".parse().expect("ascii"));
            if file.gzpipped {
                headers.insert(header::CONTENT_ENCODING, "gzip".parse().expect("ascii"));
            }
            response
        }
        Ok(None) => ApiError::new(ErrorCode::NotFound, "no such documentation file").into_response(),
        Err(_) => ApiError::new(ErrorCode::Internal, "").into_response(),
    }
}
