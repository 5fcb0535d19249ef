//! Cookies: the signed-in session and the CSRF token (double submit: a
//! random cookie that every form repeats in a hidden field).

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use onramp_domain::accounts::Account;
use onramp_domain::app::Core;
use onramp_domain::infra::secret::{ct_eq, random_token};
use onramp_domain::tenancy::Tenant;

pub const SESSION_COOKIE: &str = "onramp_session";
pub const CSRF_COOKIE: &str = "onramp_csrf";

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Cookies are `Secure` when the request came over HTTPS (directly or via a
/// TLS-terminating proxy that says so).
fn secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure behind HTTPS.
pub fn set_cookie(request: &HeaderMap, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if secure(request) { "; Secure" } else { "" };
    let value = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The request's CSRF token, and a `Set-Cookie` when a new one was made.
pub fn csrf(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_alphanumeric())) {
        Some(token) => (token.to_owned(), None),
        None => {
            let token = random_token("", 32);
            let set = set_cookie(headers, CSRF_COOKIE, &token, 12 * 3600);
            (token, Some(set))
        }
    }
}

/// Whether a form's token matches the cookie.
pub fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, CSRF_COOKIE).is_some_and(|c| !c.is_empty() && ct_eq(c.as_bytes(), submitted.as_bytes()))
}

/// The signed-in account, if the session cookie is live.
pub async fn signed_in(core: &Arc<Core>, tenant: &Tenant, headers: &HeaderMap) -> Option<(Account, String)> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let session = core.verify_session(tenant, token).await.ok()?;
    let account = core.account(tenant, &session.account_id).await.ok()?;
    Some((account, token.to_owned()))
}
