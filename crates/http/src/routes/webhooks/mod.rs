//! Webhook endpoints: `/v1/webhooks/endpoints…` for service users (role
//! `service`: the environment's own endpoints, which may receive every
//! event; snake_case) and, in `partners.rs`, `/v1/partners/webhooks/endpoints…`
//! for partners (scope `webhooks:manage`: their own; camelCase). A
//! secret is in the answers of creation and rotation only; `deliveries.rs`
//! lists an endpoint's delivery attempts.

mod deliveries;
mod partners;

use axum::extract::State;
use axum::http::StatusCode;
use onramp_domain::clock::rfc3339;
use onramp_domain::events::EventType;
use onramp_domain::ids::EndpointId;
use onramp_domain::webhooks::service::{EndpointChanges, EndpointWithSecret, NewEndpoint};
use onramp_domain::webhooks::{Endpoint, Owner};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{Authorized, EventFeed, Json, PartnerAuthorized, Path, Query, WebhooksManage};
use crate::middleware::idempotency::idempotency;
use crate::openapi::{IdempotencyKey, ServiceRefusals};
use crate::problem::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::AppState;

type Caller = Authorized<EventFeed>;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let creating = OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::<Caller>));
    let partner_creating = OpenApiRouter::new()
        .routes(routes!(partners::create_endpoint, partners::list_endpoints))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::<PartnerAuthorized<WebhooksManage>>,
        ));
    OpenApiRouter::new()
        .merge(creating)
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::partner_list))
        .routes(routes!(deliveries::resend))
        .routes(routes!(deliveries::recover))
        .routes(routes!(deliveries::partner_resend))
        .routes(routes!(deliveries::partner_recover))
        .merge(partner_creating)
        .routes(routes!(
            partners::get_endpoint,
            partners::update_endpoint,
            partners::delete_endpoint
        ))
        .routes(routes!(partners::rotate_secret))
}

/// An array of event type names: every type, or those a partner may receive.
fn event_types_schema(types: impl Iterator<Item = EventType>, description: &str) -> RefOr<Schema> {
    let item = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(types.map(|t| t.as_str())))
        .build();
    ArrayBuilder::new().items(item).description(Some(description)).build().into()
}

fn all_event_types() -> RefOr<Schema> {
    event_types_schema(
        EventType::ALL.iter().copied(),
        "The event types it receives; empty: every event of the environment",
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointRequest {
    /// Where events are sent: `https://` (`http://` is allowed in staging), no credentials, no fragment; the host must resolve to public internet addresses.
    #[schema(max_length = 2048)]
    pub url: String,
    /// Up to 500 characters, no control characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// Omitted or empty: every event of the environment.
    #[schema(schema_with = all_event_types)]
    pub event_types: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointRequest {
    /// A new target, checked like a new endpoint's.
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    /// Up to 500 characters, no control characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// Replaces the list; empty: every event.
    #[schema(schema_with = all_event_types)]
    pub event_types: Option<Vec<String>>,
    /// Turns sending to the endpoint off and on.
    pub enabled: Option<bool>,
}

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointBody {
    /// `ep_…`
    pub id: String,
    #[schema(format = "uri")]
    pub url: String,
    pub description: String,
    #[schema(schema_with = all_event_types)]
    pub event_types: Vec<String>,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A webhook endpoint with its signing secret, shown only when it is created or rotated.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecretBody {
    pub id: String,
    #[schema(format = "uri")]
    pub url: String,
    pub description: String,
    #[schema(schema_with = all_event_types)]
    pub event_types: Vec<String>,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `whsec_` and base64: the key of the `webhook-signature` HMAC. Shown only here; store it now.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]+={0,2}$")]
    pub secret: String,
}

/// A page of endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    pub data: Vec<EndpointBody>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The previous page's cursor (empty: the first page).
    #[param(pattern = "^(ep_[0-9a-f]{32})?$")]
    pub cursor: Option<String>,
}

impl From<Endpoint> for EndpointBody {
    fn from(e: Endpoint) -> Self {
        Self {
            enabled: e.enabled(),
            id: e.id.into_string(),
            url: e.url,
            description: e.description,
            event_types: e.event_types.iter().map(|t| t.as_str().to_owned()).collect(),
            created_at: rfc3339(e.created_at),
        }
    }
}

impl From<EndpointWithSecret> for EndpointWithSecretBody {
    fn from(created: EndpointWithSecret) -> Self {
        let e = EndpointBody::from(created.endpoint);
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            enabled: e.enabled,
            created_at: e.created_at,
            secret: created.secret.expose().to_owned(),
        }
    }
}

/// `limit` 1 to 200 (default 50) and a cursor that is an endpoint id.
fn page_params(params: ListParams) -> Result<(Option<EndpointId>, u32), ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "limit must be between 1 and 200"));
    }
    let cursor = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => {
            Some(EndpointId::lookup(raw).map_err(|_| ApiError::new(ErrorCode::InvalidQuery, "cursor is not a cursor of this list"))?)
        }
    };
    Ok((cursor, limit))
}

/// Add an endpoint: events of the environment from now on will be sent to it, signed with the secret in this answer.
///
/// Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(
    post, path = "/v1/webhooks/endpoints", operation_id = "create_webhook_endpoint", tag = "webhooks",
    request_body = CreateEndpointRequest, params(IdempotencyKey), security(("bearer" = [])),
    responses(
        (status = 201, description = "The endpoint and its secret (shown only here and at rotation)", body = EndpointWithSecretBody),
        (status = 400, description = "Invalid input (`invalid_json`, `validation_failed`, `unknown_field`) or a target outside the public internet (`webhook_target_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        ServiceRefusals,
        (status = 409, description = "Idempotency-Key reused with another body (`idempotency_key_reused`), its request still running (`conflict`), or its stored response unreadable (`idempotency_response_unreadable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateEndpointRequest>,
) -> ApiResult<(StatusCode, Json<EndpointWithSecretBody>)> {
    let input = NewEndpoint {
        url: body.url,
        description: body.description,
        event_types: body.event_types.unwrap_or_default(),
    };
    let created = state
        .core
        .webhooks()
        .create(&caller.tenant.env, &Owner::Environment, &caller.actor(), input)
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The environment's endpoints (not partners'), oldest first.
#[utoipa::path(
    get, path = "/v1/webhooks/endpoints", operation_id = "list_webhook_endpoints", tag = "webhooks",
    params(ListParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of endpoints", body = EndpointList),
        ServiceRefusals,
    )
)]
pub async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<EndpointList>> {
    let (cursor, limit) = page_params(params)?;
    let page = state
        .core
        .webhooks()
        .list(&caller.tenant.env, Some(&Owner::Environment), cursor.as_ref(), limit)
        .await?;
    Ok(Json(EndpointList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One of the environment's endpoints.
#[utoipa::path(
    get, path = "/v1/webhooks/endpoints/{id}", operation_id = "get_webhook_endpoint", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint", body = EndpointBody),
        ServiceRefusals,
    )
)]
pub async fn get_endpoint(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<EndpointBody>> {
    let id = EndpointId::lookup(&id)?;
    let endpoint = state.core.webhooks().get(&caller.tenant.env, &Owner::Environment, &id).await?;
    Ok(Json(endpoint.into()))
}

/// Change an endpoint's URL, description, event types, or turn it off and on.
#[utoipa::path(
    patch, path = "/v1/webhooks/endpoints/{id}", operation_id = "update_webhook_endpoint", tag = "webhooks",
    request_body = UpdateEndpointRequest, params(("id" = String, Path, description = "Endpoint id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated endpoint", body = EndpointBody),
        (status = 400, description = "Invalid input (`invalid_json`, `validation_failed`, `unknown_field`) or a target outside the public internet (`webhook_target_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        ServiceRefusals,
    )
)]
pub async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UpdateEndpointRequest>,
) -> ApiResult<Json<EndpointBody>> {
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
        .update(&caller.tenant.env, &Owner::Environment, &caller.actor(), &id, changes)
        .await?;
    Ok(Json(endpoint.into()))
}

/// Delete an endpoint: nothing more is sent to it.
#[utoipa::path(
    delete, path = "/v1/webhooks/endpoints/{id}", operation_id = "delete_webhook_endpoint", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id")), security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        ServiceRefusals,
    )
)]
pub async fn delete_endpoint(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = EndpointId::lookup(&id)?;
    state
        .core
        .webhooks()
        .delete(&caller.tenant.env, &Owner::Environment, &caller.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give an endpoint a new secret, shown once; the previous one keeps signing beside it for 24 hours.
#[utoipa::path(
    post, path = "/v1/webhooks/endpoints/{id}/rotate-secret", operation_id = "rotate_webhook_endpoint_secret", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint and its new secret (shown only here)", body = EndpointWithSecretBody),
        ServiceRefusals,
    )
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EndpointWithSecretBody>> {
    let id = EndpointId::lookup(&id)?;
    let rotated = state
        .core
        .webhooks()
        .rotate_secret(&caller.tenant.env, &Owner::Environment, &caller.actor(), &id)
        .await?;
    Ok(Json(rotated.into()))
}
