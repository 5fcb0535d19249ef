//! The partner provisioning API (`x-api-key`, camelCase fields): accounts
//! with one-time sign-in links (here), batches (`batch.rs`), key rotation
//! (`keys.rs`), usage (`usage.rs`) and alert thresholds (`alerts.rs`).

mod alerts;
pub(crate) mod batch;
mod keys;
mod usage;

use axum::extract::State;
use axum::http::StatusCode;
use onramp_domain::accounts::Account;
use onramp_domain::accounts::service::AccountChanges;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::AccountId;
use onramp_domain::infra::secret::Secret;
use onramp_domain::partners::provisioning::{PartnerSignup, SignInLink};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{AccountsRead, AccountsWrite, Json, OptionalJson, PartnerAuthorized, Path, Query};
use crate::openapi::{IdempotencyKey, NamePart, PartnerAccountNotFound, PartnerRefusals, Redirect};
use crate::problem::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::AppState;
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let creating = OpenApiRouter::new()
        .routes(routes!(create_account))
        .routes(routes!(create_account_alias, list_accounts))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(batch::batch_create))
                .layer(axum::extract::DefaultBodyLimit::max(crate::BATCH_BODY_LIMIT)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::middleware::idempotency::idempotency::<PartnerAuthorized<AccountsWrite>>,
        ));
    OpenApiRouter::new()
        .merge(creating)
        .routes(routes!(get_account, update_account, delete_account))
        .routes(routes!(login_link))
        .routes(routes!(keys::rotate_key))
        .routes(routes!(usage::usage))
        .routes(routes!(alerts::get_settings, alerts::put_settings))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAccountRequest {
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub primary_email: String,
    /// 8 to 256 characters, not a common password, not the email.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 256)]
    pub password: Secret,
    #[schema(value_type = Option<NamePart>)]
    pub first_name: Option<String>,
    #[schema(value_type = Option<NamePart>)]
    pub last_name: Option<String>,
    /// A path on the platform to land on after sign-in [default: /admin/purchase-plan].
    #[schema(value_type = Option<Redirect>)]
    pub redirect: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkData {
    pub account_id: String,
    /// One-time sign-in link (single use, expires at `expiresAt`).
    pub complete_purchase_url: String,
    pub expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkResponse {
    pub message: &'static str,
    pub data: LinkData,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerAccount {
    pub account_id: String,
    pub primary_email: String,
    pub first_name: String,
    pub last_name: String,
    /// `false` while the account is deactivated: it cannot sign in and has no sessions.
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerAccountList {
    pub data: Vec<PartnerAccount>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only the account with this email (case-insensitive).
    pub email: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page (empty: the first page).
    #[param(pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAccountRequest {
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub primary_email: Option<String>,
    /// A new password; ends all the account's sessions.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 256)]
    pub password: Option<Secret>,
    #[schema(value_type = Option<NamePart>)]
    pub first_name: Option<String>,
    #[schema(value_type = Option<NamePart>)]
    pub last_name: Option<String>,
    /// `false` deactivates the account and ends all its sessions; `true` reactivates it.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginLinkRequest {
    #[schema(value_type = Option<Redirect>)]
    pub redirect: Option<String>,
}

fn link_response(message: &'static str, link: SignInLink) -> LinkResponse {
    LinkResponse {
        message,
        data: LinkData {
            account_id: link.account_id.into(),
            complete_purchase_url: link.url.expose().to_owned(),
            expires_at: rfc3339(link.expires_at),
        },
    }
}

impl From<Account> for PartnerAccount {
    fn from(a: Account) -> Self {
        Self {
            account_id: a.id.into(),
            primary_email: a.email,
            first_name: a.name.first_name,
            last_name: a.name.last_name,
            active: a.active,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

/// Field names of this API family in validation errors.
fn camel_case_fields(mut e: ApiError) -> ApiError {
    for f in &mut e.errors {
        f.field = match f.field.as_str() {
            "email" => "primaryEmail".into(),
            "name.first_name" => "firstName".into(),
            "name.last_name" => "lastName".into(),
            other => other.into(),
        };
    }
    e
}

async fn create(
    state: AppState,
    caller: PartnerAuthorized<AccountsWrite>,
    body: CreateAccountRequest,
) -> ApiResult<(StatusCode, Json<LinkResponse>)> {
    let input = PartnerSignup {
        email: body.primary_email,
        password: body.password,
        first_name: body.first_name,
        last_name: body.last_name,
        redirect: body.redirect,
    };
    let link = state
        .core
        .provisioning()
        .partner_create_account(&caller.tenant, caller.partner(), &caller.actor(), input)
        .await
        .map_err(|e| camel_case_fields(e.into()))?;
    Ok((StatusCode::CREATED, Json(link_response("Integration initialized", link))))
}

/// Create an account and a one-time sign-in link to it.
///
/// Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(
    post, path = "/v1/partners/create", operation_id = "partner_create_account", tag = "partners",
    request_body = CreateAccountRequest, security(("api_key" = ["accounts:write"])),
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Account created", body = LinkResponse),
        PartnerRefusals,
        (status = 409, description = "Email already used (`email_taken`), Idempotency-Key reused with another body (`idempotency_key_reused`), or its stored response cannot be read (`idempotency_response_unreadable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_account(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Json(body): Json<CreateAccountRequest>,
) -> ApiResult<(StatusCode, Json<LinkResponse>)> {
    create(state, caller, body).await
}

/// Create an account and a one-time sign-in link to it (same as `POST /v1/partners/create`).
#[utoipa::path(
    post, path = "/v1/partners/accounts", operation_id = "partner_create_account_alias", tag = "partners",
    request_body = CreateAccountRequest, security(("api_key" = ["accounts:write"])),
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Account created", body = LinkResponse),
        PartnerRefusals,
        (status = 409, description = "Email already used (`email_taken`), Idempotency-Key reused with another body (`idempotency_key_reused`), or its stored response cannot be read (`idempotency_response_unreadable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_account_alias(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Json(body): Json<CreateAccountRequest>,
) -> ApiResult<(StatusCode, Json<LinkResponse>)> {
    create(state, caller, body).await
}

/// List the accounts this partner created.
#[utoipa::path(
    get, path = "/v1/partners/accounts", operation_id = "partner_list_accounts", tag = "partners", params(ListParams), security(("api_key" = ["accounts:read"])),
    responses(
        (status = 200, description = "A page of accounts", body = PartnerAccountList),
        PartnerRefusals,
    )
)]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsRead>,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<PartnerAccountList>> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "limit must be between 1 and 200"));
    }
    let email = params.email.as_deref().filter(|e| !e.is_empty());
    let cursor = params.cursor.as_deref().filter(|c| !c.is_empty());
    let page = state
        .core
        .provisioning()
        .partner_accounts(&caller.tenant, caller.partner(), email, cursor, limit)
        .await?;
    Ok(Json(PartnerAccountList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One account this partner created.
#[utoipa::path(
    get, path = "/v1/partners/accounts/{accountId}", operation_id = "partner_get_account", tag = "partners",
    params(("accountId" = String, Path, description = "Account id")), security(("api_key" = ["accounts:read"])),
    responses(
        (status = 200, description = "The account", body = PartnerAccount),
        PartnerRefusals,
        PartnerAccountNotFound,
    )
)]
pub async fn get_account(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<PartnerAccount>> {
    let id = AccountId::lookup(&id)?;
    Ok(Json(
        state
            .core
            .provisioning()
            .partner_account(&caller.tenant, caller.partner(), &id)
            .await?
            .into(),
    ))
}

/// Edit an account this partner created.
#[utoipa::path(
    patch, path = "/v1/partners/accounts/{accountId}", operation_id = "partner_update_account", tag = "partners",
    request_body = UpdateAccountRequest, params(("accountId" = String, Path, description = "Account id")), security(("api_key" = ["accounts:write"])),
    responses(
        (status = 200, description = "The updated account", body = PartnerAccount),
        PartnerRefusals,
        PartnerAccountNotFound,
        (status = 409, description = "Email already used", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_account(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Path(id): Path<String>,
    Json(body): Json<UpdateAccountRequest>,
) -> ApiResult<Json<PartnerAccount>> {
    let id = AccountId::lookup(&id)?;
    let changes = AccountChanges {
        email: body.primary_email,
        first_name: body.first_name,
        last_name: body.last_name,
        password: body.password,
        active: body.active,
        if_version: None,
        scim: None,
    };
    let account = state
        .core
        .provisioning()
        .partner_update_account(&caller.tenant, caller.partner(), &caller.actor(), &id, changes)
        .await
        .map_err(|e| camel_case_fields(e.into()))?;
    Ok(Json(account.into()))
}

/// Delete an account this partner created.
#[utoipa::path(
    delete, path = "/v1/partners/accounts/{accountId}", operation_id = "partner_delete_account", tag = "partners",
    params(("accountId" = String, Path, description = "Account id")), security(("api_key" = ["accounts:write"])),
    responses(
        (status = 204, description = "Deleted"),
        PartnerRefusals,
        PartnerAccountNotFound,
    )
)]
pub async fn delete_account(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = AccountId::lookup(&id)?;
    state
        .core
        .provisioning()
        .partner_delete_account(&caller.tenant, caller.partner(), &caller.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A fresh one-time sign-in link to an account this partner created.
#[utoipa::path(
    post, path = "/v1/partners/accounts/{accountId}/login-link", operation_id = "partner_login_link", tag = "partners",
    request_body(content = Option<LoginLinkRequest>, description = "Optional"), params(("accountId" = String, Path, description = "Account id")), security(("api_key" = ["accounts:write"])),
    responses(
        (status = 201, description = "A new link", body = LinkResponse),
        PartnerRefusals,
        PartnerAccountNotFound,
    )
)]
pub async fn login_link(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<LoginLinkRequest>,
) -> ApiResult<(StatusCode, Json<LinkResponse>)> {
    let id = AccountId::lookup(&id)?;
    let redirect = body.and_then(|b| b.redirect);
    let link = state
        .core
        .provisioning()
        .partner_login_link(&caller.tenant, caller.partner(), &id, redirect.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(link_response("Login link created", link))))
}
