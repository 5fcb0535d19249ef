//! Keys: the partner's API keys with their scopes, expiry and last use;
//! create one (shown once), rotate with a grace period, revoke.
//!
//! A new key is shown on the answer to the POST that made it, never
//! stored: a reload of that answer asks the browser to send the form
//! again, and a reload of the page shows no key.

use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::ids::KeyId;
use onramp_domain::partners::service::IssuedKey;
use onramp_domain::partners::{ApiKey, Scope};
use onramp_domain::portal::Member;
use serde::Deserialize;

use super::session::{Approved, PortalCsrf, PortalForm, PortalTenant};
use super::views::{Frame, Nav, failure, refusal, when, when_or};
use crate::WebState;
use crate::extract::ScopeBoxes;
use crate::views::{redirect, render};

/// A key shown once.
pub struct NewKey {
    /// "New key" or "The successor of key_…".
    pub what: String,
    pub key_id: String,
    pub secret: String,
}

pub struct KeyRow {
    pub key_id: String,
    pub scopes: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub status: String,
    pub live: bool,
    pub rotatable: bool,
}

#[derive(Template)]
#[template(path = "portal/keys.html")]
struct Keys {
    frame: Frame,
    nav: Nav,
    error: Option<String>,
    new_key: Option<NewKey>,
    keys: Vec<KeyRow>,
    /// Scope name and what it allows: those the operator allows the
    /// partner, the only ones a key may have.
    scopes: Vec<(&'static str, &'static str)>,
    /// Offer an authenticator to someone without one.
    offer_authenticator: bool,
}

fn scope_help(scope: Scope) -> &'static str {
    match scope {
        Scope::AccountsWrite => "create, change and delete accounts, make sign-in links",
        Scope::AccountsRead => "read the accounts you created",
        Scope::UsageRead => "read your usage",
        Scope::WebhooksManage => "manage your webhook endpoints, event feed and alert settings",
    }
}

fn row(key: &ApiKey, now: i64) -> KeyRow {
    let status = if let Some(at) = key.revoked_at {
        format!("revoked {}", when(at))
    } else if let Some(at) = key.retires_at.filter(|r| *r > now) {
        format!("rotated: works until {}", when(at))
    } else if key.is_live(now) {
        "active".to_owned()
    } else {
        "expired".to_owned()
    };
    KeyRow {
        key_id: key.key_id.to_string(),
        scopes: key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        created: when(key.created_at),
        expires: when_or(key.expires_at, "never"),
        last_used: when_or(key.last_used_at, "never"),
        status,
        live: key.is_live(now),
        rotatable: key.is_live(now) && key.retires_at.is_none() && key.rotated_to.is_none(),
    }
}

async fn page(
    state: &WebState,
    tenant: &PortalTenant,
    member: &Member,
    csrf: String,
    error: Option<String>,
    new_key: Option<NewKey>,
) -> Response {
    let keys = match state.core.portal().keys(member).await {
        Ok(keys) => keys,
        Err(e) => return failure(tenant, &e),
    };
    let now = state.core.config().clock.now_ms();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = Keys {
        frame: Frame::of(tenant),
        nav: Nav::new(member, csrf, "keys"),
        error,
        new_key,
        keys: keys.iter().rev().map(|k| row(k, now)).collect(),
        scopes: member.partner.allowed_scopes.iter().map(|s| (s.as_str(), scope_help(*s))).collect(),
        offer_authenticator: !member.user.has_authenticator(),
    };
    render(status, &page)
}

pub async fn list(State(state): State<WebState>, tenant: PortalTenant, Approved(member): Approved, csrf: PortalCsrf) -> Response {
    page(&state, &tenant, &member, csrf.value, None, None).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    scopes: ScopeBoxes,
    /// Days; empty for a key without expiry.
    #[serde(default)]
    expires_in: String,
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    csrf: String,
    /// Seconds.
    #[serde(default)]
    grace: String,
}

csrf_field!(CreateForm, RotateForm);

impl CreateForm {
    fn scopes(&self) -> Vec<Scope> {
        self.scopes.ticked()
    }
}

fn shown(what: String, issued: IssuedKey) -> Option<NewKey> {
    Some(NewKey {
        what,
        key_id: issued.key.key_id.to_string(),
        secret: issued.secret.expose().to_owned(),
    })
}

pub async fn create(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(member): Approved,
    PortalForm(form): PortalForm<CreateForm>,
) -> Response {
    let expires_in = match form.expires_in.trim() {
        "" => None,
        days => match days.parse::<u64>() {
            Ok(d) => Some(Duration::from_secs(d.saturating_mul(24 * 3600))),
            Err(_) => {
                return page(
                    &state,
                    &tenant,
                    &member,
                    form.csrf,
                    Some("Choose when the key expires.".into()),
                    None,
                )
                .await;
            }
        },
    };
    match state.core.portal().create_key(&member, &form.scopes(), expires_in).await {
        Ok(issued) => {
            let new = shown("Your new key".into(), issued);
            page(&state, &tenant, &member, form.csrf, None, new).await
        }
        Err(e) => match refusal(&e) {
            Some(why) => page(&state, &tenant, &member, form.csrf, Some(why), None).await,
            None => failure(&tenant, &e),
        },
    }
}

pub async fn rotate(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(member): Approved,
    Path(key_id): Path<String>,
    PortalForm(form): PortalForm<RotateForm>,
) -> Response {
    let Ok(grace) = form.grace.trim().parse::<u64>().map(Duration::from_secs) else {
        return page(&state, &tenant, &member, form.csrf, Some("Choose a grace period.".into()), None).await;
    };
    let key_id = KeyId::new(key_id);
    match state.core.portal().rotate_key(&member, &key_id, grace).await {
        Ok(issued) => {
            let new = shown(format!("The key that replaces {key_id}:"), issued);
            page(&state, &tenant, &member, form.csrf, None, new).await
        }
        Err(e) => match refusal(&e) {
            Some(why) => page(&state, &tenant, &member, form.csrf, Some(why), None).await,
            None => failure(&tenant, &e),
        },
    }
}

pub async fn revoke(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(member): Approved,
    Path(key_id): Path<String>,
    PortalForm(_): PortalForm<crate::pages::CsrfOnly>,
) -> Response {
    match state.core.portal().revoke_key(&member, &KeyId::new(key_id)).await {
        Ok(_) => redirect("/partners/keys"),
        Err(e) => failure(&tenant, &e),
    }
}
