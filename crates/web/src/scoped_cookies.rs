//! The cookies of an area of pages with a sign-in of its own (the operator
//! console, the partner portal): a session cookie and a pre-session CSRF
//! cookie under names of the area's own, so they never meet the account
//! pages' (cookies are per host, not per port or path). `HttpOnly`,
//! `Path=/`, no `Domain`; over HTTPS `Secure` and named `__Host-…`, which
//! browsers accept only from the host itself.

use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use onramp_domain::infra::client::Scheme;

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
}
