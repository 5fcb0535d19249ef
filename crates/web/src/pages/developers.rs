//! `/account/developers`: register apps, generate and reset their keys.
//! A POST answers `303 See Other` to the page; a new key travels to it as a
//! flash note of the session and is shown once. Editing and deleting apps
//! is in `app_changes`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::accounts::Account;
use onramp_domain::audit::Actor;
use onramp_domain::ids::AppId;
use onramp_domain::tenancy::{EnvKind, Tenant};
use serde::Deserialize;

use super::CsrfOnly;
use crate::WebState;
use crate::extract::{CsrfForm, CsrfToken, PageTenant, SignedIn};
use crate::flash::{self, Flash};
use crate::views::{self, AppView, message, redirect, render};

pub(super) const PAGE: &str = "/account/developers";

async fn page(
    state: &WebState,
    tenant: &Tenant,
    account: &Account,
    csrf: String,
    error: Option<String>,
    flash: Flash,
) -> views::Developers {
    let apps = state.core.integration().vendor_apps(tenant, &account.id).await.unwrap_or_default();
    views::Developers {
        platform: tenant.instance.name.clone(),
        csrf,
        error,
        notice: flash.notice,
        new_key: flash.new_key,
        apps: apps
            .into_iter()
            .map(|a| AppView {
                id: a.id.into(),
                name: a.name,
                origins: a.origins.join(", "),
                key_id: a.key_id.map(Into::into),
            })
            .collect(),
        staging: tenant.env.kind == EnvKind::Staging,
    }
}

pub(super) fn actor(account: &Account) -> Actor {
    Actor::account(&account.id)
}

/// The origins of a form's textarea: one per line (commas and spaces also separate).
pub(super) fn split_origins(raw: &str) -> Vec<String> {
    raw.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What the person is told when an app change fails.
pub(super) fn change_error(e: &DomainError) -> (StatusCode, String) {
    match e {
        DomainError::Validation(errors) => (
            StatusCode::BAD_REQUEST,
            errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" "),
        ),
        other => (StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
    }
}

/// The `404` page for an app that is not the person's (or not at all).
pub(super) fn no_such_app(tenant: &Tenant) -> Response {
    message(
        &tenant.instance.name,
        StatusCode::NOT_FOUND,
        "No such app",
        "You have no app with this id here.",
    )
}

pub async fn list(State(state): State<WebState>, tenant: PageTenant, me: SignedIn, csrf: CsrfToken) -> Response {
    let note = flash::take(&state, &tenant, &me).await;
    let page = page(&state, &tenant, &me.account, csrf.value(), None, note).await;
    (csrf, render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
pub struct NewApp {
    #[serde(default)]
    csrf: String,
    name: String,
    origins: String,
}

csrf_field!(NewApp);

pub async fn create(State(state): State<WebState>, tenant: PageTenant, me: SignedIn, CsrfForm(form): CsrfForm<NewApp>) -> Response {
    let account = &me.account;
    let origins = split_origins(&form.origins);
    match state
        .core
        .integration()
        .register_app(&tenant, &account.id, &actor(account), &form.name, &origins)
        .await
    {
        Ok(_) => redirect(PAGE),
        Err(e) => {
            let (status, text) = change_error(&e);
            let page = page(&state, &tenant, account, form.csrf, Some(text), Flash::default()).await;
            render(status, &page)
        }
    }
}

/// Generates or resets the key, then `303` to the page, which shows the key
/// once. Should the note not be stored, the key is shown on this answer
/// instead (it is never lost: the reset already happened).
pub async fn reset_key(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: SignedIn,
    Path(app_id): Path<AppId>,
    CsrfForm(form): CsrfForm<CsrfOnly>,
) -> Response {
    let account = &me.account;
    let integration = state.core.integration();
    let Ok(app) = integration.owned_app(&tenant, &account.id, &app_id).await else {
        return no_such_app(&tenant);
    };
    let key = match integration.reset_vendor_key(&tenant, &account.id, &actor(account), &app.id).await {
        Ok((_, key)) => key,
        Err(DomainError::NotFound(_)) => return no_such_app(&tenant),
        Err(e) => return message(&tenant.instance.name, StatusCode::SERVICE_UNAVAILABLE, "Try again", &e.to_string()),
    };
    let note = Flash::key(app.name, key.expose().to_owned());
    match flash::leave(&state, &tenant, &me, &note).await {
        Ok(()) => redirect(PAGE),
        Err(e) => {
            tracing::warn!(error = %e, "key shown without post/redirect/get: its note was not stored");
            render(StatusCode::OK, &page(&state, &tenant, account, form.csrf, None, note).await)
        }
    }
}
