//! `POST /oauth/token`, `/oauth/introspect` and `/oauth/revoke`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use onramp_domain::audit::{Actor, ActorKind};
use onramp_domain::oauth::OAuthCode;
use onramp_domain::service_users::ServiceUser;
use onramp_domain::tenancy::Tenant;
use serde::Serialize;
use serde_json::json;

use super::client::presented;
use super::errors::{OAuthAnswer, OAuthResponse, no_store};
use super::form::OAuthForm;
use crate::extract::CurrentTenant;
use crate::middleware::request_id::current_request_id;
use crate::state::AppState;

/// The grant types of RFC 6749 and its extensions that this server knows
/// but does not serve (yet): `unsupported_grant_type` names them as such.
const KNOWN_GRANTS: [&str; 3] = ["refresh_token", "password", "urn:ietf:params:oauth:grant-type:device_code"];

/// The service user the request's client credentials authenticate.
async fn authenticated(state: &AppState, tenant: &Tenant, headers: &HeaderMap, form: &OAuthForm) -> Result<ServiceUser, OAuthAnswer> {
    let client = presented(headers, form)?;
    Ok(state
        .core
        .oauth()
        .authenticate_client(tenant, &client.client_id, &client.secret)
        .await?)
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

fn stored_nowhere(mut response: Response) -> Response {
    no_store(response.headers_mut());
    response
}

/// The token endpoint. Client authentication comes first, then the grant:
/// vendor apps (by their key) use the authorization code, service users
/// (by their client secrets) the client credentials.
pub async fn token(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthAnswer> {
    if form.get("grant_type") == Some("authorization_code") {
        return super::code::authorization_code(&state, &tenant, &headers, &form).await;
    }
    let user = authenticated(&state, &tenant, &headers, &form).await?;
    let grant_type = form.require("grant_type")?;
    match grant_type {
        "client_credentials" => {
            let issued = state.core.oauth().client_credentials(&tenant, &user, form.get("scope")).await?;
            let body = TokenResponse {
                access_token: issued.token,
                token_type: "Bearer",
                expires_in: issued.expires_in,
                scope: issued.scope,
            };
            Ok(stored_nowhere(Json(body).into_response()))
        }
        known if KNOWN_GRANTS.contains(&known) => Err(OAuthResponse::new(
            OAuthCode::UnsupportedGrantType,
            format!("the `{known}` grant is not served here; use client_credentials or authorization_code"),
        )
        .into()),
        _ => Err(OAuthResponse::new(
            OAuthCode::UnsupportedGrantType,
            "unknown grant_type; use client_credentials or authorization_code",
        )
        .into()),
    }
}

/// Token introspection (RFC 7662): `{active: false}` for anything that is
/// not an active token of this environment, whoever issued it.
pub async fn introspect(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthAnswer> {
    let client = presented(&headers, &form)?;
    if form.get("token").is_none() {
        // A client that fails to authenticate hears that first.
        authenticated(&state, &tenant, &headers, &form).await?;
    }
    let token = form.require("token")?;
    let introspected = state
        .core
        .oauth()
        .introspect(&tenant, &client.client_id, &client.secret, token)
        .await?;
    let body = match introspected {
        None => json!({ "active": false }),
        Some(claims) => {
            let scope = claims
                .scope
                .clone()
                .unwrap_or_else(|| claims.r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" "));
            let mut body = json!({
                "active": true, "scope": scope, "token_type": "Bearer",
                "exp": claims.exp, "iat": claims.iat, "sub": claims.sub, "aud": claims.aud,
                "iss": claims.iss, "jti": claims.jti,
            });
            if let Some(client_id) = &claims.client_id {
                body["client_id"] = json!(client_id);
            }
            body
        }
    };
    Ok(stored_nowhere(Json(body).into_response()))
}

/// Token revocation (RFC 7009): `200` with an empty body whether or not
/// the token was valid; `token_type_hint` is not needed (there is one kind
/// of token to look for) and is ignored.
pub async fn revoke(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthAnswer> {
    let user = authenticated(&state, &tenant, &headers, &form).await?;
    let token = form.require("token")?;
    let actor = Actor::new(ActorKind::ServiceUser(user.id.clone()), Some(current_request_id()));
    state.core.oauth().revoke(&tenant, &actor, &user, token).await?;
    Ok(stored_nowhere(().into_response()))
}
