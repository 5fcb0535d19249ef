//! The profile page: the person's name and password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::accounts::Account;
use onramp_domain::accounts::service::AccountChanges;
use onramp_domain::audit::Actor;
use onramp_domain::infra::secret::Secret;
use onramp_domain::tenancy::Tenant;
use serde::Deserialize;

use crate::WebState;
use crate::cookies::Cookies;
use crate::extract::{CsrfForm, CsrfToken, PageTenant, SignedIn, Visitor};
use crate::pages::sign_in::login_error;
use crate::views::{self, redirect, render};

fn profile_page(tenant: &Tenant, account: &Account, csrf: String, notice: Option<String>, error: Option<String>) -> views::Account {
    views::Account {
        platform: tenant.instance.name.clone(),
        csrf,
        notice,
        error,
        email: account.email.clone(),
        first_name: account.name.first_name.clone(),
        last_name: account.name.last_name.clone(),
    }
}

pub async fn profile(tenant: PageTenant, me: SignedIn, csrf: CsrfToken) -> Response {
    let page = profile_page(&tenant, &me.account, csrf.value(), None, None);
    (csrf, render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    csrf: String,
    first_name: String,
    last_name: String,
}

pub async fn update_profile(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: SignedIn,
    CsrfForm(form): CsrfForm<NameForm>,
) -> Response {
    let changes = AccountChanges {
        first_name: Some(form.first_name),
        last_name: Some(form.last_name),
        ..AccountChanges::default()
    };
    let actor = Actor::account(&me.account.id);
    match state.core.accounts().update_account(&tenant, &actor, &me.account.id, changes).await {
        Ok(updated) => render(
            StatusCode::OK,
            &profile_page(&tenant, &updated, form.csrf, Some("Your name was saved.".into()), None),
        ),
        Err(e) => render(
            StatusCode::BAD_REQUEST,
            &profile_page(&tenant, &me.account, form.csrf, None, Some(e.to_string())),
        ),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current_password: String,
    new_password: String,
}

csrf_field!(NameForm, PasswordForm);

/// The change ends every session, this one too: the answer carries a fresh one.
pub async fn change_password(
    State(state): State<WebState>,
    tenant: PageTenant,
    visitor: Visitor,
    me: SignedIn,
    cookies: Cookies,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let current = Secret::new(form.current_password);
    let new = Secret::new(form.new_password);
    let changed = state
        .core
        .accounts()
        .change_password(&tenant, &me.account, &current, &new, visitor.login_source())
        .await;
    let status = match &changed {
        Err(DomainError::LoginThrottled { .. }) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let error = match changed {
        Ok(Some(session)) => {
            let notice = "Your password was changed; other sessions were signed out.";
            // The page's forms belong to the fresh session now.
            let csrf = CsrfToken::for_session(&state, session.client_token.expose());
            let page = profile_page(&tenant, &me.account, csrf, Some(notice.into()), None);
            return (cookies.open_session(&session), render(StatusCode::OK, &page)).into_response();
        }
        Ok(None) => return redirect("/account/login"),
        Err(DomainError::InvalidCredentials) => "The current password is wrong.".to_owned(),
        Err(e @ DomainError::LoginThrottled { .. }) => login_error(&e).1,
        Err(e) => e.to_string(),
    };
    render(status, &profile_page(&tenant, &me.account, form.csrf, None, Some(error)))
}
