//! Key rotation by the partner itself.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use onramp_domain::clock::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::{AnyScope, Json, OptionalJson, PartnerAuthorized};
use crate::openapi::PartnerRefusals;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the presented key keeps working: 0 to 604800 seconds [default: 86400].
    #[schema(minimum = 0, maximum = 604800)]
    pub grace_period_seconds: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedKey {
    /// The new key; shown only here.
    pub key: String,
    pub key_id: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
    pub previous_key_id: String,
    /// When the presented key stops working.
    pub previous_key_expires_at: String,
}

/// Rotate the presented key: a new key with the same scopes; the old one keeps working for the grace period.
#[utoipa::path(
    post, path = "/v1/partners/keys/rotate", operation_id = "partner_rotate_key", tag = "partners",
    request_body(content = Option<RotateRequest>, description = "Optional"), security(("api_key" = [])),
    responses(
        (status = 201, description = "The new key (shown once)", body = RotatedKey),
        (status = 409, description = "The presented key was rotated already (`key_already_rotated`): rotate its successor", body = Problem, content_type = "application/problem+json"),
        PartnerRefusals,
    )
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AnyScope>,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> ApiResult<(StatusCode, Json<RotatedKey>)> {
    let grace = Duration::from_secs(body.and_then(|b| b.grace_period_seconds).unwrap_or(24 * 3600));
    let (issued, old_expires_at) = state
        .core
        .partners()
        .rotate_api_key(&caller.actor(), &caller.principal, grace)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(RotatedKey {
            key: issued.secret.expose().to_owned(),
            key_id: issued.key.key_id.into(),
            scopes: issued.key.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            expires_at: issued.key.expires_at.map(rfc3339),
            previous_key_id: caller.principal.key.key_id.to_string(),
            previous_key_expires_at: rfc3339(old_expires_at),
        }),
    ))
}
