//! `/Users`: accounts as SCIM User resources (RFC 7643 §4.1). `id` is the
//! account id, so a person is the same resource in every API; `userName`
//! is the account's email, mirrored by the primary `emails` entry.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::accounts::Account;
use onramp_domain::accounts::service::AccountChanges;
use onramp_domain::ids::AccountId;
use onramp_domain::scim::Filter;
use onramp_domain::scim::projection::Projection;
use onramp_domain::scim::store::ScimExtra;
use onramp_domain::scim::users::{DEFAULT_COUNT, MAX_RESULTS, UserQuery};
use serde_json::{Value, json};

use onramp_domain::DomainError;
use onramp_domain::scim::patch::{PatchError, PatchRequest, user_changes};
use onramp_domain::scim::patch_extra::patched;

use super::user_resource::{Shaped, UserResource, version};
use super::{BASE, MEDIA_TYPE, ScimBody, ScimCaller};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// What a listing asks for, from the query (`GET /Users`) or the body
/// (`POST /Users/.search`).
#[derive(Debug, Default)]
pub struct ListParams {
    pub(super) filter: Option<String>,
    pub(super) start_index: Option<i64>,
    pub(super) count: Option<i64>,
    pub(super) projection: Projection,
    /// `attributes=` given empty: a change answers `204`.
    pub(super) asks_for_nothing: bool,
}

impl ListParams {
    /// From a query string; names are case-insensitive, unknown ones ignored.
    pub(super) fn from_query(raw: Option<&str>) -> ApiResult<Self> {
        let params: HashMap<String, String> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
            .collect();
        let number = |key: &str, what: &str| -> ApiResult<Option<i64>> {
            params
                .get(key)
                .map(|raw| {
                    raw.trim()
                        .parse::<i64>()
                        .map_err(|_| invalid(&format!("{what} must be an integer")))
                })
                .transpose()
        };
        Ok(Self {
            filter: params.get("filter").cloned(),
            start_index: number("startindex", "startIndex")?,
            count: number("count", "count")?,
            projection: projection(&params)?,
            asks_for_nothing: params.get("attributes").is_some_and(|a| a.trim().is_empty()),
        })
    }

    /// From a SearchRequest body (RFC 7644 §3.4.3).
    pub(super) fn from_body(body: &Value) -> ApiResult<Self> {
        let Value::Object(fields) = body else {
            return Err(ApiError::new(ErrorCode::InvalidJson, "a SearchRequest must be a JSON object"));
        };
        let get = |key: &str| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v);
        let number = |key: &str| -> ApiResult<Option<i64>> {
            match get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_i64().map(Some).ok_or_else(|| invalid(&format!("{key} must be an integer"))),
            }
        };
        let list = |key: &str| -> Vec<String> {
            match get(key) {
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                Some(Value::String(s)) => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        let projection = Projection::parse(&list("attributes"), &list("excludedAttributes"))
            .map_err(|e| ApiError::new(ErrorCode::InvalidPath, e.to_string()))?;
        Ok(Self {
            filter: get("filter").and_then(Value::as_str).map(str::to_owned),
            start_index: number("startIndex")?,
            count: number("count")?,
            projection,
            asks_for_nothing: false,
        })
    }
}

/// `attributes` and `excludedAttributes` of a query.
fn projection(params: &HashMap<String, String>) -> ApiResult<Projection> {
    let list = |key: &str| params.get(key).cloned().into_iter().collect::<Vec<_>>();
    Projection::parse(&list("attributes"), &list("excludedattributes")).map_err(|e| ApiError::new(ErrorCode::InvalidPath, e.to_string()))
}

/// `GET /Users?filter=&startIndex=&count=&attributes=&excludedAttributes=`:
/// a page of Users in a stable order. Parameters it does not know are
/// ignored (a tolerant reader).
pub async fn list_users(State(state): State<AppState>, caller: ScimCaller, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    list(&state, &caller, ListParams::from_query(raw.as_deref())?).await
}

/// `POST /Users/.search`: the same with the parameters in the body.
pub async fn search_users(State(state): State<AppState>, caller: ScimCaller, ScimBody(body): ScimBody) -> ApiResult<Response> {
    list(&state, &caller, ListParams::from_body(&body)?).await
}

async fn list(state: &AppState, caller: &ScimCaller, params: ListParams) -> ApiResult<Response> {
    let start = u64::try_from(params.start_index.unwrap_or(1).max(1)).unwrap_or(1);
    let count = params.count.map_or(DEFAULT_COUNT, |n| {
        u32::try_from(n.clamp(0, i64::from(MAX_RESULTS))).unwrap_or(MAX_RESULTS)
    });
    let filter = match params.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        None => None,
        Some(raw) => Some(Filter::parse(raw).map_err(|e| ApiError::new(ErrorCode::InvalidFilter, e.to_string()))?),
    };
    let query = UserQuery::from_filter(filter.as_ref()).map_err(|e| ApiError::new(ErrorCode::InvalidFilter, e.0))?;
    let (accounts, total) = state.core.scim_users().page(&caller.tenant, &query, start, count).await?;
    let origin = state.core.tenancy().issuer(&caller.tenant);
    let resources: Vec<Shaped<'_>> = accounts
        .iter()
        .map(|(account, extra)| {
            let resource = UserResource {
                origin: &origin,
                account,
                extra,
            };
            resource.shaped(&params.projection)
        })
        .collect();
    let body = json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    Ok(response)
}

fn invalid(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, detail)
}

/// A User by id.
pub async fn get_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = ListParams::from_query(raw.as_deref())?;
    let id = AccountId::parse("id", &id).map_err(|_| not_found(&id))?;
    let account = found(state.core.accounts().account(&caller.tenant, &id).await, &id)?;
    let extra = state.core.scim_users().extra(&caller.tenant, &account).await?;
    Ok(shaped(&state, &caller, &account, &extra, &params.projection))
}

/// `PATCH /Users/{id}`: the operations Okta and Entra send (see
/// [`onramp_domain::scim::patch`]); answers the User as it is after them.
pub async fn patch_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let params = ListParams::from_query(raw.as_deref())?;
    let id = AccountId::parse("id", &id).map_err(|_| not_found(&id))?;
    let (before, if_version) = current(&state, &caller, &id, &headers).await?;
    let request: PatchRequest =
        serde_json::from_value(body).map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("not a PatchOp request: {e}")))?;
    let mut changes = user_changes(&request).map_err(patch_error)?;
    changes.if_version = if_version;
    let users = state.core.scim_users();
    // What SCIM keeps changes in the account's own transaction, if at all.
    changes.scim = patched(users.extra(&caller.tenant, &before).await?, &request).map_err(patch_error)?;
    let accounts = state.core.accounts();
    let account = found(accounts.update_account(&caller.tenant, &caller.actor(), &id, changes).await, &id)?;
    if params.asks_for_nothing {
        // RFC 7644 §3.5.2 allows 204 instead of the resource.
        return Ok(with_headers(StatusCode::NO_CONTENT.into_response(), &account));
    }
    let extra = users.extra(&caller.tenant, &account).await?;
    Ok(shaped(&state, &caller, &account, &extra, &params.projection))
}

fn patch_error(e: PatchError) -> ApiError {
    match e {
        PatchError::Syntax(m) => ApiError::new(ErrorCode::InvalidJson, m),
        PatchError::Path(m) => ApiError::new(ErrorCode::InvalidPath, m),
        PatchError::Value(m) => ApiError::new(ErrorCode::ValidationFailed, m),
        PatchError::Mutability(m) => ApiError::new(ErrorCode::ReadOnlyAttribute, m),
    }
}

/// `PUT /Users/{id}`: the User replaced (see
/// [`onramp_domain::scim::replace`]: an omitted `active` or `password` is
/// kept).
pub async fn put_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let id = AccountId::parse("id", &id).map_err(|_| not_found(&id))?;
    let (_, if_version) = current(&state, &caller, &id, &headers).await?;
    let accounts = state.core.accounts();
    let actor = caller.actor();
    let update = |changes: AccountChanges| {
        let changes = AccountChanges { if_version, ..changes };
        accounts.update_account(&caller.tenant, &actor, &id, changes)
    };
    let (account, extra) = found(state.core.scim_users().replace(&caller.tenant, &id, &body, update).await, &id)?;
    Ok(resource(&state.core.tenancy().issuer(&caller.tenant), &account, &extra))
}

/// The account, if `If-Match` (when sent) names its current version, and
/// that version when one was named (the change applies only if it still
/// is: two clients with the same version cannot both change the User).
async fn current(state: &AppState, caller: &ScimCaller, id: &AccountId, headers: &HeaderMap) -> ApiResult<(Account, Option<i64>)> {
    let account = found(state.core.accounts().account(&caller.tenant, id).await, id)?;
    let Some(wanted) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Ok((account, None));
    };
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").trim_matches('"').to_owned();
    let now = bare(&version(&account));
    if wanted.split(',').any(|tag| tag.trim() == "*") {
        Ok((account, None))
    } else if wanted.split(',').any(|tag| bare(tag) == now) {
        let version = account.updated_at;
        Ok((account, Some(version)))
    } else {
        Err(ApiError::new(ErrorCode::PreconditionFailed, "the User changed since that version"))
    }
}

/// `DELETE /Users/{id}`: deletes the account (`204`).
pub async fn delete_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = AccountId::parse("id", &id).map_err(|_| not_found(&id))?;
    current(&state, &caller, &id, &headers).await?;
    found(
        state.core.accounts().delete_account(&caller.tenant, &caller.actor(), &id).await,
        &id,
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no User with id `{id}`"))
}

/// A missing account as SCIM's `404`.
fn found<T>(result: Result<T, DomainError>, id: &AccountId) -> ApiResult<T> {
    match result {
        Ok(value) => Ok(value),
        Err(DomainError::UserNotFound | DomainError::NotFound(_)) => Err(not_found(id.as_str())),
        Err(e) => Err(e.into()),
    }
}

/// The weak ETag of an account's current version.
/// `POST /Users`: a new account (`201`, `Location` = `meta.location`).
pub async fn create_user(State(state): State<AppState>, caller: ScimCaller, ScimBody(body): ScimBody) -> ApiResult<Response> {
    let (account, extra) = state.core.scim_users().create(&caller.tenant, &caller.actor(), &body).await?;
    let origin = state.core.tenancy().issuer(&caller.tenant);
    let mut response = resource(&origin, &account, &extra);
    *response.status_mut() = StatusCode::CREATED;
    let location = format!("{origin}{BASE}/Users/{}", account.id);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The account as a User, with what SCIM keeps of it.
/// The User with the attributes `projection` asks for, its `ETag` and the
/// SCIM media type.
fn shaped(state: &AppState, caller: &ScimCaller, account: &Account, extra: &ScimExtra, projection: &Projection) -> Response {
    let origin = state.core.tenancy().issuer(&caller.tenant);
    let body = UserResource {
        origin: &origin,
        account,
        extra,
    }
    .shaped(projection);
    with_headers(axum::Json(body).into_response(), account)
}

/// The account as a SCIM User, with `ETag` and the SCIM media type.
fn resource(origin: &str, account: &Account, extra: &ScimExtra) -> Response {
    with_headers(axum::Json(UserResource { origin, account, extra }).into_response(), account)
}

/// The SCIM media type, and the account's version as `ETag`.
fn with_headers(mut response: Response, account: &Account) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    if let Ok(etag) = HeaderValue::from_str(&version(account)) {
        headers.insert(header::ETAG, etag);
    }
    response
}
