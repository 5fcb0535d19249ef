//! `/account/developers`: register apps, generate and reset their keys.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use onramp_domain::DomainError;
use onramp_domain::accounts::Account;
use onramp_domain::audit::Actor;
use onramp_domain::tenancy::{EnvKind, Tenant};
use serde::Deserialize;

use super::{WebForm, redirect, signed_in_form, signed_in_page};
use crate::WebState;
use crate::session::csrf;
use crate::views::{self, AppView, render};

async fn page(
    state: &WebState,
    tenant: &Tenant,
    account: &Account,
    csrf: String,
    error: Option<String>,
    new_key: Option<(String, String)>,
) -> views::Developers {
    let apps = state.core.vendor_apps(tenant, &account.id).await.unwrap_or_default();
    views::Developers {
        platform: tenant.instance.name.clone(),
        csrf,
        error,
        new_key,
        apps: apps
            .into_iter()
            .map(|a| AppView {
                id: a.id,
                name: a.name,
                origins: a.origins.join(", "),
                key_id: a.key_id,
            })
            .collect(),
        staging: tenant.env.kind == EnvKind::Staging,
    }
}

fn actor(account: &Account) -> Actor {
    Actor {
        id: format!("account:{}", account.id),
        request_id: None,
    }
}

pub async fn list(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (tenant, account) = match signed_in_page(&state, &headers, "/account/developers").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (csrf, set) = csrf(&headers);
    render(
        StatusCode::OK,
        &page(&state, &tenant, &account, csrf, None, None).await,
        set.into_iter().collect(),
    )
}

#[derive(Deserialize)]
pub struct NewApp {
    #[serde(default)]
    csrf: String,
    name: String,
    origins: String,
}

pub async fn create(State(state): State<WebState>, headers: HeaderMap, WebForm(form): WebForm<NewApp>) -> Response {
    let (tenant, account) = match signed_in_form(&state, &headers, &form.csrf, "/account/developers").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let origins: Vec<String> = form
        .origins
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    match state
        .core
        .register_app(&tenant, &account.id, &actor(&account), &form.name, &origins)
        .await
    {
        Ok(_) => redirect("/account/developers", Vec::new()),
        Err(DomainError::Validation(errors)) => {
            let text = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" ");
            render(
                StatusCode::BAD_REQUEST,
                &page(&state, &tenant, &account, form.csrf, Some(text), None).await,
                Vec::new(),
            )
        }
        Err(e) => render(
            StatusCode::SERVICE_UNAVAILABLE,
            &page(&state, &tenant, &account, form.csrf, Some(e.to_string()), None).await,
            Vec::new(),
        ),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Generates or resets the key; the new key is shown on this response only.
pub async fn reset_key(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(app_id): Path<String>,
    WebForm(form): WebForm<CsrfOnly>,
) -> Response {
    let (tenant, account) = match signed_in_form(&state, &headers, &form.csrf, "/account/developers").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    match state.core.reset_vendor_key(&tenant, &account.id, &actor(&account), &app_id).await {
        Ok((_, key)) => {
            let app = state.core.vendor_app(&tenant, &app_id).await.map(|a| a.name).unwrap_or_default();
            render(
                StatusCode::OK,
                &page(&state, &tenant, &account, form.csrf, None, Some((app, key.expose().to_owned()))).await,
                Vec::new(),
            )
        }
        Err(_) => render(
            StatusCode::NOT_FOUND,
            &page(&state, &tenant, &account, form.csrf, Some("No such app.".into()), None).await,
            Vec::new(),
        ),
    }
}
