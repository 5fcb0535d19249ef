//! An endpoint's delivery attempts, newest first: what its receiver
//! answered to each event, for service users (snake_case) and partners
//! (their own endpoints, camelCase).

use axum::extract::State;
use axum::http::StatusCode;
use onramp_domain::app::Page;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::EndpointId;
use onramp_domain::tenancy::Environment;
use onramp_domain::webhooks::Owner;
use onramp_domain::webhooks::delivery::{Attempt, AttemptCursor};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Caller;
use super::partners;
use crate::extract::{Json, Path, Query};
use crate::openapi::{PartnerRefusals, ServiceRefusals};
use crate::problem::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The previous page's cursor (empty: the newest attempts).
    #[param(pattern = "^([0-9]{1,18}\\.evt_[0-9a-f]{32}\\.[0-9]{1,18})?$")]
    pub cursor: Option<String>,
}

/// One attempt to deliver an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first attempt of this event.
    pub attempt: i64,
    #[schema(format = DateTime)]
    pub attempted_at: String,
    /// The receiver's status; null when no answer came.
    pub status_code: Option<u16>,
    /// Why no answer came: `timeout`, `connect`, `network`, `target_not_allowed`, … or null.
    pub error: Option<String>,
    pub latency_ms: i64,
    /// The first KiB of the receiver's answer.
    pub response_snippet: String,
}

impl From<Attempt> for DeliveryBody {
    fn from(a: Attempt) -> Self {
        Self {
            event_id: a.event_id.into_string(),
            event_type: a.event_type,
            attempt: a.attempt,
            attempted_at: rfc3339(a.attempted_at),
            status_code: a.status_code,
            error: a.error,
            latency_ms: a.latency_ms,
            response_snippet: a.response_snippet,
        }
    }
}

/// A page of attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<DeliveryBody>,
    pub next_cursor: Option<String>,
}

/// One attempt to deliver an event (partner API: camelCase).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerDelivery {
    pub event_id: String,
    pub event_type: String,
    pub attempt: i64,
    #[schema(format = DateTime)]
    pub attempted_at: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub response_snippet: String,
}

impl From<DeliveryBody> for PartnerDelivery {
    fn from(d: DeliveryBody) -> Self {
        Self {
            event_id: d.event_id,
            event_type: d.event_type,
            attempt: d.attempt,
            attempted_at: d.attempted_at,
            status_code: d.status_code,
            error: d.error,
            latency_ms: d.latency_ms,
            response_snippet: d.response_snippet,
        }
    }
}

/// A page of attempts (partner API).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerDeliveryList {
    pub data: Vec<PartnerDelivery>,
    pub next_cursor: Option<String>,
}

fn page_params(params: DeliveryParams) -> Result<(Option<AttemptCursor>, u32), ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "limit must be between 1 and 200"));
    }
    let cursor = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => {
            Some(AttemptCursor::decode(raw).ok_or_else(|| ApiError::new(ErrorCode::InvalidQuery, "cursor is not a cursor of this list"))?)
        }
    };
    Ok((cursor, limit))
}

async fn page(state: &AppState, env: &Environment, owner: &Owner, id: &str, params: DeliveryParams) -> ApiResult<Page<Attempt>> {
    let id = EndpointId::lookup(id)?;
    let (cursor, limit) = page_params(params)?;
    Ok(state.core.webhooks().deliveries(env, owner, &id, cursor.as_ref(), limit).await?)
}

/// The delivery attempts of one of the environment's endpoints, newest first.
#[utoipa::path(
    get, path = "/v1/webhooks/endpoints/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), DeliveryParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of attempts", body = DeliveryList),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        ServiceRefusals,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<DeliveryParams>,
) -> ApiResult<Json<DeliveryList>> {
    let page = page(&state, &caller.tenant.env, &Owner::Environment, &id, params).await?;
    Ok(Json(DeliveryList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The delivery attempts of one of this partner's endpoints, newest first.
#[utoipa::path(
    get, path = "/v1/partners/webhooks/endpoints/{id}/deliveries", operation_id = "partner_list_webhook_deliveries", tag = "partners",
    params(("id" = String, Path, description = "Endpoint id"), DeliveryParams), security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "A page of attempts", body = PartnerDeliveryList),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        PartnerRefusals,
    )
)]
pub async fn partner_list(
    State(state): State<AppState>,
    caller: partners::Caller,
    Path(id): Path<String>,
    Query(params): Query<DeliveryParams>,
) -> ApiResult<Json<PartnerDeliveryList>> {
    let page = page(&state, &caller.tenant.env, &partners::owner(&caller), &id, params).await?;
    Ok(Json(PartnerDeliveryList {
        data: page.items.into_iter().map(|a| DeliveryBody::from(a).into()).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// How many events were queued to be sent again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requeued {
    pub queued: u64,
}

/// Since when to send again what did not arrive.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverRequest {
    /// RFC 3339: events committed at or after this time.
    #[schema(format = DateTime)]
    pub since: String,
}

fn since(raw: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
        .map_err(|_| {
            let field = onramp_domain::FieldError::new(
                "since",
                onramp_domain::FieldCode::InvalidType,
                "since must be an RFC 3339 timestamp",
            );
            onramp_domain::DomainError::Validation(vec![field]).into()
        })
}

async fn resend_one(state: &AppState, env: &Environment, owner: &Owner, id: &str, event_id: &str) -> ApiResult<Requeued> {
    let id = EndpointId::lookup(id)?;
    let event_id = onramp_domain::ids::EventId::from(event_id);
    state.core.webhooks().resend(env, owner, &id, &event_id).await?;
    Ok(Requeued { queued: 1 })
}

async fn recover_since(state: &AppState, env: &Environment, owner: &Owner, id: &str, body: &RecoverRequest) -> ApiResult<Requeued> {
    let id = EndpointId::lookup(id)?;
    let since = since(&body.since)?;
    let queued = state.core.webhooks().recover(env, owner, &id, since).await?;
    Ok(Requeued { queued })
}

/// Send one event to one of the environment's endpoints again, now (failed, waiting for a retry, or delivered).
#[utoipa::path(
    post, path = "/v1/webhooks/endpoints/{id}/events/{event_id}/resend", operation_id = "resend_webhook_event", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), ("event_id" = String, Path, description = "Event id (`evt_…`)")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued", body = Requeued),
        ServiceRefusals,
    )
)]
pub async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let queued = resend_one(&state, &caller.tenant.env, &Owner::Environment, &id, &event_id).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// Send again every event since a time that one of the environment's endpoints has not received.
#[utoipa::path(
    post, path = "/v1/webhooks/endpoints/{id}/recover", operation_id = "recover_webhook_endpoint", tag = "webhooks",
    request_body = RecoverRequest, params(("id" = String, Path, description = "Endpoint id")), security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued", body = Requeued),
        (status = 400, description = "Invalid input (`invalid_json`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        ServiceRefusals,
    )
)]
pub async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<RecoverRequest>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let queued = recover_since(&state, &caller.tenant.env, &Owner::Environment, &id, &body).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// Send one event to one of this partner's endpoints again, now.
#[utoipa::path(
    post, path = "/v1/partners/webhooks/endpoints/{id}/events/{event_id}/resend", operation_id = "partner_resend_webhook_event", tag = "partners",
    params(("id" = String, Path, description = "Endpoint id"), ("event_id" = String, Path, description = "Event id (`evt_…`)")),
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 202, description = "Queued", body = Requeued),
        PartnerRefusals,
    )
)]
pub async fn partner_resend(
    State(state): State<AppState>,
    caller: partners::Caller,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let queued = resend_one(&state, &caller.tenant.env, &partners::owner(&caller), &id, &event_id).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// Send again every event since a time that one of this partner's endpoints has not received.
#[utoipa::path(
    post, path = "/v1/partners/webhooks/endpoints/{id}/recover", operation_id = "partner_recover_webhook_endpoint", tag = "partners",
    request_body = RecoverRequest, params(("id" = String, Path, description = "Endpoint id")), security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 202, description = "Queued", body = Requeued),
        (status = 400, description = "Invalid input (`invalid_json`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        PartnerRefusals,
    )
)]
pub async fn partner_recover(
    State(state): State<AppState>,
    caller: partners::Caller,
    Path(id): Path<String>,
    Json(body): Json<RecoverRequest>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let queued = recover_since(&state, &caller.tenant.env, &partners::owner(&caller), &id, &body).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}
