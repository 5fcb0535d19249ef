//! Page handlers, one module per area.

pub mod account;
pub mod connect;
pub mod connections;
pub mod developers;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::tenancy::{Feature, Tenant};

use crate::WebState;
use crate::views::{Message, render};

/// A page that only says something (unknown host, feature off, bad request).
pub fn message(platform: &str, status: StatusCode, title: &str, text: &str) -> Response {
    render(
        status,
        &Message {
            platform: platform.to_owned(),
            title: title.to_owned(),
            message: text.to_owned(),
        },
        Vec::new(),
    )
}

/// The tenant of the request's host, with the `user-integration` feature on.
pub async fn tenant(state: &WebState, headers: &HeaderMap) -> Result<Arc<Tenant>, Response> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let tenant = state.core.resolve_host(host).await.map_err(|_| {
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
    Ok(tenant)
}

/// A `303 See Other` to a path on this host, with cookies.
pub fn redirect(to: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response();
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The page for a form whose CSRF token does not match.
pub fn csrf_failed(platform: &str) -> Response {
    message(
        platform,
        StatusCode::FORBIDDEN,
        "Expired form",
        "This form expired or was not sent from this site. Go back, reload and try again.",
    )
}

/// A form body; a malformed one gets a page, not a plain-text error.
pub struct WebForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for WebForm<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Form::<T>::from_request(req, state)
            .await
            .map(|axum::extract::Form(v)| WebForm(v))
            .map_err(|_| {
                message(
                    "Onramp",
                    StatusCode::BAD_REQUEST,
                    "Invalid form",
                    "The form was incomplete or malformed. Go back and try again.",
                )
            })
    }
}

/// The tenant and the signed-in account, or the page to answer instead (a
/// redirect to the login page that comes back to `back`).
pub async fn signed_in_page(
    state: &WebState,
    headers: &HeaderMap,
    back: &str,
) -> Result<(Arc<Tenant>, onramp_domain::accounts::Account), Response> {
    let tenant = tenant(state, headers).await?;
    match crate::session::signed_in(&state.core, &tenant, headers).await {
        Some((account, _)) => Ok((tenant, account)),
        None => Err(redirect(&format!("/account/login?next={back}"), Vec::new())),
    }
}

/// Like [`signed_in_page`], for a form post: also checks its CSRF token.
pub async fn signed_in_form(
    state: &WebState,
    headers: &HeaderMap,
    csrf: &str,
    back: &str,
) -> Result<(Arc<Tenant>, onramp_domain::accounts::Account), Response> {
    let (tenant, account) = signed_in_page(state, headers, back).await?;
    if crate::session::csrf_ok(headers, csrf) {
        Ok((tenant, account))
    } else {
        Err(csrf_failed(&tenant.instance.name))
    }
}
