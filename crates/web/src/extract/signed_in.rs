//! The person signed in with the session cookie.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;
use onramp_domain::accounts::Account;

use super::PageTenant;
use crate::WebState;
use crate::cookies::{Cookies, SESSION_COOKIE};
use crate::views::redirect;

/// The account whose live session the request's cookie carries. Without one
/// the answer is a redirect to the login page, which comes back to the page
/// the request belongs to; as `Option<SignedIn>` it is `None` instead.
pub struct SignedIn {
    pub account: Account,
    session_token: String,
}

impl SignedIn {
    /// The client session token, to end the session with.
    pub fn session_token(&self) -> &str {
        &self.session_token
    }
}

/// Where sign-in leads back to: the page a form lives on, not the path it
/// posts to (which answers only POST).
fn return_to(path: &str) -> &'static str {
    if path.starts_with("/account/developers") {
        "/account/developers"
    } else if path.starts_with("/account/connections") {
        "/account/connections"
    } else {
        "/account"
    }
}

impl OptionalFromRequestParts<WebState> for SignedIn {
    /// The tenant's page (unknown host, feature off).
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Option<Self>, Self::Rejection> {
        let tenant = PageTenant::from_request_parts(parts, state).await?;
        let cookies = Cookies::from_headers(&parts.headers);
        let Some(token) = cookies.get(SESSION_COOKIE) else {
            return Ok(None);
        };
        let Ok(session) = state.core.accounts().verify_session(&tenant, token).await else {
            return Ok(None);
        };
        let Ok(account) = state.core.accounts().account(&tenant, &session.account_id).await else {
            return Ok(None);
        };
        Ok(Some(Self {
            account,
            session_token: token.to_owned(),
        }))
    }
}

impl FromRequestParts<WebState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let found = <Self as OptionalFromRequestParts<WebState>>::from_request_parts(parts, state).await?;
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
        assert_eq!(return_to("/account/connections"), "/account/connections");
        assert_eq!(return_to("/account/connections/abc/revoke"), "/account/connections");
    }
}
