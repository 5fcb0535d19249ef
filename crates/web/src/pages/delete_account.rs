//! `/account/delete`: a person deletes their own account after confirming
//! the current password (counted by the login throttle, as a sign-in is).
//! Its sessions, the apps it registered and the grants it gave end with
//! it; the session cookie is cleared and `/account/deleted` confirms it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::infra::secret::Secret;
use onramp_domain::tenancy::Tenant;
use serde::Deserialize;

use crate::WebState;
use crate::cookies::Cookies;
use crate::extract::{CsrfForm, CsrfToken, PageTenant, SignedIn, Visitor};
use crate::pages::sign_in::login_error;
use crate::views::{self, message, redirect, render};

fn page(tenant: &Tenant, me: &SignedIn, csrf: String, error: Option<String>) -> views::DeleteAccount {
    views::DeleteAccount {
        platform: tenant.instance.name.clone(),
        csrf,
        email: me.account.email.clone(),
        error,
    }
}

pub async fn form(tenant: PageTenant, me: SignedIn, csrf: CsrfToken) -> Response {
    let page = page(&tenant, &me, csrf.value(), None);
    (csrf, render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    current_password: String,
}

csrf_field!(DeleteForm);

pub async fn delete(
    State(state): State<WebState>,
    tenant: PageTenant,
    visitor: Visitor,
    me: SignedIn,
    cookies: Cookies,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Response {
    let current = Secret::new(form.current_password);
    let deleted = state
        .core
        .accounts()
        .delete_own_account(&tenant, &me.account, &current, visitor.login_source())
        .await;
    let (status, error) = match deleted {
        // Already gone (deleted meanwhile): the outcome the person asked for.
        Ok(()) | Err(DomainError::NotFound(_)) => return (cookies.end_session(), redirect("/account/deleted")).into_response(),
        Err(DomainError::InvalidCredentials) => (StatusCode::BAD_REQUEST, "The password is wrong.".to_owned()),
        Err(e) => login_error(&e),
    };
    render(status, &page(&tenant, &me, form.csrf, Some(error)))
}

pub async fn deleted(tenant: PageTenant) -> Response {
    message(
        &tenant.instance.name,
        StatusCode::OK,
        "Account deleted",
        "Your account was deleted and you were signed out everywhere. Apps you had connected no longer have access, \
         and the apps you had registered were deleted with it.",
    )
}
