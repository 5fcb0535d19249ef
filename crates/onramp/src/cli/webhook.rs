//! `onramp webhook …`: webhook endpoints, as the operator. `add` makes an
//! endpoint of the environment's own (it may receive every event); the
//! other commands reach any endpoint by its id, partners' included.

use clap::Subcommand;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::EndpointId;
use onramp_domain::tenancy::{EnvKind, Environment, PlatformId};
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
    }
    Ok(())
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
    emit(ctx.json, &json!({ "data": docs }), || {
        table(&["ID", "OWNER", "ENABLED", "EVENTS", "URL"], &rows)
    });
    Ok(())
}
