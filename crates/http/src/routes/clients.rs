//! The client account API: accounts and sessions, managed with a service token.

use axum::extract::State;
use axum::http::StatusCode;
use onramp_domain::DomainError;
use onramp_domain::accounts::service::{AccountChanges, OpenedSession, Signup};
use onramp_domain::accounts::{Account, PersonName};
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::AccountId;
use onramp_domain::infra::secret::Secret;
use onramp_domain::infra::throttle::LoginSource;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{Authorized, ClientAccounts, Json, Path, Query};
use crate::middleware::client_addr::ClientIp;
use crate::openapi::{ClientAccountRefusals, IdempotencyKey, NamePart};
use crate::problem::{ApiError, ApiResult, ErrorCode, Problem};
use crate::routes::groups::AccountWithGroups;
use crate::state::AppState;

type Caller = Authorized<ClientAccounts>;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let creating = OpenApiRouter::new()
        .routes(routes!(signup))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::middleware::idempotency::idempotency::<Caller>,
        ));
    OpenApiRouter::new()
        .merge(creating)
        .routes(routes!(login))
        .routes(routes!(verify_session))
        .routes(routes!(logout))
        .routes(routes!(list_accounts))
        .routes(routes!(get_account, update_account, delete_account))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Name {
    /// 1 to 100 characters, no control characters.
    #[schema(value_type = NamePart)]
    pub first_name: String,
    /// 1 to 100 characters, no control characters.
    #[schema(value_type = NamePart)]
    pub last_name: String,
}

/// A name as stored: an account created without one (say by a partner that
/// sent no `firstName`) has `null` parts, never empty strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct NameResponse {
    /// 1 to 100 characters, or null.
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: Option<String>,
    /// 1 to 100 characters, or null.
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: Option<String>,
}

impl From<PersonName> for NameResponse {
    fn from(name: PersonName) -> Self {
        let part = |s: String| (!s.is_empty()).then_some(s);
        Self {
            first_name: part(name.first_name),
            last_name: part(name.last_name),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Optional UUID for the new account; generated when absent.
    #[schema(format = Uuid)]
    pub user_id: Option<String>,
    /// Unique in the environment, compared case-insensitively.
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub email: String,
    pub name: Name,
    /// 8 to 256 characters, not a common password, not the email.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 256)]
    pub password: Secret,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientLoginRequest {
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientTokenRequest {
    pub client_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Opaque session token (`onr_sess_…`); shown once.
    pub client_token: String,
    pub user_id: String,
    /// RFC 3339.
    pub expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedSession {
    pub user_id: String,
    pub expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    pub user_id: String,
    pub email: String,
    /// Whether the person proved they own `email`; always false for now.
    pub email_verified: bool,
    pub name: NameResponse,
    /// `false` while the account is deactivated: it cannot sign in and has no sessions.
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamePatch {
    #[schema(value_type = Option<NamePart>)]
    pub first_name: Option<String>,
    #[schema(value_type = Option<NamePart>)]
    pub last_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub email: Option<String>,
    pub name: Option<NamePatch>,
    /// A new password; ends all the account's sessions.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 256)]
    pub password: Option<Secret>,
    /// `false` deactivates the account and ends all its sessions; `true` reactivates it.
    pub active: Option<bool>,
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
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub data: Vec<AccountResponse>,
    pub next_cursor: Option<String>,
}

impl From<OpenedSession> for SessionResponse {
    fn from(s: OpenedSession) -> Self {
        Self {
            client_token: s.client_token.expose().to_owned(),
            user_id: s.user_id.into(),
            expires_at: rfc3339(s.expires_at),
        }
    }
}

impl From<Account> for AccountResponse {
    fn from(a: Account) -> Self {
        Self {
            user_id: a.id.into(),
            email: a.email,
            email_verified: false,
            name: a.name.into(),
            active: a.active,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

/// Create a client account and open its first session.
///
/// Send an `Idempotency-Key` header to make retries safe: the same key with the same body
/// replays the first response (with `Idempotent-Replayed: true`) for 24 hours.
#[utoipa::path(
    operation_id = "client_signup", post, path = "/v1/client/signup", tag = "client accounts", request_body = SignupRequest, security(("bearer" = [])),
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Account created; a session is open", body = SessionResponse),
        (status = 400, description = "Invalid input (`validation_failed`, `unknown_field`, `invalid_json`)", body = Problem, content_type = "application/problem+json"),
        ClientAccountRefusals,
        (status = 409, description = "Email (`email_taken`) or user_id (`conflict`) already used, or Idempotency-Key reused with another body (`idempotency_key_reused`) or whose stored response cannot be read (`idempotency_response_unreadable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SessionResponse>)> {
    let input = Signup {
        user_id: body.user_id,
        email: body.email,
        first_name: body.name.first_name,
        last_name: body.name.last_name,
        password: body.password,
    };
    let opened = state.core.accounts().signup(&caller.tenant, &caller.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(opened.into())))
}

/// Log a client in with email and password; opens a new session.
#[utoipa::path(
    operation_id = "client_login", post, path = "/v1/client/login", tag = "client accounts", request_body = ClientLoginRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged in", body = SessionResponse),
        ClientAccountRefusals,
        (status = 401, description = "Wrong email or password, or invalid service token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Right password but the account is deactivated (`account_disabled`), feature `client-accounts` disabled (`feature_disabled`) or role `service` missing (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    Json(body): Json<ClientLoginRequest>,
) -> ApiResult<Json<SessionResponse>> {
    let opened = state
        .core
        .accounts()
        .client_login(&caller.tenant, &body.email, &body.password, LoginSource::Relayed(ip))
        .await?;
    Ok(Json(opened.into()))
}

/// Check a client token; answers with its account while the session is live.
#[utoipa::path(
    operation_id = "verify_client_session", post, path = "/v1/client/sessions/verify", tag = "client accounts", request_body = ClientTokenRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "The session is live", body = VerifiedSession),
        ClientAccountRefusals,
        (status = 401, description = "Unknown, ended or expired session, or invalid service token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_session(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ClientTokenRequest>,
) -> ApiResult<Json<VerifiedSession>> {
    let session = state
        .core
        .accounts()
        .verify_session(&caller.tenant, &body.client_token)
        .await
        .map_err(|e| match e {
            DomainError::Unauthenticated => ApiError::new(ErrorCode::Unauthenticated, "the client token is unknown, ended or expired"),
            other => other.into(),
        })?;
    Ok(Json(VerifiedSession {
        user_id: session.account_id.into(),
        expires_at: rfc3339(session.expires_at),
    }))
}

/// End a client session. Ending an unknown session is not an error.
#[utoipa::path(
    operation_id = "client_logout", post, path = "/v1/client/logout", tag = "client accounts", request_body = ClientTokenRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is ended"),
        ClientAccountRefusals,
    )
)]
pub async fn logout(State(state): State<AppState>, caller: Caller, Json(body): Json<ClientTokenRequest>) -> ApiResult<StatusCode> {
    state.core.accounts().logout(&caller.tenant, &body.client_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List accounts, ordered by id (generated ids are UUIDv7, so these sort by creation time).
#[utoipa::path(
    operation_id = "list_client_accounts", get, path = "/v1/client", tag = "client accounts", params(ListParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of accounts", body = AccountList),
        (status = 400, description = "Invalid query (`invalid_query`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        ClientAccountRefusals,
    )
)]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<AccountList>> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "limit must be between 1 and 200"));
    }
    // An empty parameter is the same as an absent one.
    let email = params.email.as_deref().filter(|e| !e.is_empty());
    let cursor = params.cursor.as_deref().filter(|c| !c.is_empty());
    let page = state.core.accounts().list(&caller.tenant, None, email, cursor, limit).await?;
    Ok(Json(AccountList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Get one account (never its password hash).
#[utoipa::path(
    operation_id = "get_client_account", get, path = "/v1/client/{user_id}", tag = "client accounts", params(("user_id" = String, Path, description = "Account id (UUID)")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The account and its groups", body = AccountWithGroups),
        ClientAccountRefusals,
        (status = 404, description = "No such account in this environment", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_account(State(state): State<AppState>, caller: Caller, Path(user_id): Path<String>) -> ApiResult<Json<AccountWithGroups>> {
    let user_id = AccountId::lookup(&user_id)?;
    let account = state.core.accounts().account(&caller.tenant, &user_id).await?;
    let groups = crate::routes::groups::account_groups(&state, &caller, &user_id).await?;
    Ok(Json(AccountWithGroups::new(account.into(), groups)))
}

/// Edit an account's email, name or password. A new password ends all its sessions.
#[utoipa::path(
    operation_id = "update_client_account", patch, path = "/v1/client/{user_id}", tag = "client accounts", request_body = AccountPatch,
    params(("user_id" = String, Path, description = "Account id (UUID)")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated account", body = AccountResponse),
        ClientAccountRefusals,
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already used (`email_taken`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    Json(body): Json<AccountPatch>,
) -> ApiResult<Json<AccountResponse>> {
    let user_id = AccountId::lookup(&user_id)?;
    let (first_name, last_name) = body.name.map_or((None, None), |n| (n.first_name, n.last_name));
    let changes = AccountChanges {
        email: body.email,
        first_name,
        last_name,
        password: body.password,
        active: body.active,
        if_version: None,
        scim: None,
    };
    Ok(Json(
        state
            .core
            .accounts()
            .update_account(&caller.tenant, &caller.actor(), &user_id, changes)
            .await?
            .into(),
    ))
}

/// Delete an account and end its sessions.
#[utoipa::path(
    operation_id = "delete_client_account", delete, path = "/v1/client/{user_id}", tag = "client accounts", params(("user_id" = String, Path, description = "Account id (UUID)")), security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        ClientAccountRefusals,
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_account(State(state): State<AppState>, caller: Caller, Path(user_id): Path<String>) -> ApiResult<StatusCode> {
    let user_id = AccountId::lookup(&user_id)?;
    state
        .core
        .accounts()
        .delete_account(&caller.tenant, &caller.actor(), &user_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
