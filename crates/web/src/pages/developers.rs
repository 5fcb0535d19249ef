//! `/account/developers`: register apps, generate and reset their keys.

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
use crate::views::{self, AppView, redirect, render};

async fn page(
    state: &WebState,
    tenant: &Tenant,
    account: &Account,
    csrf: String,
    error: Option<String>,
    new_key: Option<(String, String)>,
) -> views::Developers {
    let apps = state.core.integration().vendor_apps(tenant, &account.id).await.unwrap_or_default();
    views::Developers {
        platform: tenant.instance.name.clone(),
        csrf,
        error,
        new_key,
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

fn actor(account: &Account) -> Actor {
    Actor::account(&account.id)
}

pub async fn list(State(state): State<WebState>, tenant: PageTenant, me: SignedIn, csrf: CsrfToken) -> Response {
    let page = page(&state, &tenant, &me.account, csrf.value(), None, None).await;
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
    let origins: Vec<String> = form
        .origins
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    match state
        .core
        .integration()
        .register_app(&tenant, &account.id, &actor(account), &form.name, &origins)
        .await
    {
        Ok(_) => redirect("/account/developers"),
        Err(DomainError::Validation(errors)) => {
            let text = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" ");
            render(
                StatusCode::BAD_REQUEST,
                &page(&state, &tenant, account, form.csrf, Some(text), None).await,
            )
        }
        Err(e) => render(
            StatusCode::SERVICE_UNAVAILABLE,
            &page(&state, &tenant, account, form.csrf, Some(e.to_string()), None).await,
        ),
    }
}

/// Generates or resets the key; the new key is shown on this response only.
pub async fn reset_key(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: SignedIn,
    Path(app_id): Path<AppId>,
    CsrfForm(form): CsrfForm<CsrfOnly>,
) -> Response {
    let account = &me.account;
    match state
        .core
        .integration()
        .reset_vendor_key(&tenant, &account.id, &actor(account), &app_id)
        .await
    {
        Ok((_, key)) => {
            let app = state
                .core
                .integration()
                .vendor_app(&tenant, &app_id)
                .await
                .map(|a| a.name)
                .unwrap_or_default();
            render(
                StatusCode::OK,
                &page(&state, &tenant, account, form.csrf, None, Some((app, key.expose().to_owned()))).await,
            )
        }
        Err(_) => render(
            StatusCode::NOT_FOUND,
            &page(&state, &tenant, account, form.csrf, Some("No such app.".into()), None).await,
        ),
    }
}
