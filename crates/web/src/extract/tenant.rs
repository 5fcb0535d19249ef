//! The tenant of the page's host.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use onramp_domain::tenancy::{Feature, Tenant};

use crate::WebState;
use crate::views::message;

/// The instance and environment the request's `Host` names, with the
/// `user-integration` feature on. Otherwise the answer is a page: `404` for
/// a host no platform answers at, `403` when the feature is off.
#[derive(Clone)]
pub struct PageTenant(pub Arc<Tenant>);

impl Deref for PageTenant {
    type Target = Tenant;

    fn deref(&self) -> &Tenant {
        &self.0
    }
}

impl FromRequestParts<WebState> for PageTenant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        // Other extractors of the same request (the signed-in person, the
        // form's CSRF check) need the tenant too: resolve the host once.
        if let Some(found) = parts.extensions.get::<Self>() {
            return Ok(found.clone());
        }
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let tenant = state.core.tenancy().resolve_host(host).await.map_err(|_| {
            message(
                "Onramp",
                StatusCode::NOT_FOUND,
                "Unknown platform",
                "No platform answers at this address.",
            )
        })?;
        if !tenant.instance.has(Feature::UserIntegration) {
            return Err(message(
                &tenant.instance.name,
                StatusCode::FORBIDDEN,
                "Not available",
                "Accounts pages are not enabled for this platform (feature user-integration is off).",
            ));
        }
        let found = Self(tenant);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}
