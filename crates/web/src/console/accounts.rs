//! An environment's accounts: search by email or id, one account with the
//! partner that created it and its live sessions; end its sessions (admins
//! and support), delete it with confirmation (admins).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::error::DomainError;
use onramp_domain::ids::AccountId;
use onramp_domain::tenancy::{Environment, Tenant};
use serde::Deserialize;

use super::environment::environment;
use super::partners::when;
use super::session::{Admin, ConsoleCsrf, ConsoleForm, Operator};
use super::views::{Nav, domain_failure, problem_page};
use crate::WebState;
use crate::extract::CsrfOnly;
use crate::views::{redirect, render};

const PAGE: u32 = 50;

pub(super) async fn tenant(state: &WebState, env: &Environment) -> Result<Arc<Tenant>, DomainError> {
    let tenancy = state.core.tenancy();
    tenancy.resolve_host(&tenancy.host_of(&env.platform_id, env.kind)).await
}

fn base(env: &Environment) -> String {
    format!("/instances/{}/{}", env.platform_id, env.kind.as_str())
}

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct List {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    platform_id: String,
    env: &'static str,
    base: String,
    q: String,
    /// Email, id, created by, created.
    rows: Vec<(String, String, String, String)>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    cursor: Option<String>,
}

pub async fn search(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Path((pid, env)): Path<(String, String)>,
    Query(search): Query<Search>,
) -> Response {
    let found = async {
        let env = environment(&state, &pid, &env).await?;
        let tenant = tenant(&state, &env).await?;
        let q = search.q.trim();
        let (accounts, next) = match AccountId::parse("q", q) {
            Ok(id) => match state.core.accounts().account(&tenant, &id).await {
                Ok(a) => (vec![a], None),
                Err(DomainError::NotFound(_)) => (Vec::new(), None),
                Err(e) => return Err(e),
            },
            Err(_) => {
                let email = Some(q).filter(|q| !q.is_empty());
                let page = state
                    .core
                    .accounts()
                    .list(&tenant, None, email, search.cursor.as_deref(), PAGE)
                    .await?;
                (page.items, page.next_cursor)
            }
        };
        let nav = Nav::new(&console, csrf.value, "instances");
        let page = List {
            csrf: nav.csrf,
            email: nav.email,
            role: nav.role,
            current: nav.current,
            platform_id: env.platform_id.to_string(),
            env: env.kind.as_str(),
            base: base(&env),
            q: q.to_owned(),
            rows: accounts
                .iter()
                .map(|a| {
                    let by = a
                        .partner_id
                        .as_ref()
                        .map_or_else(|| "the platform".to_owned(), |p| format!("partner {p}"));
                    (a.email.clone(), a.id.to_string(), by, when(a.created_at))
                })
                .collect(),
            next,
        };
        Ok(render(StatusCode::OK, &page))
    };
    found.await.unwrap_or_else(|e| match e {
        DomainError::Validation(_) => problem_page(StatusCode::BAD_REQUEST, "Invalid search", "That page of accounts does not exist."),
        e => domain_failure(&e),
    })
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct View {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    admin: bool,
    notice: Option<String>,
    platform_id: String,
    env: &'static str,
    base: String,
    account_email: String,
    account_id: String,
    name: String,
    created_by: String,
    created: String,
    sessions: String,
}

#[derive(Deserialize)]
pub struct Shown {
    ended: Option<u64>,
}

pub async fn show(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Path((pid, env, id)): Path<(String, String, String)>,
    Query(shown): Query<Shown>,
) -> Response {
    let found = async {
        let env = environment(&state, &pid, &env).await?;
        let tenant = tenant(&state, &env).await?;
        let id = AccountId::parse("account_id", &id).map_err(|_| DomainError::NotFound("account"))?;
        let account = state.core.accounts().account(&tenant, &id).await?;
        let (live, newest) = state.core.accounts().live_sessions(&tenant, &id).await?;
        let nav = Nav::new(&console, csrf.value, "instances");
        let page = View {
            csrf: nav.csrf,
            email: nav.email,
            role: nav.role,
            current: nav.current,
            admin: console.operator.is_admin(),
            notice: shown.ended.map(|n| format!("{n} sessions ended.")),
            platform_id: env.platform_id.to_string(),
            env: env.kind.as_str(),
            base: base(&env),
            account_email: account.email.clone(),
            account_id: account.id.to_string(),
            name: format!("{} {}", account.name.first_name, account.name.last_name).trim().to_owned(),
            created_by: account
                .partner_id
                .as_ref()
                .map_or_else(|| "the platform".to_owned(), |p| format!("partner {p}")),
            created: when(account.created_at),
            sessions: match newest {
                Some(at) => format!("{live} (newest from {})", when(at)),
                None => "none".to_owned(),
            },
        };
        Ok(render(StatusCode::OK, &page))
    };
    found.await.unwrap_or_else(|e| domain_failure(&e))
}

pub async fn end_sessions(
    State(state): State<WebState>,
    Operator(console): Operator,
    Path((pid, env, id)): Path<(String, String, String)>,
    ConsoleForm(_): ConsoleForm<CsrfOnly>,
) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        let tenant = tenant(&state, &env).await?;
        let id = AccountId::parse("account_id", &id).map_err(|_| DomainError::NotFound("account"))?;
        let ended = state.core.accounts().end_sessions(&tenant, &console.actor(), &id).await?;
        Ok::<_, DomainError>(redirect(&format!("{}/accounts/{id}?ended={ended}", base(&env))))
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    confirm: Option<String>,
}

csrf_field!(DeleteForm);

pub async fn delete(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env, id)): Path<(String, String, String)>,
    ConsoleForm(form): ConsoleForm<DeleteForm>,
) -> Response {
    if form.confirm.as_deref() != Some("yes") {
        return problem_page(StatusCode::BAD_REQUEST, "Not deleted", "Tick the box to confirm the deletion.");
    }
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        let tenant = tenant(&state, &env).await?;
        let id = AccountId::parse("account_id", &id).map_err(|_| DomainError::NotFound("account"))?;
        state.core.accounts().delete_account(&tenant, &console.actor(), &id).await?;
        Ok::<_, DomainError>(redirect(&format!("{}/accounts", base(&env))))
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}
