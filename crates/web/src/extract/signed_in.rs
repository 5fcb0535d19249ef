//! The person signed in with the session cookie.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;
use onramp_domain::accounts::Account;
use onramp_domain::infra::secret::token_hash;

use super::PageTenant;
use crate::WebState;
use crate::cookies::{CookieName, Cookies};
use crate::views::redirect;

/// The account whose live session the request's cookie carries. Without one
/// the answer is a redirect to the login page, which comes back to the page
/// the request belongs to; as `Option<SignedIn>` it is `None` instead.
#[derive(Clone)]
pub struct SignedIn {
    pub account: Account,
    /// When the person signed in (the session's start): OpenID Connect's `auth_time`.
    pub signed_in_at: onramp_domain::clock::Millis,
    session_token: String,
}

/// The request's signed-in person, once resolved: the CSRF check and the
/// handler both need it, and the session is looked up once.
#[derive(Clone)]
struct Resolved(Option<SignedIn>);

impl SignedIn {
    /// The client session token, to end the session with.
    pub fn session_token(&self) -> &str {
        &self.session_token
    }

    /// The SHA-256 of the session token, which the session's CSRF tokens bind to.
    pub fn session_hash(&self) -> String {
        token_hash(&self.session_token)
    }

    /// The request's signed-in person, if any (looked up once per request).
    ///
    /// # Errors
    /// The tenant's page (unknown host, feature off).
    pub async fn of_request(parts: &mut Parts, state: &WebState) -> Result<Option<Self>, Response> {
        if let Some(Resolved(found)) = parts.extensions.get::<Resolved>() {
            return Ok(found.clone());
        }
        let found = Self::look_up(parts, state).await?;
        parts.extensions.insert(Resolved(found.clone()));
        Ok(found)
    }

    async fn look_up(parts: &mut Parts, state: &WebState) -> Result<Option<Self>, Response> {
        let tenant = PageTenant::from_request_parts(parts, state).await?;
        let cookies = Cookies::from_parts(parts);
        let Some(token) = cookies.get(CookieName::Session) else {
            return Ok(None);
        };
        let Ok(session) = state.core.accounts().verify_session(&tenant, token).await else {
            return Ok(None);
        };
        // A deactivation ends the sessions; this only covers the moment
        // between the two.
        let Ok(account) = state.core.accounts().account(&tenant, &session.account_id).await else {
            return Ok(None);
        };
        if !account.active {
            return Ok(None);
        }
        Ok(Some(Self {
            account,
            signed_in_at: session.created_at,
            session_token: token.to_owned(),
        }))
    }
}

/// Where sign-in leads back to: the page a form lives on, not the path it
/// posts to (which answers only POST).
fn return_to(path: &str) -> &'static str {
    if path.starts_with("/account/developers") {
        "/account/developers"
    } else if path.starts_with("/account/connections") {
        "/account/connections"
    } else if path.starts_with("/account/delete") {
        "/account/delete"
    } else {
        "/account"
    }
}

impl OptionalFromRequestParts<WebState> for SignedIn {
    /// The tenant's page (unknown host, feature off).
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Option<Self>, Self::Rejection> {
        Self::of_request(parts, state).await
    }
}

impl FromRequestParts<WebState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let found = Self::of_request(parts, state).await?;
        found.ok_or_else(|| redirect(&format!("/account/login?next={}", return_to(parts.uri.path()))))
    }
}

#[cfg(test)]
mod tests {
    use super::return_to;

    #[test]
    fn sign_in_returns_to_the_page_of_the_form() {
        assert_eq!(return_to("/account"), "/account");
        assert_eq!(return_to("/account/profile"), "/account");
        assert_eq!(return_to("/account/password"), "/account");
        assert_eq!(return_to("/account/developers"), "/account/developers");
        assert_eq!(return_to("/account/developers/abc/key"), "/account/developers");
        assert_eq!(return_to("/account/developers/abc/edit"), "/account/developers");
        assert_eq!(return_to("/account/connections"), "/account/connections");
        assert_eq!(return_to("/account/connections/abc/revoke"), "/account/connections");
        assert_eq!(return_to("/account/delete"), "/account/delete");
    }
}
