//! The cookies of an area of pages with a sign-in of its own (the operator
//! console, the partner portal): a session cookie and a pre-session CSRF
//! cookie under names of the area's own, so they never meet the account
//! pages' (cookies are per host, not per port or path). `HttpOnly`,
//! `Path=/`, no `Domain`; over HTTPS `Secure` and named `__Host-…`, which
//! browsers accept only from the host itself.

use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use onramp_domain::infra::client::Scheme;

use crate::csrf::{self, Binding};

/// How long the pre-session cookie of the forms before sign-in lives.
const CSRF_MAX_AGE_SECS: i64 = 12 * 3600;

/// Which of an area's two cookies.
#[derive(Debug, Clone, Copy)]
pub enum Which {
    Session,
    Csrf,
}

/// An area's cookie names (plain, and with the `__Host-` prefix over HTTPS)
/// and its `SameSite`.
pub struct ScopedCookies {
    pub session: (&'static str, &'static str),
    pub csrf: (&'static str, &'static str),
    pub same_site: SameSite,
}

/// The scheme the HTTP layer resolved for the request.
pub fn scheme(parts: &Parts) -> Scheme {
    parts.extensions.get::<Scheme>().copied().unwrap_or_default()
}

impl ScopedCookies {
    fn name(&self, which: Which, scheme: Scheme) -> &'static str {
        let (plain, host) = match which {
            Which::Session => self.session,
            Which::Csrf => self.csrf,
        };
        if scheme == Scheme::Https { host } else { plain }
    }

    /// The request's cookie, under its name for the request's scheme.
    pub fn get(&self, parts: &Parts, which: Which) -> Option<String> {
        CookieJar::from_headers(&parts.headers)
            .get(self.name(which, scheme(parts)))
            .map(|c| c.value().to_owned())
    }

    /// A `Set-Cookie` header; `max_age_secs` 0 deletes the cookie.
    pub fn set(&self, scheme: Scheme, which: Which, value: String, max_age_secs: i64) -> (&'static str, String) {
        let cookie = Cookie::build((self.name(which, scheme), value))
            .path("/")
            .http_only(true)
            .same_site(self.same_site)
            .max_age(time::Duration::seconds(max_age_secs))
            .secure(scheme == Scheme::Https);
        ("set-cookie", cookie.build().to_string())
    }

    /// What the request's form tokens are bound to: its session (the
    /// SHA-256 of the session token), else its well-formed pre-session
    /// cookie, else nothing (no token can pass).
    pub fn binding(&self, parts: &Parts, session_hash: Option<String>) -> Option<Binding> {
        session_hash.map(Binding::Session).or_else(|| {
            self.get(parts, Which::Csrf)
                .filter(|v| csrf::is_pre_session(v))
                .map(Binding::PreSession)
        })
    }

    /// The token of the request's forms bound to `bound`; with nothing to
    /// bind to, bound to a fresh pre-session cookie, whose `Set-Cookie`
    /// comes with it.
    pub fn form_token(&self, parts: &Parts, key: &[u8; 32], bound: Option<Binding>) -> (String, Option<(&'static str, String)>) {
        if let Some(bound) = bound {
            return (csrf::token(key, &bound), None);
        }
        let fresh = csrf::new_pre_session();
        let token = csrf::token(key, &Binding::PreSession(fresh.clone()));
        (token, Some(self.set(scheme(parts), Which::Csrf, fresh, CSRF_MAX_AGE_SECS)))
    }
}
