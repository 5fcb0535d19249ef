//! Groups for service users (feature `client-accounts`): read-only; the
//! environment's identity provider writes them over SCIM (`/scim/v2/Groups`).

use axum::extract::State;
use onramp_domain::groups::{GroupSummary, Member};
use onramp_domain::ids::{AccountId, GroupId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{Authorized, ClientAccounts, Json, Path, Query};
use crate::openapi::ClientAccountRefusals;
use crate::problem::{ApiError, ApiResult, ErrorCode, Problem};
use crate::routes::clients::AccountResponse;
use crate::state::AppState;

type Caller = Authorized<ClientAccounts>;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups))
        .routes(routes!(get_group))
        .routes(routes!(list_members))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
    pub cursor: Option<String>,
}

impl PageParams {
    fn limit(&self) -> ApiResult<u32> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::new(ErrorCode::InvalidQuery, "limit must be between 1 and 200"));
        }
        Ok(limit)
    }

    /// An empty cursor is the same as none.
    fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|c| !c.is_empty())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupResponse {
    pub id: String,
    /// Unique in the environment, compared case-insensitively.
    pub display_name: String,
    /// The identity provider's id for the group.
    pub external_id: Option<String>,
    pub member_count: u64,
}

impl From<GroupSummary> for GroupResponse {
    fn from(s: GroupSummary) -> Self {
        Self {
            id: s.group.id.into(),
            display_name: s.group.display_name,
            external_id: s.group.external_id,
            member_count: s.member_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupList {
    pub data: Vec<GroupResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    pub user_id: String,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub data: Vec<MemberResponse>,
    pub next_cursor: Option<String>,
}

impl From<Member> for MemberResponse {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.account_id.into(),
            email: m.email,
        }
    }
}

/// A group an account is a member of.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupRef {
    pub id: String,
    pub display_name: String,
}

/// An account with the groups it is a member of.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountWithGroups {
    #[serde(flatten)]
    pub account: AccountResponse,
    /// By display name.
    pub groups: Vec<GroupRef>,
}

impl AccountWithGroups {
    pub fn new(account: AccountResponse, groups: Vec<(GroupId, String)>) -> Self {
        let groups = groups
            .into_iter()
            .map(|(id, display_name)| GroupRef {
                id: id.into(),
                display_name,
            })
            .collect();
        Self { account, groups }
    }
}

/// List groups, ordered by id (UUIDv7, so by creation time).
#[utoipa::path(
    operation_id = "list_groups", get, path = "/v1/groups", tag = "groups", params(PageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of groups", body = GroupList),
        (status = 400, description = "Invalid query (`invalid_query`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        ClientAccountRefusals,
    )
)]
pub async fn list_groups(State(state): State<AppState>, caller: Caller, Query(params): Query<PageParams>) -> ApiResult<Json<GroupList>> {
    let page = state.core.groups().list(&caller.tenant, params.cursor(), params.limit()?).await?;
    Ok(Json(GroupList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Get one group.
#[utoipa::path(
    operation_id = "get_group", get, path = "/v1/groups/{id}", tag = "groups", params(("id" = String, Path, description = "Group id (UUID)")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The group", body = GroupResponse),
        ClientAccountRefusals,
        (status = 404, description = "No such group in this environment", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_group(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<GroupResponse>> {
    let id = GroupId::lookup(&id)?;
    Ok(Json(state.core.groups().summary(&caller.tenant, &id).await?.into()))
}

/// List a group's members, ordered by account id.
#[utoipa::path(
    operation_id = "list_group_members", get, path = "/v1/groups/{id}/members", tag = "groups",
    params(("id" = String, Path, description = "Group id (UUID)"), PageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of members", body = MemberList),
        (status = 400, description = "Invalid query (`invalid_query`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        ClientAccountRefusals,
        (status = 404, description = "No such group in this environment", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<MemberList>> {
    let id = GroupId::lookup(&id)?;
    let page = state
        .core
        .groups()
        .members(&caller.tenant, &id, params.cursor(), params.limit()?)
        .await?;
    Ok(Json(MemberList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The groups of an account, for `GET /v1/client/{user_id}`.
pub(crate) async fn account_groups(state: &AppState, caller: &Caller, id: &AccountId) -> ApiResult<Vec<(GroupId, String)>> {
    Ok(state.core.groups().account_groups(&caller.tenant, id).await?)
}
