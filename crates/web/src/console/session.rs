//! The console's session cookie and who it signs in, and the CSRF tokens of
//! the console's forms (bound to the session, or before sign-in to a
//! pre-session cookie of the console's own).
//!
//! The console listens on its own address, but cookies are per host, not
//! per port: its cookies have names of their own so that they never meet
//! the account pages' on the same host.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::SameSite;
use onramp_domain::infra::client::Scheme;
use onramp_domain::operators::Stage;
use onramp_domain::operators::sessions::Console;
use serde::de::DeserializeOwned;

use crate::WebState;
use crate::csrf::{self, Binding};
use crate::extract::{CsrfProtected, WebForm};
use crate::scoped_cookies::{ScopedCookies, Which, scheme};
use crate::views::redirect;

/// The cookies of this area (SameSite=Strict: nothing links into the console from elsewhere).
const COOKIES: ScopedCookies = ScopedCookies {
    session: ("onramp_console", "__Host-onramp_console"),
    csrf: ("onramp_console_csrf", "__Host-onramp_console_csrf"),
    same_site: SameSite::Strict,
};

/// The request's console session, at whatever stage (looked up once).
#[derive(Clone)]
pub struct MaybeConsole {
    pub console: Option<Console>,
    /// The request's scheme, for the cookies the answer sets.
    pub scheme: Scheme,
}

impl MaybeConsole {
    /// The `Set-Cookie` header that signs this browser in with `token`
    /// (for the idle timeout the server enforces; the cookie itself lasts
    /// the browser session).
    pub fn sign_in_cookie(&self, token: String) -> (&'static str, String) {
        COOKIES.set(self.scheme, Which::Session, token, 24 * 3600)
    }

    /// The `Set-Cookie` header that forgets the session.
    pub fn sign_out_cookie(&self) -> (&'static str, String) {
        COOKIES.set(self.scheme, Which::Session, String::new(), 0)
    }
}

impl FromRequestParts<WebState> for MaybeConsole {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        if let Some(found) = parts.extensions.get::<MaybeConsole>() {
            return Ok(found.clone());
        }
        let console = match COOKIES.get(parts, Which::Session) {
            Some(token) => state.core.operators().session(&token).await.map_err(|e| {
                tracing::error!(error = %e, "console session lookup failed");
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            })?,
            None => None,
        };
        let found = MaybeConsole {
            console,
            scheme: scheme(parts),
        };
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// A signed-in operator (second factor done). Anyone else is sent to the
/// step of sign-in they are at.
pub struct Operator(pub Console);

impl FromRequestParts<WebState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let found = MaybeConsole::from_request_parts(parts, state).await?;
        match found.console {
            Some(c) if c.session.stage == Stage::Complete => Ok(Operator(c)),
            Some(c) if c.session.stage == Stage::Enrol => Err(redirect("/sign-in/enrol")),
            Some(_) => Err(redirect("/sign-in/code")),
            None => Err(redirect("/sign-in")),
        }
    }
}

/// A signed-in operator with the `admin` role; a `support` operator gets
/// `403`.
pub struct Admin(pub Console);

impl FromRequestParts<WebState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let Operator(console) = Operator::from_request_parts(parts, state).await?;
        if !console.operator.is_admin() {
            return Err(super::views::problem_page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Only admin operators can change this; support operators can read it.",
            ));
        }
        Ok(Admin(console))
    }
}

/// The CSRF token of the request's forms, and the cookie to set when a
/// pre-session one had to be made.
pub struct ConsoleCsrf {
    pub value: String,
    pub set_cookie: Option<(&'static str, String)>,
}

async fn binding(parts: &mut Parts, state: &WebState) -> Result<Option<Binding>, Response> {
    let found = MaybeConsole::from_request_parts(parts, state).await?;
    Ok(COOKIES.binding(parts, found.console.map(|c| c.session.token_hash)))
}

impl FromRequestParts<WebState> for ConsoleCsrf {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let bound = binding(parts, state).await?;
        let (value, set_cookie) = COOKIES.form_token(parts, &state.csrf_key, bound);
        Ok(Self { value, set_cookie })
    }
}

/// A console form whose CSRF token is the request's: a wrong or missing
/// token gets `403`, a malformed body `400`.
pub struct ConsoleForm<T>(pub T);

impl<T: DeserializeOwned + CsrfProtected> FromRequest<WebState> for ConsoleForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let bound = binding(&mut parts, state).await?;
        let WebForm(form) = WebForm::<T>::from_request(Request::from_parts(parts, body), state).await?;
        if !bound.is_some_and(|b| csrf::verify(&state.csrf_key, &b, form.csrf())) {
            return Err(super::views::problem_page(
                StatusCode::FORBIDDEN,
                "Expired form",
                "This form expired or was not sent from the console. Go back, reload and try again.",
            ));
        }
        Ok(Self(form))
    }
}
