//! The vendor side of user integration: exchanging a code for a profile and
//! reading it again while the person's grant stands.

use axum::extract::State;
use onramp_domain::DomainError;
use onramp_domain::accounts::Account;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::AccountId;
use onramp_domain::integration::Grant;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{Json, Path, VendorAuthorized};
use crate::openapi::VendorRefusals;
use crate::problem::{ApiResult, Problem};
use crate::routes::clients::NameResponse;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(exchange)).routes(routes!(user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    /// The `code` the popup sent to the vendor page.
    pub code: String,
    /// The PKCE verifier the SDK made (43 to 128 characters).
    #[schema(min_length = 43, max_length = 128)]
    pub code_verifier: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationUser {
    pub id: String,
    pub email: String,
    /// Whether the person proved they own `email`; always false for now.
    pub email_verified: bool,
    pub name: NameResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileResponse {
    pub user: IntegrationUser,
    /// When the person first allowed this app.
    pub granted_at: String,
}

fn profile(account: Account, grant: &Grant) -> ProfileResponse {
    ProfileResponse {
        user: IntegrationUser {
            id: account.id.into(),
            email: account.email,
            email_verified: false,
            name: account.name.into(),
        },
        granted_at: rfc3339(grant.granted_at),
    }
}

/// Exchange a single-use code (60 s, bound to the app and the PKCE challenge) for the person's profile.
#[utoipa::path(
    post, path = "/v1/integration/exchange", operation_id = "integration_exchange", tag = "user integration",
    request_body = ExchangeRequest, security(("api_key" = [])),
    responses(
        (status = 200, description = "The profile the person agreed to share", body = ProfileResponse),
        (status = 400, description = "Unknown, used, expired or other app's code, or wrong verifier (`invalid_grant`)", body = Problem, content_type = "application/problem+json"),
        VendorRefusals,
        (status = 404, description = "The person deleted their account (`user_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn exchange(
    State(state): State<AppState>,
    caller: VendorAuthorized,
    Json(body): Json<ExchangeRequest>,
) -> ApiResult<Json<ProfileResponse>> {
    let (account, grant) = state
        .core
        .integration()
        .exchange_code(&caller.tenant, &caller.app, &body.code, &body.code_verifier)
        .await?;
    Ok(Json(profile(account, &grant)))
}

/// The current profile of a person, while their grant to this app stands.
#[utoipa::path(
    get, path = "/v1/integration/users/{id}", operation_id = "integration_user", tag = "user integration",
    params(("id" = String, Path, description = "The user's id")), security(("api_key" = [])),
    responses(
        (status = 200, description = "The profile", body = ProfileResponse),
        VendorRefusals,
        (status = 404, description = "No such user, or no grant to this app (the same answer)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn user(State(state): State<AppState>, caller: VendorAuthorized, Path(id): Path<String>) -> ApiResult<Json<ProfileResponse>> {
    // What is not a UUID names no user: the same answer as any unknown one.
    let id = AccountId::parse("id", &id).map_err(|_| DomainError::NotFound("user"))?;
    let (account, grant) = state.core.integration().integration_user(&caller.tenant, &caller.app, &id).await?;
    Ok(Json(profile(account, &grant)))
}
