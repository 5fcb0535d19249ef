//! Onramp's HTTP layer: host-based tenancy, authentication, rate limits,
//! RFC 9457 errors, one router per API family, and the OpenAPI document.

pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod rate_limit;
pub mod routes;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method};
use axum::response::IntoResponse;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

pub use state::AppState;

use crate::problem::{ApiError, ErrorCode};

/// Largest accepted request body (CONVENTIONS §3).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Largest body of batch endpoints (1,000 items).
pub const BATCH_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The whole application: API routes behind tenancy, auth and rate limits;
/// health and documentation on any host.
pub fn app(state: AppState) -> Router {
    let (tenant_routes, health, api) = documented_routes(&state);
    // The 405 fallback is set on each router before its layers: set on the
    // merged router it would replace the layered fallbacks, and CORS
    // preflights (OPTIONS) would never reach the CORS layer.
    let tenant_routes = tenant_routes
        .merge(routes::scim::router())
        .merge(routes::oauth::router())
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::guard::guard))
        .layer(cors())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::tenant::resolve_tenant,
        ));
    let any_host = health
        .merge(routes::docs::router(api))
        .route("/metrics", axum::routing::get(routes::metrics::metrics))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .merge(tenant_routes)
        .merge(any_host)
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such endpoint").into_response() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(routes::scim::scim_errors))
        .layer(axum::middleware::from_fn(routes::oauth::oauth_errors))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::clone(&state.proxies),
            middleware::client_addr::resolve_client,
        ))
        .layer(axum::middleware::from_fn(middleware::request_id::request_id))
        .with_state(state)
}

async fn method_not_allowed() -> axum::response::Response {
    ApiError::new(ErrorCode::MethodNotAllowed, "method not allowed on this endpoint").into_response()
}

/// The routes served per tenant, the routes served on any host, and the
/// OpenAPI document generated from both.
fn documented_routes(state: &AppState) -> (Router<AppState>, Router<AppState>, utoipa::openapi::OpenApi) {
    let (tenant, mut api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(routes::auth::router())
        .merge(routes::clients::router(state))
        .merge(routes::groups::router())
        .merge(routes::partners::router(state))
        .merge(routes::tokenauth::router())
        .merge(routes::integration::router())
        .merge(routes::events::router())
        .merge(routes::webhooks::router(state))
        .split_for_parts();
    openapi::add_common_responses(&mut api);
    openapi::document_error_codes(&mut api);
    let (any_host, health_api) = routes::health::router().split_for_parts();
    api.merge(health_api);
    (tenant, any_host, api)
}

/// Gives routes served beside the API (the web pages) the same outer
/// layers: request ids, the access log and metrics, the client address, the
/// body limit, and a per-address rate limit on form posts (sign-in forms
/// must not be a free oracle).
pub fn observed(router: Router, state: AppState) -> Router {
    let proxies = std::sync::Arc::clone(&state.proxies);
    router
        .layer(axum::middleware::from_fn_with_state(state, middleware::guard::limit_form_posts))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            proxies,
            middleware::client_addr::resolve_client,
        ))
        .layer(axum::middleware::from_fn(middleware::request_id::request_id))
}

/// The OpenAPI document.
pub fn openapi_document(state: &AppState) -> utoipa::openapi::OpenApi {
    documented_routes(state).2
}

/// Browsers may call an environment only from the origins configured for it,
/// so a staging page can never call production or the other way round.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, parts| {
            let origin = origin.to_str().unwrap_or_default();
            parts
                .extensions
                .get::<std::sync::Arc<onramp_domain::tenancy::Tenant>>()
                .is_some_and(|t| t.env.cors_origins.iter().any(|o| o.eq_ignore_ascii_case(origin)))
        }))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            HeaderName::from_static("retry-after"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}
