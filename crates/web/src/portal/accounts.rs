//! Accounts: those the partner created, newest id last, searchable by
//! email. Only the member's partner's accounts are listed: the filter is
//! the partner's, not the request's.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::error::DomainError;
use serde::Deserialize;

use super::session::{Approved, PortalCsrf, PortalTenant};
use super::views::{Frame, Nav, failure, refusal, when};
use crate::WebState;
use crate::views::render;

const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct AccountsQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    cursor: String,
}

#[derive(Template)]
#[template(path = "portal/accounts.html")]
struct Accounts {
    frame: Frame,
    nav: Nav,
    email: String,
    error: Option<String>,
    /// Email, name, id, created, sign-in link.
    rows: Vec<(String, String, String, String, String)>,
    next: Option<String>,
}

pub async fn list(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(member): Approved,
    csrf: PortalCsrf,
    Query(q): Query<AccountsQuery>,
) -> Response {
    let email = q.email.trim();
    let cursor = Some(q.cursor.trim()).filter(|c| !c.is_empty());
    let found = state
        .core
        .provisioning()
        .partner_accounts(&tenant, &member.partner, Some(email).filter(|e| !e.is_empty()), cursor, PAGE_SIZE)
        .await;
    let (page, error) = match found {
        Ok(page) => (Some(page), None),
        Err(e @ DomainError::Validation(_)) => (None, refusal(&e)),
        Err(e) => return failure(&tenant, &e),
    };
    let next = page.as_ref().and_then(|p| p.next_cursor.clone());
    let items = page.map(|p| p.items).unwrap_or_default();
    let links = match state.core.portal().link_states(&member, &items).await {
        Ok(links) => links,
        Err(e) => return failure(&tenant, &e),
    };
    let now = state.core.config().clock.now_ms();
    let rows = items
        .into_iter()
        .map(|a| {
            let name = format!("{} {}", a.name.first_name, a.name.last_name).trim().to_owned();
            let link = links.iter().find(|l| l.account_id == a.id).map_or_else(
                || "none recent".to_owned(),
                |l| match l.used_at {
                    Some(at) => format!("used {}", when(at)),
                    None if l.expires_at <= now => format!("expired unused {}", when(l.expires_at)),
                    None => format!("unused, expires {}", when(l.expires_at)),
                },
            );
            (a.email, name, a.id.to_string(), when(a.created_at), link)
        })
        .collect();
    let page = Accounts {
        frame: Frame::of(&tenant),
        nav: Nav::new(&member, csrf.value, "accounts"),
        email: email.to_owned(),
        error,
        rows,
        next,
    };
    render(StatusCode::OK, &page)
}
