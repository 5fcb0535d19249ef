//! `POST /scim/v2/.search` (RFC 7644 §3.4.3): a search across Users and
//! Groups. Users come first, then Groups, each in its stable order, and
//! `startIndex`/`count` page through the two as one list. A filter only one
//! type can answer (`userName eq`, `displayName eq`, `members.value eq`)
//! searches that type; `id eq` and `externalId eq` search both; a filter
//! neither answers is `400 invalidFilter`.

use axum::extract::State;
use axum::response::Response;
use onramp_domain::scim::groups::group_query;
use onramp_domain::scim::users::UserQuery;
use serde_json::{Value, json};

use super::groups::{LIST_SCHEMA, filter, paging, resources, scim};
use super::user_resource::UserResource;
use super::users::ListParams;
use super::{ScimBody, ScimCaller};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// `POST /.search` with a SearchRequest body.
pub async fn search_all(State(state): State<AppState>, caller: ScimCaller, ScimBody(body): ScimBody) -> ApiResult<Response> {
    let params = ListParams::from_body(&body)?;
    let (start, count) = paging(&params);
    let filter = filter(&params)?;
    let (users, groups) = (UserQuery::from_filter(filter.as_ref()), group_query(filter.as_ref()));
    if let (Err(u), Err(g)) = (&users, &groups) {
        return Err(ApiError::new(
            ErrorCode::InvalidFilter,
            format!("{} (Users); {} (Groups)", u.0, g.0),
        ));
    }
    let offset = start - 1;
    let mut found: Vec<Value> = Vec::new();
    let mut total = 0;
    if let Ok(query) = users {
        let (accounts, n) = state.core.scim_users().page(&caller.tenant, &query, start, count).await?;
        let origin = state.core.tenancy().issuer(&caller.tenant);
        found.extend(accounts.iter().map(|(account, extra)| {
            let mut resource = UserResource {
                origin: &origin,
                account,
                extra,
            }
            .to_value();
            params.projection.apply(&mut resource);
            resource
        }));
        total += n;
    }
    if let Ok(query) = groups {
        // Groups follow the Users: skip what the Users did not fill.
        let skip = offset.saturating_sub(total);
        let room = count.saturating_sub(u32::try_from(found.len()).unwrap_or(count));
        let (page, n) = state.core.groups().find(&caller.tenant, &query, skip, room).await?;
        found.extend(resources(&state, &caller, &page, &params.projection).await?);
        total += n;
    }
    Ok(scim(json!({
        "schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
        "itemsPerPage": found.len(), "Resources": found,
    })))
}
