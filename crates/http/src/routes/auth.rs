//! Service-user login and the environment's public keys.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use onramp_domain::infra::secret::Secret;
use onramp_domain::infra::throttle::LoginSource;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{CurrentTenant, Json};
use crate::middleware::client_addr::ClientIp;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(jwks))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordLogin {
    pub username: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceToken {
    /// A JWT to send as `Authorization: Bearer <api_token>`.
    pub api_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// Log a service user in and get a short-lived service token.
#[utoipa::path(
    operation_id = "service_login", post, path = "/v1/login/password", tag = "auth", request_body = PasswordLogin,
    responses(
        (status = 200, description = "Logged in", body = ServiceToken),
        (status = 401, description = "Wrong username or password (one message for both)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    Json(body): Json<PasswordLogin>,
) -> ApiResult<Json<ServiceToken>> {
    let issued = state
        .core
        .service_users()
        .service_login(&tenant, &body.username, &body.password, LoginSource::Direct(ip))
        .await?;
    Ok(Json(ServiceToken {
        api_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
    }))
}

/// The environment's public signing keys (JWK Set).
#[utoipa::path(
    operation_id = "get_jwks", get, path = "/.well-known/jwks.json", tag = "auth",
    responses(
        (status = 200, description = "JWK Set with the keys that verify this environment's service tokens", body = Object),
    )
)]
pub async fn jwks(State(state): State<AppState>, CurrentTenant(tenant): CurrentTenant) -> ApiResult<Response> {
    let set = state.core.service_users().jwks(&tenant).await?;
    Ok(axum::Json(set).into_response())
}
