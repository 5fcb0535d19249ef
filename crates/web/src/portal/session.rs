//! What the portal's handlers need before they work, as extractors whose
//! rejections are pages: the host's environment with the `partners`
//! feature on, the signed-in portal user (of an approved partner, or of
//! any), and forms whose CSRF token is the request's (bound to the portal
//! session, or before sign-in to a pre-session cookie of the portal's own).
//!
//! The portal shares its host with the account pages: its cookies have
//! names of their own, `__Host-` and `Secure` over HTTPS like theirs.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum_extra::extract::cookie::SameSite;
use onramp_domain::infra::client::Scheme;
use onramp_domain::portal::Member;
use onramp_domain::tenancy::{Feature, Tenant};
use serde::de::DeserializeOwned;

use super::views::problem;
use crate::WebState;
use crate::csrf::{self, Binding};
use crate::extract::{CsrfProtected, WebForm};
use crate::scoped_cookies::{ScopedCookies, Which, scheme};
use crate::views::{message, redirect};

/// How long the session cookie lives in the browser (the server ends
/// idle sessions sooner).
const SESSION_MAX_AGE_SECS: i64 = 24 * 3600;

/// The cookies of this area (SameSite=Lax: an invitation link arrives from elsewhere).
const COOKIES: ScopedCookies = ScopedCookies {
    session: ("onramp_portal", "__Host-onramp_portal"),
    csrf: ("onramp_portal_csrf", "__Host-onramp_portal_csrf"),
    same_site: SameSite::Lax,
};

/// The `Set-Cookie` header that signs this browser in with `token`.
pub fn sign_in_cookie(scheme: Scheme, token: String) -> (&'static str, String) {
    COOKIES.set(scheme, Which::Session, token, SESSION_MAX_AGE_SECS)
}

/// The `Set-Cookie` header that forgets the session.
pub fn sign_out_cookie(scheme: Scheme) -> (&'static str, String) {
    COOKIES.set(scheme, Which::Session, String::new(), 0)
}

/// The environment the `Host` names, with the `partners` feature on.
/// Otherwise a page: `404` for an unknown host, and `404` saying the
/// portal is off for an instance without the feature.
#[derive(Clone)]
pub struct PortalTenant(pub Arc<Tenant>);

impl Deref for PortalTenant {
    type Target = Tenant;

    fn deref(&self) -> &Tenant {
        &self.0
    }
}

impl FromRequestParts<WebState> for PortalTenant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
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
        if !tenant.instance.has(Feature::Partners) {
            return Err(message(
                &tenant.instance.name,
                StatusCode::NOT_FOUND,
                "No partner portal",
                "This platform does not take partners (its feature partners is off), so it has no partner portal.",
            ));
        }
        let found = Self(tenant);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// The request's portal session at whatever stage, if any (looked up
/// once), and its scheme. Pages check [`Member::signed_in`] (or take
/// [`Signed`]); forms bind their CSRF token to the session either way.
#[derive(Clone)]
pub struct MaybeMember {
    pub member: Option<Member>,
    pub scheme: Scheme,
}

impl FromRequestParts<WebState> for MaybeMember {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        if let Some(found) = parts.extensions.get::<MaybeMember>() {
            return Ok(found.clone());
        }
        let tenant = PortalTenant::from_request_parts(parts, state).await?;
        let member = match COOKIES.get(parts, Which::Session) {
            Some(token) => state.core.portal().session(&tenant, &token).await.map_err(|e| {
                tracing::error!(error = %e, "portal session lookup failed");
                problem(
                    &tenant,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Try again",
                    "The portal could not be read just now.",
                )
            })?,
            None => None,
        };
        let found = MaybeMember {
            member,
            scheme: scheme(parts),
        };
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// A signed-in portal user (the authentication code entered, for a person
/// with an authenticator), whatever their partner's status (the status
/// page). Anyone else is sent to the step of sign-in they are at.
pub struct Signed(pub Member);

impl FromRequestParts<WebState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        match MaybeMember::from_request_parts(parts, state).await?.member {
            Some(member) if member.signed_in() => Ok(Self(member)),
            Some(_) => Err(redirect("/partners/sign-in/code")),
            None => Err(redirect("/partners/sign-in")),
        }
    }
}

/// A signed-in portal user of an approved partner: every page past the
/// status page needs one (security too). A pending or suspended partner's
/// people see the status page only.
pub struct Approved(pub Member);

impl FromRequestParts<WebState> for Approved {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let Signed(member) = Signed::from_request_parts(parts, state).await?;
        if member.approved() {
            Ok(Self(member))
        } else {
            Err(redirect("/partners/status"))
        }
    }
}

/// The CSRF token of the request's forms, and the cookie to set when a
/// pre-session one had to be made.
pub struct PortalCsrf {
    pub value: String,
    pub set_cookie: Option<(&'static str, String)>,
}

async fn binding(parts: &mut Parts, state: &WebState) -> Result<Option<Binding>, Response> {
    let member = MaybeMember::from_request_parts(parts, state).await?.member;
    Ok(COOKIES.binding(parts, member.map(|m| m.session.token_hash)))
}

impl FromRequestParts<WebState> for PortalCsrf {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let bound = binding(parts, state).await?;
        let (value, set_cookie) = COOKIES.form_token(parts, &state.csrf_key, bound);
        Ok(Self { value, set_cookie })
    }
}

/// A portal form whose CSRF token is the request's: a wrong or missing
/// token gets `403`, a malformed body `400`.
pub struct PortalForm<T>(pub T);

impl<T: DeserializeOwned + CsrfProtected> FromRequest<WebState> for PortalForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let tenant = PortalTenant::from_request_parts(&mut parts, state).await?;
        let bound = binding(&mut parts, state).await?;
        let WebForm(form) = WebForm::<T>::from_request(Request::from_parts(parts, body), state).await?;
        if !bound.is_some_and(|b| csrf::verify(&state.csrf_key, &b, form.csrf())) {
            return Err(problem(
                &tenant,
                StatusCode::FORBIDDEN,
                "Expired form",
                "This form expired or was not sent from the partner portal. Go back, reload and try again.",
            ));
        }
        Ok(Self(form))
    }
}
