//! `/.well-known/oauth-authorization-server` (RFC 8414) and
//! `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0): one
//! document, with the environment's issuer.

use axum::Json;
use axum::extract::State;
use onramp_domain::oauth::metadata::ServerMetadata;

use crate::extract::CurrentTenant;
use crate::state::AppState;

pub async fn metadata(State(state): State<AppState>, CurrentTenant(tenant): CurrentTenant) -> Json<ServerMetadata> {
    Json(ServerMetadata::for_issuer(&state.core.tenancy().issuer(&tenant)))
}
