//! Form bodies and the double-submit CSRF check: a random cookie that every
//! form repeats in a hidden `csrf` field.

use std::convert::Infallible;

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponseParts, Response, ResponseParts};
use onramp_domain::infra::secret::{ct_eq, random_token};
use onramp_domain::tenancy::Tenant;
use serde::de::DeserializeOwned;

use super::PageTenant;
use crate::WebState;
use crate::cookies::{CSRF_COOKIE, Cookies};
use crate::views::message;

/// How long a CSRF cookie lives: a form left open longer gets the expired-form page.
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

/// A form that repeats the CSRF cookie in a field.
pub trait CsrfProtected {
    /// The submitted token (empty when the field was missing).
    fn csrf(&self) -> &str;
}

/// Whether `submitted` matches the request's CSRF cookie.
pub fn csrf_matches(cookies: &Cookies, submitted: &str) -> bool {
    cookies
        .get(CSRF_COOKIE)
        .is_some_and(|cookie| !cookie.is_empty() && ct_eq(cookie.as_bytes(), submitted.as_bytes()))
}

/// The `403` page for a form whose token does not match its cookie.
pub fn csrf_failed(tenant: &Tenant) -> Response {
    message(
        &tenant.instance.name,
        StatusCode::FORBIDDEN,
        "Expired form",
        "This form expired or was not sent from this site. Go back, reload and try again.",
    )
}

/// A form of a page of the host's tenant whose CSRF token matches its
/// cookie. A malformed body gets `400`, a token that does not match `403`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + CsrfProtected> FromRequest<WebState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let tenant = PageTenant::from_request_parts(&mut parts, state).await?;
        let cookies = Cookies::from_headers(&parts.headers);
        let WebForm(form) = WebForm::<T>::from_request(Request::from_parts(parts, body), state).await?;
        if !csrf_matches(&cookies, form.csrf()) {
            return Err(csrf_failed(&tenant));
        }
        Ok(Self(form))
    }
}

/// The CSRF token a page's forms repeat: the request's cookie when it is
/// well-formed, else a fresh one that the response sets (as a response part).
pub struct CsrfToken {
    value: String,
    fresh: Option<Cookies>,
}

impl CsrfToken {
    /// The token, for the page's hidden fields.
    pub fn value(&self) -> String {
        self.value.clone()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let cookies = Cookies::from_headers(&parts.headers);
        let current = cookies
            .get(CSRF_COOKIE)
            .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(str::to_owned);
        Ok(match current {
            Some(value) => Self { value, fresh: None },
            None => {
                let value = random_token("", 32);
                let fresh = Some(cookies.set(CSRF_COOKIE, value.clone(), CSRF_MAX_AGE_SECS));
                Self { value, fresh }
            }
        })
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
