//! One environment of an instance: its service users (create, disable,
//! reset a password: shown once), signing keys (rotate), the account search
//! and its webhook endpoints.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::error::DomainError;
use onramp_domain::operators::sessions::Console;
use onramp_domain::tenancy::{EnvKind, Environment, PlatformId};
use onramp_domain::webhooks::Owner;
use serde::Deserialize;

use super::partners::when;
use super::session::{Admin, ConsoleCsrf, ConsoleForm, Operator};
use super::views::{Nav, domain_failure};
use crate::WebState;
use crate::extract::CsrfOnly;
use crate::views::{redirect, render};

/// The instance and environment a path names.
pub(super) async fn environment(state: &WebState, platform_id: &str, env: &str) -> Result<Environment, DomainError> {
    let platform_id = PlatformId::lookup(platform_id)?;
    let kind: EnvKind = env.parse().map_err(|_| DomainError::NotFound("environment"))?;
    state.core.tenancy().environment(&platform_id, kind).await
}

#[derive(Template)]
#[template(path = "console/environment.html")]
struct Page {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    admin: bool,
    notice: Option<String>,
    /// Username and password, shown once.
    password: Option<(String, String)>,
    platform_id: String,
    env: &'static str,
    base: String,
    /// Username, roles, status, created.
    users: Vec<(String, String, &'static str, String)>,
    /// Kid, created, retired.
    keys: Vec<(String, String, String)>,
    /// Id, URL, owner, state.
    endpoints: Vec<(String, String, String, String)>,
    /// Id, name, owner account, origins, suspended.
    apps: Vec<(String, String, String, String, bool)>,
}

async fn page(
    state: &WebState,
    console: &Console,
    csrf: String,
    env: &Environment,
    notice: Option<String>,
    password: Option<(String, String)>,
) -> Result<Response, DomainError> {
    let core = &state.core;
    let users = core.service_users().service_users(&env.platform_id, env.kind).await?;
    let keys = core.tenancy().signing_keys(&env.platform_id, env.kind).await?;
    let endpoints = core.webhooks().list(env, None, None, 200).await?.items;
    let tenant = super::accounts::tenant(state, env).await?;
    let apps = core.integration().env_apps(&tenant).await?;
    let nav = Nav::new(console, csrf, "instances");
    let page = Page {
        csrf: nav.csrf,
        email: nav.email,
        role: nav.role,
        current: nav.current,
        admin: console.operator.is_admin(),
        notice,
        password,
        platform_id: env.platform_id.to_string(),
        env: env.kind.as_str(),
        base: format!("/instances/{}/{}", env.platform_id, env.kind.as_str()),
        users: users
            .iter()
            .map(|u| {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                let status = if u.disabled_at.is_some() { "disabled" } else { "active" };
                (u.username.clone(), roles.join(", "), status, when(u.created_at))
            })
            .collect(),
        keys: keys
            .iter()
            .map(|k| {
                (
                    k.kid.clone(),
                    when(k.created_at),
                    k.retired_at.map_or_else(|| "current".into(), when),
                )
            })
            .collect(),
        endpoints: endpoints
            .iter()
            .map(|e| {
                let owner = match &e.owner {
                    Owner::Environment => "environment".to_owned(),
                    Owner::Partner(p) => format!("partner {p}"),
                };
                let state = e
                    .disabled_reason
                    .clone()
                    .map_or_else(|| "enabled".to_owned(), |r| format!("disabled ({r})"));
                (e.id.to_string(), e.url.clone(), owner, state)
            })
            .collect(),
        apps: apps
            .iter()
            .map(|a| {
                (
                    a.id.to_string(),
                    a.name.clone(),
                    a.account_id.to_string(),
                    a.origins.join(" "),
                    a.suspended_at.is_some(),
                )
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn show(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Path((pid, env)): Path<(String, String)>,
) -> Response {
    let shown = async {
        let env = environment(&state, &pid, &env).await?;
        page(&state, &console, csrf.value, &env, None, None).await
    };
    shown.await.unwrap_or_else(|e| domain_failure(&e))
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
}

csrf_field!(UserForm);

pub async fn create_user(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<UserForm>,
) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        let roles: Vec<String> = Some(form.role.trim())
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .into_iter()
            .collect();
        let (user, password) = state
            .core
            .service_users()
            .create_service_user(&console.actor(), &env.platform_id, env.kind, form.username.trim(), &roles, None)
            .await?;
        let password = password.map(|p| (user.username.clone(), p.expose().to_owned()));
        page(
            &state,
            &console,
            form.csrf.clone(),
            &env,
            Some(format!("Service user {} created.", user.username)),
            password,
        )
        .await
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}

pub async fn disable_user(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env, username)): Path<(String, String, String)>,
    ConsoleForm(_): ConsoleForm<CsrfOnly>,
) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        state
            .core
            .service_users()
            .disable_service_user(&console.actor(), &env.platform_id, env.kind, &username)
            .await?;
        Ok::<_, DomainError>(redirect(&format!("/instances/{}/{}", env.platform_id, env.kind.as_str())))
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}

pub async fn reset_password(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env, username)): Path<(String, String, String)>,
    ConsoleForm(form): ConsoleForm<CsrfOnly>,
) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        let (user, password) = state
            .core
            .service_users()
            .reset_service_user_password(&console.actor(), &env.platform_id, env.kind, &username, None)
            .await?;
        let password = password.map(|p| (user.username.clone(), p.expose().to_owned()));
        page(&state, &console, form.csrf.clone(), &env, None, password).await
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}

pub async fn rotate_key(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<CsrfOnly>,
) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        let keys = state
            .core
            .tenancy()
            .rotate_signing_key(&console.actor(), &env.platform_id, env.kind)
            .await?;
        let kids: Vec<String> = keys.iter().map(|k| format!("{} ({})", k.kid, k.alg.as_str())).collect();
        let notice = format!(
            "Signing keys rotated: new tokens are signed with {}; the old keys verify until their tokens expire.",
            kids.join(", ")
        );
        page(&state, &console, form.csrf.clone(), &env, Some(notice), None).await
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}

/// Suspends (`suspend`) or reinstates a vendor app.
async fn set_app(state: WebState, console: Console, pid: String, env: String, app: String, suspend: bool) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        let tenant = super::accounts::tenant(&state, &env).await?;
        let app_id = onramp_domain::ids::AppId::new(app);
        state
            .core
            .integration()
            .set_app_suspended(&tenant, &console.actor(), &app_id, suspend)
            .await?;
        Ok::<_, DomainError>(redirect(&format!("/instances/{}/{}", env.platform_id, env.kind.as_str())))
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}

pub async fn suspend_app(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env, app)): Path<(String, String, String)>,
    ConsoleForm(_): ConsoleForm<CsrfOnly>,
) -> Response {
    set_app(state, console, pid, env, app, true).await
}

pub async fn reinstate_app(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env, app)): Path<(String, String, String)>,
    ConsoleForm(_): ConsoleForm<CsrfOnly>,
) -> Response {
    set_app(state, console, pid, env, app, false).await
}
