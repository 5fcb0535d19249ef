//! The token endpoint's authorization-code grant: a vendor app, its key as
//! client secret, exchanges a code of `/oauth/authorize` for an access token
//! and an ID token.

use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::infra::secret::ct_eq;
use onramp_domain::integration::VendorApp;
use onramp_domain::oauth::OAuthCode;
use onramp_domain::tenancy::Tenant;
use serde::Serialize;

use super::client::presented;
use super::errors::{OAuthAnswer, OAuthResponse, no_store};
use super::form::OAuthForm;
use crate::state::AppState;

/// The vendor app the request's client credentials authenticate: its id as
/// `client_id`, its key as `client_secret`.
async fn authenticated_app(state: &AppState, tenant: &Tenant, headers: &HeaderMap, form: &OAuthForm) -> Result<VendorApp, OAuthAnswer> {
    let client = presented(headers, form)?;
    let failed = || OAuthResponse::invalid_client("client authentication failed");
    match state
        .core
        .integration()
        .authenticate_vendor_key(tenant, client.secret.expose())
        .await
    {
        Ok(app) if ct_eq(app.id.as_str().as_bytes(), client.client_id.as_bytes()) => Ok(app),
        Ok(_) | Err(DomainError::Unauthenticated) => {
            // A service user is a client too, of another grant (RFC 6749 §5.2).
            let oauth = state.core.oauth();
            if oauth.authenticate_client(tenant, &client.client_id, &client.secret).await.is_ok() {
                let text = "this client uses the client_credentials grant";
                return Err(OAuthResponse::new(OAuthCode::UnauthorizedClient, text).into());
            }
            Err(failed().into())
        }
        Err(e) => Err(e.into()),
    }
}

/// A successful answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Serialize)]
struct CodeTokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

/// `grant_type=authorization_code`: client authentication first, then the
/// code, bound to the client, the redirect URI and the PKCE challenge.
pub async fn authorization_code(state: &AppState, tenant: &Tenant, headers: &HeaderMap, form: &OAuthForm) -> Result<Response, OAuthAnswer> {
    let app = authenticated_app(state, tenant, headers, form).await?;
    let code = form.require("code")?;
    let redirect_uri = form.require("redirect_uri")?;
    let verifier = form
        .get("code_verifier")
        .ok_or_else(|| OAuthResponse::invalid_request("code_verifier is required: every client uses PKCE"))?;
    let tokens = state
        .core
        .oauth()
        .authorization_code(tenant, &app, code, redirect_uri, verifier)
        .await?;
    let body = CodeTokenResponse {
        access_token: tokens.access_token,
        token_type: "Bearer",
        expires_in: tokens.expires_in,
        scope: tokens.scope,
        id_token: tokens.id_token,
    };
    let mut response = Json(body).into_response();
    no_store(response.headers_mut());
    Ok(response)
}
