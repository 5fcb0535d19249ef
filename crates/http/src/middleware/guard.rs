//! Authentication and rate limiting for tenant routes.
//!
//! Each route family looks only at the credential it accepts: partner routes
//! at a partner key, integration routes at a vendor app key (the key's
//! prefix decides whether it is looked up at all), every other route at a
//! Bearer service token. The one [`Credential`] found (or the client's IP)
//! keys the rate limit, the idempotency records, the audit actor and the
//! access log; handlers that need one refuse with `401` through the
//! extractors of [`crate::extract`].

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::audit::{Actor, ActorKind};
use onramp_domain::infra::client::ClientAddr;
use onramp_domain::integration::VendorApp;
use onramp_domain::partners::ApiKey;
use onramp_domain::partners::service::{PartnerKeyCheck, PartnerPrincipal};
use onramp_domain::scim::tokens::ScimToken;
use onramp_domain::tenancy::Tenant;
use onramp_domain::tenancy::signing::ServiceClaims;

use crate::middleware::request_id::{LogContext, current_request_id};
use crate::problem::{ApiError, ErrorCode};
use crate::rate_limit::Decision;
use crate::state::AppState;

/// Who is calling: at most one credential per request, resolved by
/// [`guard`] and kept in the request's extensions.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A service user's Bearer token.
    ServiceUser(Arc<ServiceClaims>),
    /// A partner key, valid in this environment (the partner's status is
    /// checked by [`crate::extract::PartnerAuthorized`]).
    PartnerKey(Arc<PartnerPrincipal>),
    /// A vendor app's key.
    VendorApp(Arc<VendorApp>),
    /// A SCIM client's bearer token (SCIM paths only).
    ScimToken(Arc<ScimToken>),
    /// No valid credential: the client's address, if known.
    Anonymous(Option<IpAddr>),
}

/// The one spelling of a credential in rate-limit keys, idempotency scopes,
/// audit actors and logs: ids only, never a secret.
impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.actor_kind().fmt(f)
    }
}

impl Credential {
    /// Whether the request carried a valid credential.
    pub fn is_authenticated(&self) -> bool {
        !matches!(self, Credential::Anonymous(_))
    }

    /// Who this credential is, as audit events and logs name it.
    pub fn actor_kind(&self) -> ActorKind {
        match self {
            Credential::ServiceUser(claims) => ActorKind::ServiceUser(claims.sub.clone()),
            Credential::PartnerKey(principal) => ActorKind::ApiKey(principal.key.key_id.clone()),
            Credential::VendorApp(app) => ActorKind::VendorApp(app.id.clone()),
            Credential::ScimToken(token) => ActorKind::ScimToken(token.id.clone()),
            Credential::Anonymous(ip) => ActorKind::Client(*ip),
        }
    }

    /// The audit actor for changes made with this credential in the current request.
    pub fn actor(&self) -> Actor {
        Actor::new(self.actor_kind(), Some(current_request_id()))
    }
}

/// The credential a route family accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepts {
    ServiceToken,
    PartnerKey,
    VendorKey,
    ScimToken,
    /// OAuth endpoints authenticate their clients themselves (form fields
    /// or Basic); discovery documents are public.
    Nothing,
}

impl Accepts {
    fn of(path: &str) -> Self {
        if path.starts_with("/oauth/") || path.starts_with("/.well-known/oauth-") || path.starts_with("/.well-known/openid-") {
            Accepts::Nothing
        } else if path.starts_with("/v1/partners/") {
            Accepts::PartnerKey
        } else if path.starts_with("/v1/integration/") {
            Accepts::VendorKey
        } else if path.starts_with("/scim/") {
            Accepts::ScimToken
        } else {
            Accepts::ServiceToken
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn api_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-api-key").map(|v| v.to_str().unwrap_or_default().trim())
}

/// The route template a request matched, as rate limits name it. `HEAD`
/// is answered by the `GET` handler and counts against its quota.
pub fn route_key(req: &Request) -> String {
    let path = req.extensions().get::<MatchedPath>().map_or("<unmatched>", |m| m.as_str());
    let method = if req.method() == axum::http::Method::HEAD {
        &axum::http::Method::GET
    } else {
        req.method()
    };
    format!("{method} {path}")
}

/// The request's client address (see [`crate::middleware::client_addr`]).
pub fn client_addr(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ClientAddr>().map(|c| c.0)
}

/// `Unauthenticated` as no credential; other failures (storage) stay errors.
fn valid<T>(outcome: Result<T, DomainError>) -> Result<Option<T>, DomainError> {
    match outcome {
        Ok(found) => Ok(Some(found)),
        Err(DomainError::Unauthenticated) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The request's credential, if valid, and the partner key its usage counts
/// against (also when that key was refused). At most one lookup.
async fn resolve(
    state: &AppState,
    tenant: &Tenant,
    path: &str,
    headers: &HeaderMap,
) -> Result<(Option<Credential>, Option<ApiKey>), DomainError> {
    let core = &state.core;
    match Accepts::of(path) {
        Accepts::Nothing => Ok((None, None)),
        Accepts::ServiceToken => {
            let Some(token) = bearer(headers) else {
                return Ok((None, None));
            };
            let claims = valid(core.service_users().authenticate_service(tenant, token).await)?;
            Ok((claims.map(Credential::ServiceUser), None))
        }
        Accepts::PartnerKey => {
            let Some(raw) = api_key(headers) else {
                return Ok((None, None));
            };
            Ok(match core.partners().authenticate_api_key(tenant, raw).await? {
                PartnerKeyCheck::Valid(principal) => {
                    let key = principal.key.clone();
                    (Some(Credential::PartnerKey(Arc::new(principal))), Some(key))
                }
                PartnerKeyCheck::Refused(key) => (None, key),
            })
        }
        Accepts::VendorKey => {
            let Some(raw) = api_key(headers) else {
                return Ok((None, None));
            };
            let app = valid(core.integration().authenticate_vendor_key(tenant, raw).await)?;
            Ok((app.map(|app| Credential::VendorApp(Arc::new(app))), None))
        }
        Accepts::ScimToken => {
            let Some(token) = bearer(headers) else {
                return Ok((None, None));
            };
            let found = core.scim_tokens().authenticate(&tenant.env, token).await?;
            Ok((found.map(|t| Credential::ScimToken(Arc::new(t))), None))
        }
    }
}

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(tenant) = req.extensions().get::<Arc<Tenant>>().cloned() else {
        return ApiError::new(ErrorCode::Internal, "").into_response();
    };
    let (credential, metered) = match resolve(&state, &tenant, req.uri().path(), req.headers()).await {
        Ok(found) => found,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let credential = credential.unwrap_or_else(|| Credential::Anonymous(client_addr(&req)));
    let log = LogContext {
        instance: tenant.instance.platform_id.to_string(),
        environment: tenant.env.kind.as_str(),
        credential: credential.to_string(),
    };
    let route = route_key(&req);
    let decision = state.limits.check(&tenant, &route, &log.credential).await;
    let mut response = if decision.allowed {
        req.extensions_mut().insert(credential);
        next.run(req).await
    } else {
        ApiError::retry(
            ErrorCode::RateLimited,
            "rate limit exceeded for this endpoint",
            decision.retry_after,
        )
        .into_response()
    };
    // Usage is counted per key, including refused requests that name a known key.
    if let Some(key) = metered {
        state.core.usage().record_usage(&key, &route, response.status().as_u16());
    }
    set_rate_headers(response.headers_mut(), &decision);
    response.extensions_mut().insert(log);
    response
}

fn set_rate_headers(headers: &mut HeaderMap, d: &Decision) {
    headers.insert("ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(d.reset_secs));
}

/// Form posts of the web pages, limited per environment, client address and
/// path with the server's default quota (hosts that name no environment
/// share one bucket per address and path).
pub async fn limit_form_posts(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let ip = client_addr(&req).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let env = match state.core.tenancy().resolve_host(host).await {
        Ok(tenant) => tenant.env.id.to_string(),
        Err(_) => "-".to_owned(),
    };
    let decision = state.limits.check_default(format!("{env}|pages|{}|ip:{ip}", req.uri().path()));
    let mut response = if decision.allowed {
        next.run(req).await
    } else {
        ApiError::retry(
            ErrorCode::RateLimited,
            "too many form submissions; wait a moment",
            decision.retry_after,
        )
        .into_response()
    };
    set_rate_headers(response.headers_mut(), &decision);
    response
}
