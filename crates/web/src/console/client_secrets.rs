//! One service user's OAuth client secrets in the console: its `client_id`,
//! the secrets (never their values) with their state, a new one (shown
//! once, optionally expiring) and revocation — what
//! `onramp service-user secret add|list|revoke` does.

use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::error::DomainError;
use onramp_domain::ids::ClientSecretId;
use onramp_domain::oauth::client_id_of;
use onramp_domain::operators::sessions::Console;
use onramp_domain::tenancy::Environment;
use serde::Deserialize;

use super::environment::environment;
use super::partners::when;
use super::session::{Admin, ConsoleCsrf, ConsoleForm, Operator};
use super::views::{Nav, domain_failure};
use crate::WebState;
use crate::extract::CsrfOnly;
use crate::views::{redirect, render};

/// The lifetimes offered for a new secret: label, form value, duration.
const LIFETIMES: [(&str, &str, Option<u64>); 4] = [
    ("Never expires", "never", None),
    ("30 days", "30d", Some(30)),
    ("90 days", "90d", Some(90)),
    ("1 year", "365d", Some(365)),
];

#[derive(Template)]
#[template(path = "console/client_secrets.html")]
struct Page {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    admin: bool,
    platform_id: String,
    env: &'static str,
    username: String,
    client_id: String,
    base: String,
    /// A new secret, shown once.
    issued: Option<String>,
    /// Id, created, expires, state.
    secrets: Vec<(String, String, String, &'static str)>,
    lifetimes: [(&'static str, &'static str, Option<u64>); 4],
}

async fn page(
    state: &WebState,
    console: &Console,
    csrf: String,
    env: &Environment,
    username: &str,
    issued: Option<String>,
) -> Result<Response, DomainError> {
    let (user, secrets) = state.core.oauth().secrets(&env.platform_id, env.kind, username).await?;
    let now = state.core.config().clock.now_ms();
    let nav = Nav::new(console, csrf, "instances");
    let page = Page {
        csrf: nav.csrf,
        email: nav.email,
        role: nav.role,
        current: nav.current,
        admin: console.operator.is_admin(),
        platform_id: env.platform_id.to_string(),
        env: env.kind.as_str(),
        username: username.to_owned(),
        client_id: client_id_of(&user.id),
        base: format!("/instances/{}/{}/service-users/{username}", env.platform_id, env.kind.as_str()),
        issued,
        secrets: secrets
            .iter()
            .map(|s| {
                let expires = s.expires_at.map_or_else(|| "never".to_owned(), when);
                (s.id.to_string(), when(s.created_at), expires, s.status(now).as_str())
            })
            .collect(),
        lifetimes: LIFETIMES,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn show(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Path((pid, env, username)): Path<(String, String, String)>,
) -> Response {
    let shown = async {
        let env = environment(&state, &pid, &env).await?;
        page(&state, &console, csrf.value, &env, &username, None).await
    };
    shown.await.unwrap_or_else(|e| domain_failure(&e))
}

#[derive(Deserialize)]
pub struct SecretForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    expires: String,
}

csrf_field!(SecretForm);

pub async fn add(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env, username)): Path<(String, String, String)>,
    ConsoleForm(form): ConsoleForm<SecretForm>,
) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        // An unknown choice is the safer one: a secret that expires.
        let days = LIFETIMES
            .iter()
            .find(|(_, value, _)| *value == form.expires)
            .map_or(Some(30), |(_, _, days)| *days);
        let expires_in = days.map(|d| Duration::from_secs(d * 86_400));
        let issued = state
            .core
            .oauth()
            .add_secret(&console.actor(), &env.platform_id, env.kind, &username, expires_in)
            .await?;
        let secret = issued.client_secret.expose().to_owned();
        page(&state, &console, form.csrf.clone(), &env, &username, Some(secret)).await
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}

pub async fn revoke(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env, username, id)): Path<(String, String, String, String)>,
    ConsoleForm(_): ConsoleForm<CsrfOnly>,
) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        // Only a secret of this user, so a URL cannot reach another's.
        let (_, owned) = state.core.oauth().secrets(&env.platform_id, env.kind, &username).await?;
        let id = ClientSecretId::new(id);
        if !owned.iter().any(|s| s.id == id) {
            return Err(DomainError::NotFound("client secret"));
        }
        match state.core.oauth().revoke_secret(&console.actor(), &id).await {
            Ok(_) | Err(DomainError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        Ok(redirect(&format!(
            "/instances/{}/{}/service-users/{username}",
            env.platform_id,
            env.kind.as_str()
        )))
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}
