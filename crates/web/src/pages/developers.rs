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
use onramp_domain::error::{FieldCode, FieldError};
use onramp_domain::ids::AppId;
use onramp_domain::integration::AppFields;
use onramp_domain::tenancy::signing::KeyAlg;
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
                redirect_uris: a.redirect_uris.join(", "),
                id_token_alg: a.id_token_alg.as_str(),
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

/// The fields of an app's form; an unknown algorithm is refused like any
/// other bad field.
pub(super) fn form_fields(name: &str, origins: &str, redirect_uris: &str, alg: &str) -> Result<AppFields, DomainError> {
    let id_token_alg = match alg {
        "" => KeyAlg::Es256,
        other => KeyAlg::parse(other).ok_or_else(|| {
            DomainError::Validation(vec![FieldError::new(
                "id_token_alg",
                FieldCode::InvalidItem,
                "choose ES256 or EdDSA as the ID token signing algorithm",
            )])
        })?,
    };
    Ok(AppFields {
        name: name.to_owned(),
        origins: split_origins(origins),
        redirect_uris: split_origins(redirect_uris),
        id_token_alg,
    })
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
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    id_token_alg: String,
}

csrf_field!(NewApp);

pub async fn create(State(state): State<WebState>, tenant: PageTenant, me: SignedIn, CsrfForm(form): CsrfForm<NewApp>) -> Response {
    let account = &me.account;
    let registered = match form_fields(&form.name, &form.origins, &form.redirect_uris, &form.id_token_alg) {
        Ok(fields) => {
            let integration = state.core.integration();
            integration.register_app_with(&tenant, &account.id, &actor(account), &fields).await
        }
        Err(e) => Err(e),
    };
    match registered {
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
