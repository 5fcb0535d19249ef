//! `/account/connections`: the apps a person granted access, and revoking them.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use onramp_domain::accounts::Account;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::tenancy::Tenant;
use serde::Deserialize;

use super::{WebForm, signed_in_form, signed_in_page};
use crate::WebState;
use crate::session::csrf;
use crate::views::{self, ConnectionView, render};

async fn page(state: &WebState, tenant: &Tenant, account: &Account, csrf: String, notice: Option<String>) -> views::Connections {
    let items = state.core.connections(tenant, &account.id).await.unwrap_or_default();
    views::Connections {
        platform: tenant.instance.name.clone(),
        csrf,
        notice,
        items: items
            .into_iter()
            .map(|(g, app)| ConnectionView {
                app_id: app.id,
                app_name: app.name,
                scopes: g.scopes.join(", ").replace('_', " "),
                granted_at: rfc3339(g.granted_at),
            })
            .collect(),
    }
}

pub async fn list(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (tenant, account) = match signed_in_page(&state, &headers, "/account/connections").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (csrf, set) = csrf(&headers);
    render(
        StatusCode::OK,
        &page(&state, &tenant, &account, csrf, None).await,
        set.into_iter().collect(),
    )
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn revoke(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(app_id): Path<String>,
    WebForm(form): WebForm<CsrfOnly>,
) -> Response {
    let (tenant, account) = match signed_in_form(&state, &headers, &form.csrf, "/account/connections").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let actor = Actor {
        id: format!("account:{}", account.id),
        request_id: None,
    };
    let notice = match state.core.revoke_connection(&tenant, &account.id, &actor, &app_id).await {
        Ok(()) => "Access revoked.",
        Err(_) => "That app had no access.",
    };
    render(
        StatusCode::OK,
        &page(&state, &tenant, &account, form.csrf, Some(notice.into())).await,
        Vec::new(),
    )
}
