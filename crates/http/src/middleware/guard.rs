//! Authentication and rate limiting for tenant routes.
//!
//! A Bearer token, if present and valid here, becomes the request's
//! [`Principal`]; handlers that need one refuse with `401` through the
//! [`crate::extract::Authorized`] extractor. The rate-limit key is the
//! credential when there is one, else the client IP, per route template.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::integration::VendorApp;
use onramp_domain::partners::service::PartnerPrincipal;
use onramp_domain::tenancy::Tenant;
use onramp_domain::tenancy::signing::ServiceClaims;

use crate::middleware::request_id::LogContext;
use crate::problem::{ApiError, ErrorCode};
use crate::rate_limit::Decision;
use crate::state::AppState;

/// The authenticated service user of a request.
#[derive(Debug, Clone)]
pub struct Principal(pub Arc<ServiceClaims>);

/// The vendor app whose key a request presented.
#[derive(Debug, Clone)]
pub struct VendorKey(pub Arc<VendorApp>);

/// The partner API key of a request, valid in this environment (the
/// partner's status is checked by [`crate::extract::PartnerAuthorized`]).
#[derive(Debug, Clone)]
pub struct PartnerKey(pub Arc<PartnerPrincipal>);

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The route template a request matched, as rate limits name it.
pub fn route_key(req: &Request) -> String {
    let path = req.extensions().get::<MatchedPath>().map_or("<unmatched>", |m| m.as_str());
    format!("{} {}", req.method(), path)
}

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(tenant) = req.extensions().get::<Arc<Tenant>>().cloned() else {
        return ApiError::new(ErrorCode::Internal, "").into_response();
    };
    let principal = match bearer(req.headers()) {
        Some(token) => match state.core.service_users().authenticate_service(&tenant, token).await {
            Ok(claims) => Some(Principal(claims)),
            Err(DomainError::Unauthenticated) => None,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    let raw_key = req
        .headers()
        .get("x-api-key")
        .map(|v| v.to_str().unwrap_or_default().trim().to_owned());
    let partner = match raw_key.as_deref() {
        Some(raw) => match state.core.partners().authenticate_api_key(&tenant, raw).await {
            Ok(p) => Some(PartnerKey(Arc::new(p))),
            Err(DomainError::Unauthenticated) => None,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    // Not a partner key: perhaps a vendor app's key (user integration).
    let vendor = match (&partner, raw_key.as_deref()) {
        (None, Some(raw)) => match state.core.integration().authenticate_vendor_key(&tenant, raw).await {
            Ok(app) => Some(VendorKey(Arc::new(app))),
            Err(DomainError::Unauthenticated) => None,
            Err(e) => return ApiError::from(e).into_response(),
        },
        _ => None,
    };
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let credential = match (&principal, &partner, ip) {
        (Some(p), _, _) => format!("service_user:{}", p.0.sub),
        (None, Some(k), _) => format!("api_key:{}", k.0.key.key_id),
        (None, None, _) if vendor.is_some() => format!("vendor_app:{}", vendor.as_ref().map_or("", |v| v.0.id.as_str())),
        (None, None, Some(ip)) => format!("ip:{ip}"),
        (None, None, None) => "ip:unknown".to_owned(),
    };
    let log = LogContext {
        instance: tenant.instance.platform_id.to_string(),
        environment: tenant.env.kind.as_str(),
        credential,
    };
    let route = route_key(&req);
    let decision = state.limits.check(&tenant, &route, &log.credential).await;
    let metered = partner.as_ref().map(|k| k.0.key.clone());
    let mut response = if decision.allowed {
        if let Some(p) = principal {
            req.extensions_mut().insert(p);
        }
        if let Some(k) = partner {
            req.extensions_mut().insert(k);
        }
        if let Some(v) = vendor {
            req.extensions_mut().insert(v);
        }
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
    let metered = match (metered, raw_key) {
        (Some(key), _) => Some(key),
        (None, Some(raw)) => state.core.partners().identify_api_key(&raw).await,
        (None, None) => None,
    };
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

/// Form posts of the web pages, limited per client IP and path with the
/// server's default quota.
pub async fn limit_form_posts(State(limits): State<Arc<crate::rate_limit::RateLimits>>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let decision = limits.check_default(format!("pages|{}|ip:{ip}", req.uri().path()));
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
