//! `onramp webhook …`: webhook endpoints, as the operator. `add` makes an
//! endpoint of the environment's own (it may receive every event); the
//! other commands reach any endpoint by its id, partners' included.

use clap::Subcommand;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::{EndpointId, EventId};
use onramp_domain::tenancy::{EnvKind, Environment, PlatformId};
use onramp_domain::webhooks::delivery::Attempt;
use onramp_domain::webhooks::service::{EndpointChanges, NewEndpoint};
use onramp_domain::webhooks::{Endpoint, Owner};
use serde_json::{Value, json};

use super::context::{CliResult, Ctx};
use super::output::{emit, table};

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint of the environment's own; its signing secret is printed once
    Add {
        /// The instance
        platform_id: String,
        /// staging or production
        environment: EnvKind,
        /// Where events are sent: https:// (http:// is allowed in staging), to a public internet address unless --webhook-allow-private-targets
        url: String,
        /// An event type to receive, e.g. account.created (repeatable) [default: every type]
        #[arg(long = "event", value_name = "TYPE")]
        events: Vec<String>,
        /// What the endpoint is for (up to 500 characters)
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// List every endpoint of an environment, its own and its partners', with their owner
    List {
        /// The instance
        platform_id: String,
        /// staging or production
        environment: EnvKind,
    },
    /// Change an endpoint (of any owner)
    Update {
        /// The endpoint's id (ep_…)
        endpoint_id: String,
        /// A new URL, checked like a new endpoint's
        #[arg(long)]
        url: Option<String>,
        /// Receive only these event types (repeatable; replaces the list)
        #[arg(long = "event", value_name = "TYPE", conflicts_with = "all_events")]
        events: Vec<String>,
        /// Receive every event type its owner may see again
        #[arg(long)]
        all_events: bool,
        /// A new description
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// Turn sending to the endpoint on
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Turn sending to the endpoint off
        #[arg(long)]
        disable: bool,
    },
    /// Give an endpoint a new signing secret, printed once; the previous one keeps signing beside it for 24 hours
    RotateSecret {
        /// The endpoint's id (ep_…)
        endpoint_id: String,
    },
    /// Delete an endpoint: nothing more is sent to it
    Remove {
        /// The endpoint's id (ep_…)
        endpoint_id: String,
    },
    /// An endpoint's delivery attempts, newest first: what its receiver answered to each event
    Deliveries {
        /// The endpoint's id (ep_…)
        endpoint_id: String,
        /// How many attempts to show, 1 to 200
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=200))]
        limit: u32,
    },
    /// Send one event to an endpoint again, now (whether it failed, waits for a retry or was delivered)
    Resend {
        /// The endpoint's id (ep_…)
        endpoint_id: String,
        /// The event's id (evt_…)
        event_id: String,
    },
    /// Send again, now, every event since a time that an endpoint has not received
    Recover {
        /// The endpoint's id (ep_…)
        endpoint_id: String,
        /// RFC 3339 time, e.g. 2026-11-29T00:00:00Z: events committed at or after it
        #[arg(long, value_name = "TIME")]
        since: String,
    },
}

fn describe(env: &Environment, e: &Endpoint) -> Value {
    let types: Vec<&str> = e.event_types.iter().map(|t| t.as_str()).collect();
    json!({
        "id": e.id, "platform_id": env.platform_id, "environment": env.kind,
        "owner": match e.owner { Owner::Environment => "environment", Owner::Partner(_) => "partner" },
        "partner_id": e.owner.partner_id(), "url": e.url, "description": e.description, "event_types": types,
        "enabled": e.enabled(), "disabled_reason": e.disabled_reason,
        "created_at": rfc3339(e.created_at), "updated_at": rfc3339(e.updated_at),
    })
}

fn owner_cell(e: &Endpoint) -> String {
    match &e.owner {
        Owner::Environment => "environment".into(),
        Owner::Partner(id) => format!("partner {id}"),
    }
}

fn human(doc: &Value) -> String {
    let s = |k: &str| doc[k].as_str().unwrap_or_default().to_owned();
    let state = if doc["enabled"].as_bool() == Some(true) {
        "enabled"
    } else {
        "disabled"
    };
    format!(
        "endpoint {} of {}/{} → {} ({state})",
        s("id"),
        s("platform_id"),
        s("environment"),
        s("url")
    )
}

pub async fn run(ctx: &Ctx, cmd: WebhookCommand) -> CliResult {
    let webhooks = ctx.core.webhooks();
    let actor = Actor::operator();
    match cmd {
        WebhookCommand::Add {
            platform_id,
            environment,
            url,
            events,
            description,
        } => {
            let env = ctx
                .core
                .tenancy()
                .environment(&PlatformId::lookup(&platform_id)?, environment)
                .await?;
            let input = NewEndpoint {
                url,
                description,
                event_types: events,
            };
            let created = webhooks.create(&env, &Owner::Environment, &actor, input).await?;
            print_with_secret(ctx, &env, &created.endpoint, created.secret.expose());
        }
        WebhookCommand::List { platform_id, environment } => {
            let env = ctx
                .core
                .tenancy()
                .environment(&PlatformId::lookup(&platform_id)?, environment)
                .await?;
            list(ctx, &env).await?;
        }
        WebhookCommand::Update {
            endpoint_id,
            url,
            events,
            all_events,
            description,
            enable,
            disable,
        } => {
            let (env, endpoint) = webhooks.locate(&EndpointId::lookup(&endpoint_id)?).await?;
            let changes = EndpointChanges {
                url,
                description,
                event_types: (all_events || !events.is_empty()).then_some(events),
                enabled: (enable || disable).then_some(enable),
            };
            let updated = webhooks.update(&env, &endpoint.owner, &actor, &endpoint.id, changes).await?;
            let doc = describe(&env, &updated);
            emit(ctx.json, &doc, || human(&doc));
        }
        WebhookCommand::RotateSecret { endpoint_id } => {
            let (env, endpoint) = webhooks.locate(&EndpointId::lookup(&endpoint_id)?).await?;
            let rotated = webhooks.rotate_secret(&env, &endpoint.owner, &actor, &endpoint.id).await?;
            print_with_secret(ctx, &env, &rotated.endpoint, rotated.secret.expose());
        }
        WebhookCommand::Remove { endpoint_id } => {
            let (env, endpoint) = webhooks.locate(&EndpointId::lookup(&endpoint_id)?).await?;
            let removed = webhooks.delete(&env, &endpoint.owner, &actor, &endpoint.id).await?;
            let doc = describe(&env, &removed);
            emit(ctx.json, &doc, || format!("endpoint {} removed", removed.id));
        }
        WebhookCommand::Deliveries { endpoint_id, limit } => {
            let (env, endpoint) = webhooks.locate(&EndpointId::lookup(&endpoint_id)?).await?;
            let page = webhooks.deliveries(&env, &endpoint.owner, &endpoint.id, None, limit).await?;
            print_deliveries(ctx, &page.items, page.next_cursor.as_deref());
        }
        WebhookCommand::Resend { endpoint_id, event_id } => {
            let (env, endpoint) = webhooks.locate(&EndpointId::lookup(&endpoint_id)?).await?;
            webhooks
                .resend(&env, &endpoint.owner, &endpoint.id, &EventId::from(event_id.as_str()))
                .await?;
            emit(ctx.json, &json!({ "queued": 1 }), || format!("{event_id} queued for {endpoint_id}"));
        }
        WebhookCommand::Recover { endpoint_id, since } => {
            let since = super::usage::parse_time("--since", &since)?;
            let (env, endpoint) = webhooks.locate(&EndpointId::lookup(&endpoint_id)?).await?;
            let queued = webhooks.recover(&env, &endpoint.owner, &endpoint.id, since).await?;
            emit(ctx.json, &json!({ "queued": queued }), || {
                format!("{queued} events queued for {endpoint_id}")
            });
        }
    }
    Ok(())
}

/// Attempts as the API lists them (`--json`), or a table.
fn print_deliveries(ctx: &Ctx, attempts: &[Attempt], next_cursor: Option<&str>) {
    let docs: Vec<Value> = attempts
        .iter()
        .map(|a| {
            json!({
                "event_id": a.event_id, "event_type": a.event_type, "attempt": a.attempt,
                "attempted_at": rfc3339(a.attempted_at), "status_code": a.status_code, "error": a.error,
                "latency_ms": a.latency_ms, "response_snippet": a.response_snippet,
            })
        })
        .collect();
    let rows: Vec<Vec<String>> = attempts
        .iter()
        .map(|a| {
            vec![
                rfc3339(a.attempted_at),
                a.event_id.to_string(),
                a.event_type.clone(),
                a.attempt.to_string(),
                a.status_code.map_or_else(|| a.error.clone().unwrap_or_default(), |s| s.to_string()),
                a.latency_ms.to_string(),
            ]
        })
        .collect();
    emit(ctx.json, &json!({ "data": docs, "next_cursor": next_cursor }), || {
        table(&["ATTEMPTED", "EVENT", "TYPE", "#", "ANSWER", "MS"], &rows)
    });
}

/// The endpoint and its secret, which is printed nowhere else.
fn print_with_secret(ctx: &Ctx, env: &Environment, endpoint: &Endpoint, secret: &str) {
    let mut doc = describe(env, endpoint);
    doc["secret"] = json!(secret);
    emit(ctx.json, &doc, || {
        format!("{}\nsecret: {secret}\n(shown once: store it now)", human(&doc))
    });
}

/// Every endpoint of the environment, page by page.
async fn list(ctx: &Ctx, env: &Environment) -> CliResult {
    let mut endpoints = Vec::new();
    let mut after: Option<EndpointId> = None;
    loop {
        let page = ctx.core.webhooks().list(env, None, after.as_ref(), 200).await?;
        endpoints.extend(page.items);
        match page.next_cursor {
            Some(next) => after = Some(EndpointId::new(next)),
            None => break,
        }
    }
    let docs: Vec<Value> = endpoints.iter().map(|e| describe(env, e)).collect();
    let rows: Vec<Vec<String>> = endpoints
        .iter()
        .map(|e| {
            let types: Vec<&str> = e.event_types.iter().map(|t| t.as_str()).collect();
            vec![
                e.id.to_string(),
                owner_cell(e),
                if e.enabled() { "yes" } else { "no" }.into(),
                if types.is_empty() { "all".into() } else { types.join(",") },
                e.url.clone(),
            ]
        })
        .collect();
    // Every endpoint is here: no further page.
    emit(ctx.json, &json!({ "data": docs, "next_cursor": null }), || {
        table(&["ID", "OWNER", "ENABLED", "EVENTS", "URL"], &rows)
    });
    Ok(())
}
