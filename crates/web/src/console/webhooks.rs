//! One webhook endpoint of an environment: its delivery attempts, newest
//! first; resend an event (admins and support) and recover what was not
//! delivered since a time (admins). Both are audited with the operator.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::audit::AuditEvent;
use onramp_domain::error::DomainError;
use onramp_domain::ids::{EndpointId, EventId};
use onramp_domain::operators::sessions::Console;
use onramp_domain::tenancy::Environment;
use onramp_domain::webhooks::Endpoint;
use serde::Deserialize;

use super::audit::parse_time;
use super::environment::environment;
use super::partners::when;
use super::session::{Admin, ConsoleCsrf, ConsoleForm, Operator};
use super::views::{Nav, domain_failure, problem_page};
use crate::WebState;
use crate::views::{redirect, render};

struct AttemptRow {
    time: String,
    event_id: String,
    event_type: String,
    attempt: i64,
    status: String,
    latency: i64,
}

#[derive(Template)]
#[template(path = "console/endpoint.html")]
struct Page {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    admin: bool,
    notice: Option<String>,
    platform_id: String,
    env: &'static str,
    base: String,
    endpoint_id: String,
    url: String,
    state: String,
    attempts: Vec<AttemptRow>,
}

/// The endpoint, whoever owns it (the operator sees every endpoint).
async fn endpoint(state: &WebState, env: &Environment, id: &str) -> Result<Endpoint, DomainError> {
    let id = EndpointId::lookup(id)?;
    state.core.webhooks().get_any_owner(env, &id).await
}

#[derive(Deserialize)]
pub struct Shown {
    done: Option<String>,
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
        let endpoint = endpoint(&state, &env, &id).await?;
        let attempts = state
            .core
            .webhooks()
            .deliveries(&env, &endpoint.owner, &endpoint.id, None, 50)
            .await?
            .items;
        let nav = Nav::new(&console, csrf.value, "instances");
        let page = Page {
            csrf: nav.csrf,
            email: nav.email,
            role: nav.role,
            current: nav.current,
            admin: console.operator.is_admin(),
            notice: shown.done.map(|d| {
                if d == "resent" {
                    "Queued again: it is sent within seconds.".into()
                } else {
                    format!("Queued again: {d} events.")
                }
            }),
            platform_id: env.platform_id.to_string(),
            env: env.kind.as_str(),
            base: format!("/instances/{}/{}", env.platform_id, env.kind.as_str()),
            endpoint_id: endpoint.id.to_string(),
            url: endpoint.url.clone(),
            state: endpoint
                .disabled_reason
                .clone()
                .map_or_else(|| "enabled".into(), |r| format!("disabled ({r})")),
            attempts: attempts
                .iter()
                .map(|a| AttemptRow {
                    time: when(a.attempted_at),
                    event_id: a.event_id.to_string(),
                    event_type: a.event_type.clone(),
                    attempt: a.attempt,
                    status: a.status_code.map_or_else(|| a.error.clone().unwrap_or_default(), |s| s.to_string()),
                    latency: a.latency_ms,
                })
                .collect(),
        };
        Ok::<_, DomainError>(render(StatusCode::OK, &page))
    };
    found.await.unwrap_or_else(|e| domain_failure(&e))
}

fn audit(console: &Console, env: &Environment, action: &str, endpoint: &Endpoint, detail: serde_json::Value) -> AuditEvent {
    AuditEvent::new(
        &console.actor(),
        &env.platform_id,
        Some(env.kind.as_str()),
        action,
        endpoint.id.as_str(),
    )
    .with_detail(detail)
}

#[derive(Deserialize)]
pub struct ResendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    event_id: String,
}

csrf_field!(ResendForm);

pub async fn resend(
    State(state): State<WebState>,
    Operator(console): Operator,
    Path((pid, env, id)): Path<(String, String, String)>,
    ConsoleForm(form): ConsoleForm<ResendForm>,
) -> Response {
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        let endpoint = endpoint(&state, &env, &id).await?;
        let event_id = EventId::new(form.event_id.trim());
        state.core.webhooks().resend(&env, &endpoint.owner, &endpoint.id, &event_id).await?;
        let detail = serde_json::json!({ "event_id": event_id });
        state
            .core
            .audit()
            .record(&audit(&console, &env, "webhook.resent", &endpoint, detail))
            .await?;
        Ok::<_, DomainError>(redirect(&format!(
            "/instances/{}/{}/webhooks/{}?done=resent",
            env.platform_id,
            env.kind.as_str(),
            endpoint.id
        )))
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}

#[derive(Deserialize)]
pub struct RecoverForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    since: String,
}

csrf_field!(RecoverForm);

pub async fn recover(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((pid, env, id)): Path<(String, String, String)>,
    ConsoleForm(form): ConsoleForm<RecoverForm>,
) -> Response {
    let Some(since) = parse_time(form.since.trim()) else {
        return problem_page(
            StatusCode::BAD_REQUEST,
            "Not recovered",
            "Give the time to recover from (YYYY-MM-DDTHH:MM, UTC).",
        );
    };
    let done = async {
        let env = environment(&state, &pid, &env).await?;
        let endpoint = endpoint(&state, &env, &id).await?;
        let queued = state.core.webhooks().recover(&env, &endpoint.owner, &endpoint.id, since).await?;
        let detail = serde_json::json!({ "since": onramp_domain::clock::rfc3339(since), "queued": queued });
        state
            .core
            .audit()
            .record(&audit(&console, &env, "webhook.recovered", &endpoint, detail))
            .await?;
        Ok::<_, DomainError>(redirect(&format!(
            "/instances/{}/{}/webhooks/{}?done={queued}",
            env.platform_id,
            env.kind.as_str(),
            endpoint.id
        )))
    };
    done.await.unwrap_or_else(|e| domain_failure(&e))
}
