//! `/Groups`: groups of accounts as SCIM Group resources (RFC 7643 §4.2).
//! Members are `{"value": <account id>, "display": <email>, "$ref": <the
//! User's location>, "type": "User"}`; `excludedAttributes=members` (which
//! Entra sends) skips reading them at all. `meta.version` counts every
//! change of the group, memberships included.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::clock::rfc3339;
use onramp_domain::groups::{Group, Member};
use onramp_domain::ids::GroupId;
use onramp_domain::scim::groups::{group_from_body, group_query, patch_change, replacement};
use onramp_domain::scim::groups_patch::group_edits;
use onramp_domain::scim::patch::{PatchError, PatchRequest};
use onramp_domain::scim::projection::Projection;
use onramp_domain::scim::users::{DEFAULT_COUNT, MAX_RESULTS};
use onramp_domain::scim::{CORE_GROUP, Filter};
use serde_json::{Value, json};

use super::users::ListParams;
use super::{BASE, MEDIA_TYPE, ScimBody, ScimCaller};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

pub(super) const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// `GET /Groups?filter=&startIndex=&count=&attributes=&excludedAttributes=`.
pub async fn list_groups(State(state): State<AppState>, caller: ScimCaller, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    list(&state, &caller, ListParams::from_query(raw.as_deref())?).await
}

/// `POST /Groups/.search`: the same with the parameters in the body.
pub async fn search_groups(State(state): State<AppState>, caller: ScimCaller, ScimBody(body): ScimBody) -> ApiResult<Response> {
    list(&state, &caller, ListParams::from_body(&body)?).await
}

/// The page a listing asks for: its 1-based start and its size, clamped
/// to [`MAX_RESULTS`].
pub(super) fn paging(params: &ListParams) -> (u64, u32) {
    let start = u64::try_from(params.start_index.unwrap_or(1).max(1)).unwrap_or(1);
    let count = params.count.map_or(DEFAULT_COUNT, |n| {
        u32::try_from(n.clamp(0, i64::from(MAX_RESULTS))).unwrap_or(MAX_RESULTS)
    });
    (start, count)
}

/// The listing's filter, parsed.
pub(super) fn filter(params: &ListParams) -> ApiResult<Option<Filter>> {
    match params.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        None => Ok(None),
        Some(raw) => Ok(Some(
            Filter::parse(raw).map_err(|e| ApiError::new(ErrorCode::InvalidFilter, e.to_string()))?,
        )),
    }
}

async fn list(state: &AppState, caller: &ScimCaller, params: ListParams) -> ApiResult<Response> {
    let (start, count) = paging(&params);
    let query = group_query(filter(&params)?.as_ref()).map_err(|e| ApiError::new(ErrorCode::InvalidFilter, e.0))?;
    let (groups, total) = state.core.groups().find(&caller.tenant, &query, start - 1, count).await?;
    let resources = resources(state, caller, &groups, &params.projection).await?;
    Ok(scim(json!({
        "schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
        "itemsPerPage": resources.len(), "Resources": resources,
    })))
}

/// Groups as resources, their members read only when the answer has them.
pub(super) async fn resources(state: &AppState, caller: &ScimCaller, groups: &[Group], projection: &Projection) -> ApiResult<Vec<Value>> {
    let mut members = if projection.includes("members") && !groups.is_empty() {
        let ids: Vec<GroupId> = groups.iter().map(|g| g.id.clone()).collect();
        state.core.groups().members_of(&caller.tenant, &ids).await?
    } else {
        HashMap::new()
    };
    let origin = state.core.tenancy().issuer(&caller.tenant);
    Ok(groups
        .iter()
        .map(|g| {
            let listed = projection.includes("members").then(|| members.remove(&g.id).unwrap_or_default());
            let mut resource = group(&origin, g, listed.as_deref());
            projection.apply(&mut resource);
            resource
        })
        .collect())
}

/// `GET /Groups/{id}`.
pub async fn get_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = ListParams::from_query(raw.as_deref())?;
    let id = lookup(&id)?;
    let group = found(state.core.groups().group(&caller.tenant, &id).await, &id)?;
    answer(&state, &caller, &group, &params.projection).await
}

/// `POST /Groups`: a new group (`201`, `Location` = `meta.location`).
pub async fn create_group(State(state): State<AppState>, caller: ScimCaller, ScimBody(body): ScimBody) -> ApiResult<Response> {
    let new = group_from_body(&body)?;
    let group = state.core.groups().create(&caller.tenant, &caller.actor(), new).await?;
    let mut response = answer(&state, &caller, &group, &Projection::default()).await?;
    *response.status_mut() = StatusCode::CREATED;
    let location = location(&state.core.tenancy().issuer(&caller.tenant), &group.id);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `PUT /Groups/{id}`: `displayName`, `externalId` and `members` replaced;
/// an omitted `externalId` or `members` is removed.
pub async fn put_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let params = ListParams::from_query(raw.as_deref())?;
    let id = lookup(&id)?;
    let change = replacement(&body, if_match(&headers))?;
    let group = found(state.core.groups().update(&caller.tenant, &caller.actor(), &id, change).await, &id)?;
    answer(&state, &caller, &group, &params.projection).await
}

/// `PATCH /Groups/{id}`: the operations Okta and Entra send (see
/// [`onramp_domain::scim::groups_patch`]); answers `200` with the group as
/// it is after them (`excludedAttributes=members` keeps a large group's
/// members out of the answer), or `204` when `attributes=` is given empty,
/// as `PATCH /Users` does.
pub async fn patch_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let params = ListParams::from_query(raw.as_deref())?;
    let id = lookup(&id)?;
    let request: PatchRequest =
        serde_json::from_value(body).map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("not a PatchOp request: {e}")))?;
    let edits = group_edits(&request, &id).map_err(patch_error)?;
    let groups = state.core.groups();
    let change = patch_change(groups, &caller.tenant, &id, edits, if_match(&headers)).await?;
    let group = found(groups.update(&caller.tenant, &caller.actor(), &id, change).await, &id)?;
    if params.asks_for_nothing {
        // RFC 7644 §3.5.2 allows 204 instead of the resource.
        return Ok(with_etag(StatusCode::NO_CONTENT.into_response(), &group));
    }
    answer(&state, &caller, &group, &params.projection).await
}

/// `DELETE /Groups/{id}`: the group and its memberships, never the
/// accounts (`204`).
pub async fn delete_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = lookup(&id)?;
    let deleted = state
        .core
        .groups()
        .delete(&caller.tenant, &caller.actor(), &id, if_match(&headers))
        .await;
    found(deleted, &id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A PATCH refusal as its SCIM error.
pub(super) fn patch_error(e: PatchError) -> ApiError {
    match e {
        PatchError::Syntax(m) => ApiError::new(ErrorCode::InvalidJson, m),
        PatchError::Path(m) => ApiError::new(ErrorCode::InvalidPath, m),
        PatchError::Value(m) => ApiError::new(ErrorCode::ValidationFailed, m),
        PatchError::Mutability(m) => ApiError::new(ErrorCode::ReadOnlyAttribute, m),
    }
}

/// The version `If-Match` asks for: `None` without one or with `*`; a tag
/// that is no version of ours never matches.
fn if_match(headers: &HeaderMap) -> Option<i64> {
    let wanted = headers.get(header::IF_MATCH)?.to_str().unwrap_or_default();
    let tags: Vec<&str> = wanted.split(',').map(str::trim).collect();
    if tags.contains(&"*") {
        return None;
    }
    let bare = |tag: &str| tag.trim_start_matches("W/").trim_matches('"').parse::<i64>().ok();
    Some(tags.iter().find_map(|t| bare(t)).unwrap_or(-1))
}

fn lookup(id: &str) -> ApiResult<GroupId> {
    GroupId::lookup(id).map_err(|_| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no Group with id `{id}`"))
}

/// A missing group as SCIM's `404`.
fn found<T>(result: Result<T, DomainError>, id: &GroupId) -> ApiResult<T> {
    match result {
        Err(DomainError::NotFound("group")) => Err(not_found(id.as_str())),
        other => Ok(other?),
    }
}

/// The group as a resource, with `ETag` and the SCIM media type.
async fn answer(state: &AppState, caller: &ScimCaller, group: &Group, projection: &Projection) -> ApiResult<Response> {
    let resource = resources(state, caller, std::slice::from_ref(group), projection)
        .await?
        .pop()
        .unwrap_or_default();
    Ok(with_etag(scim(resource), group))
}

/// The group's version as `ETag`.
fn with_etag(mut response: Response, group: &Group) -> Response {
    if let Ok(etag) = HeaderValue::from_str(&version(group)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

pub(super) fn scim(body: Value) -> Response {
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}

/// The weak ETag of a group's current version.
fn version(group: &Group) -> String {
    format!("W/\"{}\"", group.version)
}

fn location(origin: &str, id: &GroupId) -> String {
    format!("{origin}{BASE}/Groups/{id}")
}

/// The Group resource; `members` when the answer carries them.
pub fn group(origin: &str, group: &Group, members: Option<&[Member]>) -> Value {
    let mut resource = json!({
        "schemas": [CORE_GROUP],
        "id": group.id,
        "displayName": group.display_name,
        "meta": {
            "resourceType": "Group",
            "created": rfc3339(group.created_at),
            "lastModified": rfc3339(group.updated_at),
            "location": location(origin, &group.id),
            "version": version(group),
        },
    });
    if let Some(external_id) = &group.external_id {
        resource["externalId"] = json!(external_id);
    }
    if let Some(members) = members {
        let members: Vec<Value> = members
            .iter()
            .map(|m| {
                json!({ "value": m.account_id, "display": m.email, "type": "User",
                        "$ref": format!("{origin}{BASE}/Users/{}", m.account_id) })
            })
            .collect();
        resource["members"] = json!(members);
    }
    resource
}
