//! The pages' cookies: the signed-in session and the CSRF token. Both are
//! `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when the request came
//! over HTTPS.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponseParts, ResponseParts};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use onramp_domain::accounts::service::OpenedSession;
use onramp_domain::clock::now_ms;

/// The client session token of the signed-in person.
pub const SESSION_COOKIE: &str = "onramp_session";
/// The double-submit token that every form repeats in a hidden field.
pub const CSRF_COOKIE: &str = "onramp_csrf";

/// The request's cookies, and the ones the response sets (returned as a
/// response part; only the cookies set here are written).
pub struct Cookies {
    jar: CookieJar,
    secure: bool,
}

impl Cookies {
    /// Reads the `Cookie` headers.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            jar: CookieJar::from_headers(headers),
            secure: over_https(headers),
        }
    }

    /// A cookie's value from the request.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(Cookie::value)
    }

    /// Sets a cookie with our attributes; `max_age_secs` 0 deletes it.
    #[must_use]
    pub fn set(self, name: &'static str, value: String, max_age_secs: i64) -> Self {
        let cookie = Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::seconds(max_age_secs))
            .secure(self.secure);
        Self {
            jar: self.jar.add(cookie),
            secure: self.secure,
        }
    }

    /// Signs the person in: the session cookie lives as long as the session.
    #[must_use]
    pub fn open_session(self, session: &OpenedSession) -> Self {
        let max_age = (session.expires_at - now_ms()) / 1000;
        self.set(SESSION_COOKIE, session.client_token.expose().to_owned(), max_age.max(0))
    }

    /// Deletes the session cookie.
    #[must_use]
    pub fn end_session(self) -> Self {
        self.set(SESSION_COOKIE, String::new(), 0)
    }
}

/// Cookies are `Secure` when the request came over HTTPS (directly or via a
/// TLS-terminating proxy that says so).
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

impl<S: Send + Sync> FromRequestParts<S> for Cookies {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}

impl IntoResponseParts for Cookies {
    type Error = Infallible;

    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        self.jar.into_response_parts(res)
    }
}
