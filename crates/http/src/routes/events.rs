//! The event feed: `GET /v1/events` for service users (every event of the
//! environment) and `GET /v1/partners/events` for partners (events about
//! their own accounts, keys and alerts). Both read in `sequence` order.

use std::sync::LazyLock;

use axum::extract::State;
use onramp_domain::events::{Event, EventFilter, EventType};
use onramp_domain::ids::PartnerId;
use onramp_domain::tenancy::Tenant;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{ObjectBuilder, RefOr, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{Authorized, EventFeed, Json, PartnerAuthorized, Query, WebhooksManage};
use crate::openapi::{ClientAccountRefusals, PartnerRefusals};
use crate::problem::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(feed)).routes(routes!(partner_feed))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Only events after this sequence (the previous page's cursor) [default and empty: 0, from the start].
    #[param(pattern = "^[0-9]{0,18}$")]
    pub after: Option<String>,
    /// Only events of this type, e.g. `account.created` (empty: every type).
    #[serde(rename = "type")]
    #[param(rename = "type", schema_with = event_type_param)]
    pub event_type: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Who caused an event: ids only.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventActorBody {
    /// `operator`, `service_user`, `api_key`, `vendor_app`, `account`, `portal_user`, `scim_token` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

/// One lifecycle event; the same payload as a webhook's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    /// `evt_…`; a webhook's `webhook-id`.
    pub id: String,
    #[serde(rename = "type")]
    #[schema(schema_with = event_type_schema)]
    pub event_type: String,
    /// When the change committed (RFC 3339).
    #[schema(format = DateTime)]
    pub timestamp: String,
    /// Per environment, increasing in commit order.
    pub sequence: i64,
    pub platform_id: String,
    /// `staging` or `production`.
    pub environment: String,
    pub actor: EventActorBody,
    #[schema(schema_with = event_data_schema)]
    pub data: serde_json::Value,
}

impl From<Event> for EventBody {
    fn from(e: Event) -> Self {
        Self {
            id: e.id.into_string(),
            event_type: e.event_type,
            timestamp: onramp_domain::clock::rfc3339(e.timestamp),
            sequence: e.sequence,
            platform_id: e.platform_id.to_string(),
            environment: e.environment,
            actor: EventActorBody {
                kind: e.actor.kind,
                id: e.actor.id,
            },
            data: e.data,
        }
    }
}

fn event_type_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(EventType::ALL.iter().map(|t| t.as_str())))
        .description(Some("What happened"))
}

fn event_type_param() -> impl Into<RefOr<Schema>> {
    let values = std::iter::once("").chain(EventType::ALL.iter().map(|t| t.as_str()));
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values))
}

/// `data`'s keys per type, written once in the domain ([`EventType::data_fields`]).
static DATA_DESCRIPTION: LazyLock<String> = LazyLock::new(|| {
    let mut out = String::from("The objects the event is about, by these keys (snake_case in every API family):");
    for t in EventType::ALL {
        out.push_str(&format!("\n- `{t}`: {}", t.data_fields().join(", ")));
    }
    out
});

fn event_data_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(DATA_DESCRIPTION.as_str()))
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub data: Vec<EventBody>,
    /// The last `sequence` of this page, to pass as `after`; null for an empty page (poll again with the same `after`).
    pub next_cursor: Option<i64>,
}

/// A page of the partner's events (the events themselves keep snake_case).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerEventList {
    pub data: Vec<EventBody>,
    /// The last `sequence` of this page, to pass as `after`; null for an empty page (poll again with the same `after`).
    pub next_cursor: Option<i64>,
}

/// Reads the query: `after` a sequence, a known `type`, `limit` 1 to 200.
fn filter(params: FeedParams, partner: Option<&PartnerId>) -> Result<EventFilter, ApiError> {
    let after = match params.after.as_deref().filter(|a| !a.is_empty()) {
        None => 0,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0 && raw.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    "after must be a sequence number (the previous page's cursor)",
                )
            })?,
    };
    let event_type = match params.event_type.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<EventType>()
                .map_err(|()| ApiError::new(ErrorCode::InvalidQuery, format!("unknown event type `{raw}`")))?,
        ),
    };
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "limit must be between 1 and 200"));
    }
    Ok(EventFilter {
        after,
        event_type,
        partner_id: partner.cloned(),
        limit,
    })
}

async fn page(state: &AppState, tenant: &Tenant, filter: EventFilter) -> ApiResult<(Vec<EventBody>, Option<i64>)> {
    let page = state.core.events().feed(tenant, &filter).await?;
    let next_cursor = page.items.last().map(|e| e.sequence);
    Ok((page.items.into_iter().map(Into::into).collect(), next_cursor))
}

/// The environment's events in `sequence` order: poll with the last page's cursor as `after`.
#[utoipa::path(
    get, path = "/v1/events", operation_id = "list_events", tag = "events", params(FeedParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events", body = EventList),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        ClientAccountRefusals,
    )
)]
pub async fn feed(
    State(state): State<AppState>,
    caller: Authorized<EventFeed>,
    Query(params): Query<FeedParams>,
) -> ApiResult<Json<EventList>> {
    let (data, next_cursor) = page(&state, &caller.tenant, filter(params, None)?).await?;
    Ok(Json(EventList { data, next_cursor }))
}

/// This partner's events (its accounts, keys and alerts) in `sequence` order.
#[utoipa::path(
    get, path = "/v1/partners/events", operation_id = "partner_list_events", tag = "partners", params(FeedParams),
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "A page of events", body = PartnerEventList),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        PartnerRefusals,
    )
)]
pub async fn partner_feed(
    State(state): State<AppState>,
    caller: PartnerAuthorized<WebhooksManage>,
    Query(params): Query<FeedParams>,
) -> ApiResult<Json<PartnerEventList>> {
    let filter = filter(params, Some(&caller.partner().id))?;
    let (data, next_cursor) = page(&state, &caller.tenant, filter).await?;
    Ok(Json(PartnerEventList { data, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_description_names_every_type() {
        for t in EventType::ALL {
            assert!(DATA_DESCRIPTION.contains(&format!("`{t}`")), "{t}");
        }
    }
}
