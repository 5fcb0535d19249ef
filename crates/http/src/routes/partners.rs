//! The partner provisioning API (`x-api-key`, camelCase fields): accounts
//! with one-time sign-in links, and key rotation.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use onramp_domain::accounts::Account;
use onramp_domain::accounts::service::AccountChanges;
use onramp_domain::clock::rfc3339;
use onramp_domain::infra::secret::Secret;
use onramp_domain::partners::provisioning::{BatchItem, PartnerSignup, SignInLink};
use onramp_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{AccountsRead, AccountsWrite, AnyScope, Json, OptionalJson, PartnerAuthorized, Path, Query, UsageRead};
use crate::problem::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::AppState;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let creating = OpenApiRouter::new()
        .routes(routes!(create_account))
        .routes(routes!(create_account_alias, list_accounts))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(batch_create))
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
        .routes(routes!(rotate_key))
        .routes(routes!(usage))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAccountRequest {
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub primary_email: String,
    /// 8 to 256 characters, not a common password, not the email.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 256)]
    pub password: Secret,
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: Option<String>,
    /// A path on the platform to land on after sign-in [default: /admin/purchase-plan].
    #[schema(pattern = r"^/[^/\\]")]
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
    /// `nextCursor` of the previous page.
    #[param(format = Uuid)]
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
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginLinkRequest {
    #[schema(pattern = r"^/[^/\\]")]
    pub redirect: Option<String>,
}

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

fn link_response(message: &'static str, link: SignInLink) -> LinkResponse {
    LinkResponse {
        message,
        data: LinkData {
            account_id: link.account_id,
            complete_purchase_url: link.url.expose().to_owned(),
            expires_at: rfc3339(link.expires_at),
        },
    }
}

impl From<Account> for PartnerAccount {
    fn from(a: Account) -> Self {
        Self {
            account_id: a.id,
            primary_email: a.email,
            first_name: a.name.first_name,
            last_name: a.name.last_name,
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
    request_body = CreateAccountRequest, security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; makes retries safe", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    responses(
        (status = 201, description = "Account created", body = LinkResponse),
        (status = 403, description = "Feature `partners` off (`feature_disabled`), partner not approved (`partner_not_approved`) or scope `accounts:write` missing", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already used (`email_taken`) or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
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
    request_body = CreateAccountRequest, security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; makes retries safe", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    responses(
        (status = 201, description = "Account created", body = LinkResponse),
        (status = 403, description = "Feature off, partner not approved or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already used (`email_taken`) or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
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
    get, path = "/v1/partners/accounts", operation_id = "partner_list_accounts", tag = "partners", params(ListParams), security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of accounts", body = PartnerAccountList),
        (status = 403, description = "Feature off, partner not approved or scope `accounts:read` missing", body = Problem, content_type = "application/problem+json"),
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
    params(("accountId" = String, Path, description = "Account id")), security(("api_key" = [])),
    responses(
        (status = 200, description = "The account", body = PartnerAccount),
        (status = 403, description = "Feature off, partner not approved or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account among this partner's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_account(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<PartnerAccount>> {
    Ok(Json(
        state.core.partner_account(&caller.tenant, caller.partner(), &id).await?.into(),
    ))
}

/// Edit an account this partner created.
#[utoipa::path(
    patch, path = "/v1/partners/accounts/{accountId}", operation_id = "partner_update_account", tag = "partners",
    request_body = UpdateAccountRequest, params(("accountId" = String, Path, description = "Account id")), security(("api_key" = [])),
    responses(
        (status = 200, description = "The updated account", body = PartnerAccount),
        (status = 403, description = "Feature off, partner not approved or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account among this partner's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already used", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_account(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Path(id): Path<String>,
    Json(body): Json<UpdateAccountRequest>,
) -> ApiResult<Json<PartnerAccount>> {
    let changes = AccountChanges {
        email: body.primary_email,
        first_name: body.first_name,
        last_name: body.last_name,
        password: body.password,
    };
    let account = state
        .core
        .partner_update_account(&caller.tenant, caller.partner(), &caller.actor(), &id, changes)
        .await
        .map_err(|e| camel_case_fields(e.into()))?;
    Ok(Json(account.into()))
}

/// Delete an account this partner created.
#[utoipa::path(
    delete, path = "/v1/partners/accounts/{accountId}", operation_id = "partner_delete_account", tag = "partners",
    params(("accountId" = String, Path, description = "Account id")), security(("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Feature off, partner not approved or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account among this partner's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_account(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .core
        .partner_delete_account(&caller.tenant, caller.partner(), &caller.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A fresh one-time sign-in link to an account this partner created.
#[utoipa::path(
    post, path = "/v1/partners/accounts/{accountId}/login-link", operation_id = "partner_login_link", tag = "partners",
    request_body(content = Option<LoginLinkRequest>, description = "Optional"), params(("accountId" = String, Path, description = "Account id")), security(("api_key" = [])),
    responses(
        (status = 201, description = "A new link", body = LinkResponse),
        (status = 403, description = "Feature off, partner not approved or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account among this partner's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login_link(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<LoginLinkRequest>,
) -> ApiResult<(StatusCode, Json<LinkResponse>)> {
    let redirect = body.and_then(|b| b.redirect);
    let link = state
        .core
        .partner_login_link(&caller.tenant, caller.partner(), &id, redirect.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(link_response("Login link created", link))))
}

/// Rotate the presented key: a new key with the same scopes; the old one keeps working for the grace period.
#[utoipa::path(
    post, path = "/v1/partners/keys/rotate", operation_id = "partner_rotate_key", tag = "partners",
    request_body(content = Option<RotateRequest>, description = "Optional"), security(("api_key" = [])),
    responses(
        (status = 201, description = "The new key (shown once)", body = RotatedKey),
        (status = 403, description = "Feature off or partner not approved", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AnyScope>,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> ApiResult<(StatusCode, Json<RotatedKey>)> {
    let grace = Duration::from_secs(body.and_then(|b| b.grace_period_seconds).unwrap_or(24 * 3600));
    let (issued, old_expires_at) = state.core.rotate_api_key(&caller.actor(), &caller.principal, grace).await?;
    Ok((
        StatusCode::CREATED,
        Json(RotatedKey {
            key: issued.secret.expose().to_owned(),
            key_id: issued.key.key_id,
            scopes: issued.key.scopes,
            expires_at: issued.key.expires_at.map(rfc3339),
            previous_key_id: caller.principal.key.key_id.clone(),
            previous_key_expires_at: rfc3339(old_expires_at),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchItemBody {
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub primary_email: String,
    /// Either `password` …
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 256)]
    pub password: Option<Secret>,
    /// … or an existing hash: argon2id, argon2i, bcrypt (`$2a$`/`$2b$`/`$2y$`) or scrypt PHC string.
    pub password_hash: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub redirect: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 1,000 items, each created or rejected on its own.
    #[schema(value_type = Vec<BatchItemBody>, min_items = 1, max_items = 1000)]
    pub accounts: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchResult {
    pub index: usize,
    /// 201 created, or the status the item alone would have got (400, 409).
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_purchase_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BatchError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

fn batch_item(value: serde_json::Value) -> Result<BatchItem, DomainError> {
    let body: BatchItemBody = serde_json::from_value(value).map_err(|e| {
        let message = e.to_string();
        let code = if message.starts_with("unknown field") {
            "unknown_field"
        } else {
            "invalid_item"
        };
        DomainError::Validation(vec![FieldError::new("item", code, message)])
    })?;
    Ok(BatchItem {
        email: body.primary_email,
        password: body.password,
        password_hash: body.password_hash,
        first_name: body.first_name,
        last_name: body.last_name,
        redirect: body.redirect,
    })
}

fn batch_result(index: usize, outcome: Result<SignInLink, DomainError>) -> BatchResult {
    match outcome {
        Ok(link) => BatchResult {
            index,
            status: 201,
            account_id: Some(link.account_id),
            complete_purchase_url: Some(link.url.expose().to_owned()),
            expires_at: Some(rfc3339(link.expires_at)),
            error: None,
        },
        Err(e) => {
            let api = camel_case_fields(ApiError::from(e));
            let first = api.errors.first();
            BatchResult {
                index,
                status: api.code.status().as_u16(),
                account_id: None,
                complete_purchase_url: None,
                expires_at: None,
                error: Some(BatchError {
                    code: first.map_or(api.code.name(), |f| f.code).to_owned(),
                    message: first.map_or_else(|| api.detail.clone().unwrap_or_default(), |f| f.message.clone()),
                    field: first.map(|f| f.field.clone()),
                }),
            }
        }
    }
}

/// Create up to 1,000 accounts at once; each item is created or rejected on its own.
///
/// Items may carry `passwordHash` (argon2id/argon2i, bcrypt or scrypt) instead of `password`, so a
/// platform can migrate users without knowing their passwords; such accounts log in with their old
/// password and are re-hashed to argon2id then. Bodies up to 2 MiB.
#[utoipa::path(
    post, path = "/v1/partners/accounts/batch", operation_id = "partner_batch_create", tag = "partners",
    request_body = BatchRequest, security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; makes retries safe", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    responses(
        (status = 200, description = "One result per item, in order", body = BatchResponse),
        (status = 403, description = "Feature off, partner not approved or scope `accounts:write` missing", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn batch_create(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Json(body): Json<BatchRequest>,
) -> ApiResult<Json<BatchResponse>> {
    if body.accounts.is_empty() || body.accounts.len() > 1000 {
        return Err(ApiError::fields(
            ErrorCode::ValidationFailed,
            "accounts must hold 1 to 1000 items",
            vec![FieldError::new("accounts", "invalid_length", "accounts must hold 1 to 1000 items")],
        ));
    }
    let items = body.accounts.into_iter().map(batch_item).collect();
    let outcomes = state
        .core
        .partner_batch_create(&caller.tenant, caller.partner(), &caller.actor(), items)
        .await?;
    Ok(Json(BatchResponse {
        results: outcomes.into_iter().enumerate().map(|(i, o)| batch_result(i, o)).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// RFC 3339 start (inclusive) [default: `to` minus 24 hours].
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339 end (exclusive) [default: now].
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// `minute`, `hour` or `day` [default: hour].
    #[param(pattern = "^(minute|hour|day)$")]
    pub granularity: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageBucket {
    pub start: String,
    pub requests: i64,
    /// Requests by status class: `2xx`, `3xx`, `4xx`, `5xx`.
    pub by_status: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageResponse {
    pub partner_id: String,
    pub from: String,
    pub to: String,
    pub granularity: String,
    pub data: Vec<UsageBucket>,
}

fn parse_time(field: &str, raw: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| ApiError::new(ErrorCode::InvalidQuery, format!("{field} must be an RFC 3339 timestamp")))
}

/// The partner's own request counts per minute, hour or day (all its keys).
///
/// Counts reach the database every few seconds, so the latest seconds may be missing.
#[utoipa::path(
    get, path = "/v1/partners/usage", operation_id = "partner_usage", tag = "partners", params(UsageParams), security(("api_key" = [])),
    responses(
        (status = 200, description = "The series, empty buckets included", body = UsageResponse),
        (status = 403, description = "Feature off, partner not approved or scope `usage:read` missing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn usage(
    State(state): State<AppState>,
    caller: PartnerAuthorized<UsageRead>,
    Query(params): Query<UsageParams>,
) -> ApiResult<Json<UsageResponse>> {
    use onramp_domain::usage::service::Granularity;
    let granularity = match params.granularity.as_deref().unwrap_or("hour") {
        "minute" => Granularity::Minute,
        "hour" => Granularity::Hour,
        "day" => Granularity::Day,
        _ => return Err(ApiError::new(ErrorCode::InvalidQuery, "granularity must be minute, hour or day")),
    };
    let to = match params.to.as_deref() {
        Some(raw) => parse_time("to", raw)?,
        None => onramp_domain::clock::now_ms(),
    };
    let from = match params.from.as_deref() {
        Some(raw) => parse_time("from", raw)?,
        None => to - 24 * 3600 * 1000,
    };
    let points = state
        .core
        .usage_series(&caller.partner().id, from, to, granularity)
        .await
        .map_err(|e| {
            let mut api = ApiError::from(e);
            api.code = ErrorCode::InvalidQuery;
            api
        })?;
    let data = points
        .into_iter()
        .map(|p| UsageBucket {
            start: rfc3339(p.start),
            requests: p.requests,
            by_status: [
                ("2xx", p.status_2xx),
                ("3xx", p.status_3xx),
                ("4xx", p.status_4xx),
                ("5xx", p.status_5xx),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        })
        .collect();
    Ok(Json(UsageResponse {
        partner_id: caller.partner().id.clone(),
        from: rfc3339(from),
        to: rfc3339(to),
        granularity: params.granularity.unwrap_or_else(|| "hour".into()),
        data,
    }))
}
