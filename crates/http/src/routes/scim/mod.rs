//! SCIM 2.0 (RFC 7643 / 7644) at `/scim/v2/`: identity providers (Okta,
//! Microsoft Entra ID) read and provision the environment's accounts with a
//! SCIM bearer token (`onramp scim-token issue`).
//!
//! SCIM has its own wire format: resources and errors are
//! `application/scim+json`, errors carry `status` as a string and a
//! `scimType`. Every error on these paths, including the ones the shared
//! layers answer (tenant, rate limit, body size, method), is rewritten into
//! that format by [`scim_errors`], so SCIM clients never see a problem
//! document.

mod discovery;
mod errors;
mod groups;
mod search;
mod user_resource;
mod users;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;
use onramp_domain::scim::tokens::ScimToken;
use onramp_domain::tenancy::{Feature, Tenant};

pub use errors::scim_errors;

use crate::extract::CurrentTenant;
use crate::middleware::guard::Credential;
use crate::problem::{ApiError, ErrorCode};
use crate::state::AppState;

/// Where SCIM is served on every environment's host.
pub const BASE: &str = "/scim/v2";

/// SCIM's media type; `application/json` is accepted too.
pub const MEDIA_TYPE: &str = "application/scim+json";

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/scim/v2/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/scim/v2/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/scim/v2/Schemas", get(discovery::schemas))
        .route("/scim/v2/Schemas/{id}", get(discovery::schema))
        .route("/scim/v2/.search", axum::routing::post(search::search_all))
        .route("/scim/v2/Users/.search", axum::routing::post(users::search_users))
        .route("/scim/v2/Groups/.search", axum::routing::post(groups::search_groups))
        .route("/scim/v2/Groups", get(groups::list_groups).post(groups::create_group))
        .route(
            "/scim/v2/Groups/{id}",
            get(groups::get_group)
                .put(groups::put_group)
                .patch(groups::patch_group)
                .delete(groups::delete_group),
        )
        .route("/scim/v2/Users", get(users::list_users).post(users::create_user))
        .route(
            "/scim/v2/Users/{id}",
            get(users::get_user)
                .put(users::put_user)
                .patch(users::patch_user)
                .delete(users::delete_user),
        )
}

/// A SCIM request body: JSON sent as `application/scim+json` or
/// `application/json`.
pub struct ScimBody(pub serde_json::Value);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ScimBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let media = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if !matches!(media.as_deref(), Some(MEDIA_TYPE | "application/json")) {
            let detail = "send the body as application/scim+json (or application/json)";
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType, detail));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge, "the body is too large"))?;
        let value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("the body is not JSON: {e}")))?;
        Ok(Self(value))
    }
}

/// A request made with a live SCIM token of this environment, on an
/// instance with the `scim` feature.
pub struct ScimCaller {
    pub tenant: Arc<Tenant>,
    pub token: Arc<ScimToken>,
}

impl ScimCaller {
    /// The audit actor of changes made with this token (`scim_token:<id>`).
    pub fn actor(&self) -> onramp_domain::audit::Actor {
        Credential::ScimToken(Arc::clone(&self.token)).actor()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ScimCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentTenant(tenant) = CurrentTenant::from_request_parts(parts, state).await?;
        let Some(Credential::ScimToken(token)) = parts.extensions.get::<Credential>().cloned() else {
            let detail = "a valid SCIM token for this environment is required: Authorization: Bearer onr_scim_…";
            return Err(ApiError {
                challenge: "Bearer",
                ..ApiError::new(ErrorCode::Unauthenticated, detail)
            });
        };
        tenant.require(Feature::Scim)?;
        Ok(Self { tenant, token })
    }
}
