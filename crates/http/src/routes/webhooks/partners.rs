//! A partner's own webhook endpoints (`x-api-key`, scope `webhooks:manage`),
//! camelCase like the rest of the partner API. They may subscribe only to
//! the types a partner ever receives; another partner's endpoint is `404`.

use axum::extract::State;
use axum::http::StatusCode;
use onramp_domain::events::EventType;
use onramp_domain::ids::EndpointId;
use onramp_domain::webhooks::Owner;
use onramp_domain::webhooks::service::{EndpointChanges, EndpointWithSecret, NewEndpoint};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::{EndpointBody, EndpointWithSecretBody, ListParams, event_types_schema, page_params};
use crate::extract::{Json, PartnerAuthorized, Path, Query, WebhooksManage};
use crate::openapi::{IdempotencyKey, PartnerRefusals};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub(super) type Caller = PartnerAuthorized<WebhooksManage>;

fn visible_event_types() -> RefOr<Schema> {
    event_types_schema(
        EventType::ALL.iter().copied().filter(|t| t.visible_to_partners()),
        "The event types it receives; empty: every event about this partner's accounts, keys, usage alerts and endpoints",
    )
}

pub(super) fn owner(caller: &Caller) -> Owner {
    Owner::Partner(caller.partner().id.clone())
}

/// Field names of this API family in validation errors.
fn camel_case_fields(mut e: ApiError) -> ApiError {
    for f in &mut e.errors {
        if f.field == "event_types" {
            f.field = "eventTypes".into();
        }
    }
    e
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerCreateEndpointRequest {
    /// Where events are sent: `https://` (`http://` is allowed in staging), no credentials, no fragment; the host must resolve to public internet addresses.
    #[schema(max_length = 2048)]
    pub url: String,
    /// Up to 500 characters, no control characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// Omitted or empty: every event this partner receives.
    #[schema(schema_with = visible_event_types)]
    pub event_types: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerUpdateEndpointRequest {
    /// A new target, checked like a new endpoint's.
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    /// Up to 500 characters, no control characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// Replaces the list; empty: every event this partner receives.
    #[schema(schema_with = visible_event_types)]
    pub event_types: Option<Vec<String>>,
    /// Turns sending to the endpoint off and on.
    pub enabled: Option<bool>,
}

/// A partner's webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerEndpoint {
    /// `ep_…`
    pub id: String,
    #[schema(format = "uri")]
    pub url: String,
    pub description: String,
    #[schema(schema_with = visible_event_types)]
    pub event_types: Vec<String>,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A partner's webhook endpoint with its signing secret, shown only when it is created or rotated.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerEndpointWithSecret {
    pub id: String,
    #[schema(format = "uri")]
    pub url: String,
    pub description: String,
    #[schema(schema_with = visible_event_types)]
    pub event_types: Vec<String>,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `whsec_` and base64: the key of the `webhook-signature` HMAC. Shown only here; store it now.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]+={0,2}$")]
    pub secret: String,
}

/// A page of the partner's endpoints.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerEndpointList {
    pub data: Vec<PartnerEndpoint>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

impl From<EndpointBody> for PartnerEndpoint {
    fn from(e: EndpointBody) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            enabled: e.enabled,
            created_at: e.created_at,
        }
    }
}

impl From<EndpointWithSecret> for PartnerEndpointWithSecret {
    fn from(created: EndpointWithSecret) -> Self {
        let e = EndpointWithSecretBody::from(created);
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            enabled: e.enabled,
            created_at: e.created_at,
            secret: e.secret,
        }
    }
}

/// Add an endpoint for this partner's events, signed with the secret in this answer.
///
/// Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(
    post, path = "/v1/partners/webhooks/endpoints", operation_id = "partner_create_webhook_endpoint", tag = "partners",
    request_body = PartnerCreateEndpointRequest, params(IdempotencyKey), security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 201, description = "The endpoint and its secret (shown only here and at rotation)", body = PartnerEndpointWithSecret),
        (status = 400, description = "Invalid input (`invalid_json`, `validation_failed`, `unknown_field`) or a target outside the public internet (`webhook_target_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        PartnerRefusals,
        (status = 409, description = "Idempotency-Key reused with another body (`idempotency_key_reused`), its request still running (`conflict`), or its stored response unreadable (`idempotency_response_unreadable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PartnerCreateEndpointRequest>,
) -> ApiResult<(StatusCode, Json<PartnerEndpointWithSecret>)> {
    let input = NewEndpoint {
        url: body.url,
        description: body.description,
        event_types: body.event_types.unwrap_or_default(),
    };
    let created = state
        .core
        .webhooks()
        .create(&caller.tenant.env, &owner(&caller), &caller.actor(), input)
        .await
        .map_err(|e| camel_case_fields(e.into()))?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// This partner's endpoints, oldest first.
#[utoipa::path(
    get, path = "/v1/partners/webhooks/endpoints", operation_id = "partner_list_webhook_endpoints", tag = "partners",
    params(ListParams), security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "A page of endpoints", body = PartnerEndpointList),
        PartnerRefusals,
    )
)]
pub async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<PartnerEndpointList>> {
    let (cursor, limit) = page_params(params)?;
    let page = state
        .core
        .webhooks()
        .list(&caller.tenant.env, Some(&owner(&caller)), cursor.as_ref(), limit)
        .await?;
    Ok(Json(PartnerEndpointList {
        data: page.items.into_iter().map(|e| EndpointBody::from(e).into()).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One of this partner's endpoints.
#[utoipa::path(
    get, path = "/v1/partners/webhooks/endpoints/{id}", operation_id = "partner_get_webhook_endpoint", tag = "partners",
    params(("id" = String, Path, description = "Endpoint id")), security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "The endpoint", body = PartnerEndpoint),
        PartnerRefusals,
    )
)]
pub async fn get_endpoint(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<PartnerEndpoint>> {
    let id = EndpointId::lookup(&id)?;
    let endpoint = state.core.webhooks().get(&caller.tenant.env, &owner(&caller), &id).await?;
    Ok(Json(EndpointBody::from(endpoint).into()))
}

/// Change one of this partner's endpoints.
#[utoipa::path(
    patch, path = "/v1/partners/webhooks/endpoints/{id}", operation_id = "partner_update_webhook_endpoint", tag = "partners",
    request_body = PartnerUpdateEndpointRequest, params(("id" = String, Path, description = "Endpoint id")),
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "The updated endpoint", body = PartnerEndpoint),
        (status = 400, description = "Invalid input (`invalid_json`, `validation_failed`, `unknown_field`) or a target outside the public internet (`webhook_target_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        PartnerRefusals,
    )
)]
pub async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PartnerUpdateEndpointRequest>,
) -> ApiResult<Json<PartnerEndpoint>> {
    let id = EndpointId::lookup(&id)?;
    let changes = EndpointChanges {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        enabled: body.enabled,
    };
    let endpoint = state
        .core
        .webhooks()
        .update(&caller.tenant.env, &owner(&caller), &caller.actor(), &id, changes)
        .await
        .map_err(|e| camel_case_fields(e.into()))?;
    Ok(Json(EndpointBody::from(endpoint).into()))
}

/// Delete one of this partner's endpoints.
#[utoipa::path(
    delete, path = "/v1/partners/webhooks/endpoints/{id}", operation_id = "partner_delete_webhook_endpoint", tag = "partners",
    params(("id" = String, Path, description = "Endpoint id")), security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 204, description = "Deleted"),
        PartnerRefusals,
    )
)]
pub async fn delete_endpoint(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = EndpointId::lookup(&id)?;
    state
        .core
        .webhooks()
        .delete(&caller.tenant.env, &owner(&caller), &caller.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give one of this partner's endpoints a new secret, shown once; the previous one keeps signing beside it for 24 hours.
#[utoipa::path(
    post, path = "/v1/partners/webhooks/endpoints/{id}/rotate-secret", operation_id = "partner_rotate_webhook_endpoint_secret",
    tag = "partners", params(("id" = String, Path, description = "Endpoint id")), security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "The endpoint and its new secret (shown only here)", body = PartnerEndpointWithSecret),
        PartnerRefusals,
    )
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PartnerEndpointWithSecret>> {
    let id = EndpointId::lookup(&id)?;
    let rotated = state
        .core
        .webhooks()
        .rotate_secret(&caller.tenant.env, &owner(&caller), &caller.actor(), &id)
        .await?;
    Ok(Json(rotated.into()))
}
