//! The pages' cookies: the signed-in session and the pre-session CSRF
//! cookie. Both are `HttpOnly`, `SameSite=Lax` and `Path=/`, with no
//! `Domain`. When the request came over HTTPS (a trusted proxy said so) they
//! are `Secure` and named with the `__Host-` prefix, which browsers accept
//! only from the host itself over HTTPS: a sibling subdomain cannot plant
//! or overwrite them. Over plain HTTP they keep their plain names. Each
//! request reads the names of its own scheme.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponseParts, ResponseParts};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use onramp_domain::accounts::service::OpenedSession;
use onramp_domain::clock::now_ms;
use onramp_domain::infra::client::Scheme;

/// The pages' cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieName {
    /// The client session token of the signed-in person.
    Session,
    /// The random value that tokens of forms shown before sign-in bind to.
    Csrf,
}

impl CookieName {
    /// The name on the wire for a request of `scheme`.
    pub fn on(self, scheme: Scheme) -> &'static str {
        match (self, scheme) {
            (Self::Session, Scheme::Https) => "__Host-onramp_session",
            (Self::Session, Scheme::Http) => "onramp_session",
            (Self::Csrf, Scheme::Https) => "__Host-onramp_csrf",
            (Self::Csrf, Scheme::Http) => "onramp_csrf",
        }
    }
}

/// The request's cookies, and the ones the response sets (returned as a
/// response part; only the cookies set here are written).
pub struct Cookies {
    jar: CookieJar,
    scheme: Scheme,
}

impl Cookies {
    /// Reads the `Cookie` headers and the scheme the HTTP layer resolved.
    pub fn from_parts(parts: &Parts) -> Self {
        Self {
            jar: CookieJar::from_headers(&parts.headers),
            scheme: parts.extensions.get::<Scheme>().copied().unwrap_or_default(),
        }
    }

    /// A cookie's value from the request, under its name for this scheme.
    pub fn get(&self, which: CookieName) -> Option<&str> {
        self.jar.get(which.on(self.scheme)).map(Cookie::value)
    }

    /// Sets a cookie with our attributes; `max_age_secs` 0 deletes it.
    #[must_use]
    pub fn set(self, which: CookieName, value: String, max_age_secs: i64) -> Self {
        let https = self.scheme == Scheme::Https;
        let cookie = Cookie::build((which.on(self.scheme), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::seconds(max_age_secs))
            .secure(https);
        Self {
            jar: self.jar.add(cookie),
            scheme: self.scheme,
        }
    }

    /// Signs the person in: the session cookie lives as long as the session.
    #[must_use]
    pub fn open_session(self, session: &OpenedSession) -> Self {
        let max_age = (session.expires_at - now_ms()) / 1000;
        self.set(CookieName::Session, session.client_token.expose().to_owned(), max_age.max(0))
    }

    /// Deletes the session cookie.
    #[must_use]
    pub fn end_session(self) -> Self {
        self.set(CookieName::Session, String::new(), 0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Cookies {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

impl IntoResponseParts for Cookies {
    type Error = Infallible;

    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        self.jar.into_response_parts(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_scheme() {
        assert_eq!(CookieName::Session.on(Scheme::Https), "__Host-onramp_session");
        assert_eq!(CookieName::Csrf.on(Scheme::Https), "__Host-onramp_csrf");
        assert_eq!(CookieName::Session.on(Scheme::Http), "onramp_session");
        assert_eq!(CookieName::Csrf.on(Scheme::Http), "onramp_csrf");
    }
}
