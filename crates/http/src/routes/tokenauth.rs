//! Redeeming a partner's one-time sign-in link, by the platform's web app.

use axum::extract::State;
use onramp_domain::clock::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{Authorized, Json, PartnerLinks};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(exchange))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    /// The `token` query parameter of the sign-in link.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeResponse {
    /// A new client session (`onr_sess_…`).
    pub client_token: String,
    pub user_id: String,
    pub expires_at: String,
    /// Where the link asked to land.
    pub redirect: String,
}

/// Redeem a one-time sign-in link for a client session. Each link works once.
#[utoipa::path(
    post, path = "/v1/tokenauth/exchange", operation_id = "tokenauth_exchange", tag = "partners", request_body = ExchangeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Signed in", body = ExchangeResponse),
        (status = 400, description = "Unknown or used token (`invalid_grant`), expired token (`token_expired`), or invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The link's account is deactivated (`account_disabled`; the link stays unused), feature `partners` off or role missing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn exchange(
    State(state): State<AppState>,
    caller: Authorized<PartnerLinks>,
    Json(body): Json<ExchangeRequest>,
) -> ApiResult<Json<ExchangeResponse>> {
    let (session, redirect) = state.core.provisioning().exchange_login_token(&caller.tenant, &body.token).await?;
    Ok(Json(ExchangeResponse {
        client_token: session.client_token.expose().to_owned(),
        user_id: session.user_id.into(),
        expires_at: rfc3339(session.expires_at),
        redirect,
    }))
}
