//! Form bodies and their CSRF check. Every form repeats a token in a hidden
//! `csrf` field; the token is an HMAC bound to the signed-in session, or,
//! before sign-in, to a random pre-session cookie (see `csrf.rs`). A request
//! with a live session is checked against the session only, so a cookie
//! planted beside it counts for nothing.

use std::convert::Infallible;

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponseParts, Response, ResponseParts};
use onramp_domain::infra::secret::token_hash;
use onramp_domain::tenancy::Tenant;
use serde::de::DeserializeOwned;

use super::{PageTenant, SignedIn};
use crate::WebState;
use crate::cookies::{CookieName, Cookies};
use crate::csrf::{self, Binding};
use crate::views::message;

/// How long a pre-session cookie lives: a form left open longer gets the expired-form page.
const CSRF_MAX_AGE_SECS: i64 = 12 * 3600;

/// A form body; a malformed one gets a page, not a plain-text error.
pub struct WebForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for WebForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Form::<T>::from_request(req, state).await.map(|Form(v)| WebForm(v)).map_err(|_| {
            message(
                "Onramp",
                StatusCode::BAD_REQUEST,
                "Invalid form",
                "The form was incomplete or malformed. Go back and try again.",
            )
        })
    }
}

/// A form that is only a button: nothing but its token.
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

csrf_field!(CsrfOnly);

/// A form's checkboxes for API key scopes, one per scope, named after it
/// (`accounts:write`, …); flattened into the forms that have them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ScopeBoxes {
    #[serde(rename = "accounts:write")]
    accounts_write: Option<String>,
    #[serde(rename = "accounts:read")]
    accounts_read: Option<String>,
    #[serde(rename = "usage:read")]
    usage_read: Option<String>,
    #[serde(rename = "webhooks:manage")]
    webhooks_manage: Option<String>,
}

impl ScopeBoxes {
    /// The scopes ticked, in [`Scope::ALL`]'s order.
    pub fn ticked(&self) -> Vec<onramp_domain::partners::Scope> {
        use onramp_domain::partners::Scope;
        [
            (Scope::AccountsWrite, &self.accounts_write),
            (Scope::AccountsRead, &self.accounts_read),
            (Scope::UsageRead, &self.usage_read),
            (Scope::WebhooksManage, &self.webhooks_manage),
        ]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(s, _)| s)
        .collect()
    }

    /// The same, as the names the services take.
    pub fn names(&self) -> Vec<String> {
        self.ticked().iter().map(|s| s.as_str().to_owned()).collect()
    }
}

/// A form that carries a CSRF token in a field.
pub trait CsrfProtected {
    /// The submitted token (empty when the field was missing).
    fn csrf(&self) -> &str;
}

/// What the request's tokens are bound to: its live session, else its
/// well-formed pre-session cookie, else nothing (no token can pass).
async fn binding(parts: &mut Parts, state: &WebState) -> Result<Option<Binding>, Response> {
    if let Some(me) = SignedIn::of_request(parts, state).await? {
        return Ok(Some(Binding::Session(me.session_hash())));
    }
    let cookies = Cookies::from_parts(parts);
    let cookie = cookies.get(CookieName::Csrf).filter(|v| csrf::is_pre_session(v));
    Ok(cookie.map(|v| Binding::PreSession(v.to_owned())))
}

/// The CSRF check of a request, taken before its body is read.
pub struct CsrfCheck {
    binding: Option<Binding>,
    key: [u8; 32],
}

impl CsrfCheck {
    /// Whether `submitted` is this request's token.
    pub fn accepts(&self, submitted: &str) -> bool {
        self.binding.as_ref().is_some_and(|b| csrf::verify(&self.key, b, submitted))
    }
}

impl FromRequestParts<WebState> for CsrfCheck {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        Ok(Self {
            binding: binding(parts, state).await?,
            key: state.csrf_key,
        })
    }
}

/// The `403` page for a form whose token is not the request's.
pub fn csrf_failed(tenant: &Tenant) -> Response {
    message(
        &tenant.instance.name,
        StatusCode::FORBIDDEN,
        "Expired form",
        "This form expired or was not sent from this site. Go back, reload and try again.",
    )
}

/// A form of a page of the host's tenant whose CSRF token is the request's.
/// A malformed body gets `400`, a wrong or missing token `403`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + CsrfProtected> FromRequest<WebState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let tenant = PageTenant::from_request_parts(&mut parts, state).await?;
        let check = CsrfCheck::from_request_parts(&mut parts, state).await?;
        let WebForm(form) = WebForm::<T>::from_request(Request::from_parts(parts, body), state).await?;
        if !check.accepts(form.csrf()) {
            return Err(csrf_failed(&tenant));
        }
        Ok(Self(form))
    }
}

/// The CSRF token of a page's forms. Before sign-in without a pre-session
/// cookie, a fresh cookie is made, which the response sets (as a response part).
pub struct CsrfToken {
    value: String,
    fresh: Option<Cookies>,
}

impl CsrfToken {
    /// The token, for the page's hidden fields.
    pub fn value(&self) -> String {
        self.value.clone()
    }

    /// The token of a session just opened by this request (its cookie is
    /// set by the response, so the request's own binding is the old one).
    pub fn for_session(state: &WebState, client_token: &str) -> String {
        csrf::token(&state.csrf_key, &Binding::Session(token_hash(client_token)))
    }
}

impl FromRequestParts<WebState> for CsrfToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        if let Some(bound) = binding(parts, state).await? {
            return Ok(Self {
                value: csrf::token(&state.csrf_key, &bound),
                fresh: None,
            });
        }
        let cookie = csrf::new_pre_session();
        let value = csrf::token(&state.csrf_key, &Binding::PreSession(cookie.clone()));
        let fresh = Cookies::from_parts(parts).set(CookieName::Csrf, cookie, CSRF_MAX_AGE_SECS);
        Ok(Self { value, fresh: Some(fresh) })
    }
}

impl IntoResponseParts for CsrfToken {
    type Error = Infallible;

    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        match self.fresh {
            Some(cookies) => cookies.into_response_parts(res),
            None => Ok(res),
        }
    }
}
