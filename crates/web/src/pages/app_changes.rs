//! Editing and deleting a developer's app, each on a page of its own (the
//! deletion asks for confirmation), each answering `303` to the developers
//! page with a notice.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::ids::AppId;
use onramp_domain::integration::VendorApp;
use onramp_domain::tenancy::{EnvKind, Tenant};
use serde::Deserialize;

use super::CsrfOnly;
use super::developers::{PAGE, actor, change_error, form_fields, no_such_app};
use crate::WebState;
use crate::extract::{CsrfForm, CsrfToken, PageTenant, SignedIn};
use crate::flash::{self, Flash};
use crate::views::{self, render};

fn edit_page(tenant: &Tenant, app_id: &AppId, csrf: String, form: AppFields, error: Option<String>) -> views::AppEdit {
    views::AppEdit {
        platform: tenant.instance.name.clone(),
        csrf,
        app_id: app_id.to_string(),
        name: form.name,
        origins: form.origins,
        redirect_uris: form.redirect_uris,
        eddsa: form.id_token_alg == "EdDSA",
        error,
        staging: tenant.env.kind == EnvKind::Staging,
    }
}

/// Leaves the notice for the developers page and goes there.
async fn done(state: &WebState, tenant: &Tenant, me: &SignedIn, notice: String) -> Response {
    if let Err(e) = flash::leave(state, tenant, me, &Flash::notice(notice)).await {
        tracing::warn!(error = %e, "notice not stored");
    }
    crate::views::redirect(PAGE)
}

async fn owned(state: &WebState, tenant: &Tenant, me: &SignedIn, app_id: &AppId) -> Result<VendorApp, Response> {
    let found = state.core.integration().owned_app(tenant, &me.account.id, app_id).await;
    found.map_err(|_| no_such_app(tenant))
}

pub async fn edit_form(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: SignedIn,
    csrf: CsrfToken,
    Path(app_id): Path<AppId>,
) -> Response {
    let app = match owned(&state, &tenant, &me, &app_id).await {
        Ok(app) => app,
        Err(page) => return page,
    };
    let form = AppFields {
        csrf: String::new(),
        name: app.name,
        origins: app.origins.join("\n"),
        redirect_uris: app.redirect_uris.join("\n"),
        id_token_alg: app.id_token_alg.as_str().to_owned(),
    };
    let page = edit_page(&tenant, &app.id, csrf.value(), form, None);
    (csrf, render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
pub struct AppFields {
    #[serde(default)]
    csrf: String,
    name: String,
    origins: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    id_token_alg: String,
}

csrf_field!(AppFields);

pub async fn edit(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: SignedIn,
    Path(app_id): Path<AppId>,
    CsrfForm(mut form): CsrfForm<AppFields>,
) -> Response {
    let account = &me.account;
    let updated = match form_fields(&form.name, &form.origins, &form.redirect_uris, &form.id_token_alg) {
        Ok(fields) => {
            let integration = state.core.integration();
            integration
                .update_app(&tenant, &account.id, &actor(account), &app_id, &fields)
                .await
        }
        Err(e) => Err(e),
    };
    match updated {
        Ok(app) => done(&state, &tenant, &me, format!("Saved “{}”.", app.name)).await,
        Err(DomainError::NotFound(_)) => no_such_app(&tenant),
        Err(e) => {
            let (status, text) = change_error(&e);
            let csrf = std::mem::take(&mut form.csrf);
            render(status, &edit_page(&tenant, &app_id, csrf, form, Some(text)))
        }
    }
}

pub async fn delete_form(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: SignedIn,
    csrf: CsrfToken,
    Path(app_id): Path<AppId>,
) -> Response {
    let app = match owned(&state, &tenant, &me, &app_id).await {
        Ok(app) => app,
        Err(page) => return page,
    };
    let page = views::AppDelete {
        platform: tenant.instance.name.clone(),
        csrf: csrf.value(),
        app_id: app.id.to_string(),
        name: app.name,
    };
    (csrf, render(StatusCode::OK, &page)).into_response()
}

pub async fn delete(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: SignedIn,
    Path(app_id): Path<AppId>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Response {
    let account = &me.account;
    match state
        .core
        .integration()
        .delete_app(&tenant, &account.id, &actor(account), &app_id)
        .await
    {
        Ok(app) => {
            let notice = format!("Deleted “{}”: its key stopped working and every connection to it ended.", app.name);
            done(&state, &tenant, &me, notice).await
        }
        Err(DomainError::NotFound(_)) => no_such_app(&tenant),
        Err(e) => {
            let (status, text) = change_error(&e);
            crate::views::message(&tenant.instance.name, status, "Try again", &text)
        }
    }
}
