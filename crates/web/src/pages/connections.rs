//! `/account/connections`: the apps a person granted access, and revoking them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onramp_domain::accounts::Account;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::AppId;
use onramp_domain::tenancy::Tenant;

use super::CsrfOnly;
use crate::WebState;
use crate::extract::{CsrfForm, CsrfToken, PageTenant, SignedIn};
use crate::views::{self, ConnectionView, render};

async fn page(state: &WebState, tenant: &Tenant, account: &Account, csrf: String, notice: Option<String>) -> views::Connections {
    let items = state.core.integration().connections(tenant, &account.id).await.unwrap_or_default();
    views::Connections {
        platform: tenant.instance.name.clone(),
        csrf,
        notice,
        items: items
            .into_iter()
            .map(|(g, app)| ConnectionView {
                app_id: app.id.into(),
                app_name: app.name,
                scopes: g.scopes.join(", ").replace('_', " "),
                granted_at: rfc3339(g.granted_at),
            })
            .collect(),
    }
}

pub async fn list(State(state): State<WebState>, tenant: PageTenant, me: SignedIn, csrf: CsrfToken) -> Response {
    let page = page(&state, &tenant, &me.account, csrf.value(), None).await;
    (csrf, render(StatusCode::OK, &page)).into_response()
}

pub async fn revoke(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: SignedIn,
    Path(app_id): Path<AppId>,
    CsrfForm(form): CsrfForm<CsrfOnly>,
) -> Response {
    let account = &me.account;
    let actor = Actor::account(&account.id);
    let notice = match state
        .core
        .integration()
        .revoke_connection(&tenant, &account.id, &actor, &app_id)
        .await
    {
        Ok(()) => "Access revoked.",
        Err(_) => "That app had no access.",
    };
    render(
        StatusCode::OK,
        &page(&state, &tenant, account, form.csrf, Some(notice.into())).await,
    )
}
