//! `onramp scim-token …`: the bearer tokens identity providers (Okta,
//! Microsoft Entra ID) provision accounts with, per environment.

use clap::Subcommand;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::ScimTokenId;
use onramp_domain::infra::secret::Secret;
use onramp_domain::scim::tokens::ScimToken;
use onramp_domain::tenancy::{EnvKind, PlatformId};
use serde_json::{Value, json};

use super::context::{CliResult, Ctx};
use super::output::{emit, table};

#[derive(Debug, Subcommand)]
pub enum ScimTokenCommand {
    /// Issue a SCIM token for an environment; the token (onr_scim_test_… / onr_scim_live_…) is printed once
    Issue {
        platform_id: String,
        /// staging or production
        environment: EnvKind,
        /// A label, e.g. the identity provider it is given to (default `SCIM`)
        #[arg(long)]
        name: Option<String>,
    },
    /// List an environment's SCIM tokens (never the tokens themselves)
    List {
        platform_id: String,
        /// staging or production
        environment: EnvKind,
    },
    /// Revoke a SCIM token: refused from the next request on
    Revoke {
        /// The token's id, as `issue` and `list` print it
        id: String,
    },
}

fn describe(t: &ScimToken, secret: Option<&Secret>) -> Value {
    let mut v = json!({
        "id": t.id, "name": t.name, "platform_id": t.platform_id.as_str(), "environment": t.environment.as_str(),
        "status": if t.revoked_at.is_some() { "revoked" } else { "active" },
        "created_at": rfc3339(t.created_at),
        "revoked_at": t.revoked_at.map(rfc3339),
    });
    if let Some(secret) = secret {
        v["token"] = json!(secret.expose());
    }
    v
}

fn human(v: &Value) -> String {
    let mut out = format!(
        "SCIM token {} ({}) of {} {}: {}",
        v["name"].as_str().unwrap_or_default(),
        v["id"].as_str().unwrap_or_default(),
        v["platform_id"].as_str().unwrap_or_default(),
        v["environment"].as_str().unwrap_or_default(),
        v["status"].as_str().unwrap_or_default(),
    );
    if let Some(token) = v["token"].as_str() {
        out.push_str(&format!("\ntoken: {token}\n(shown once: store it now)"));
    }
    out
}

pub async fn run(ctx: &Ctx, cmd: ScimTokenCommand) -> CliResult {
    let core = &ctx.core;
    let actor = Actor::operator();
    let doc = match cmd {
        ScimTokenCommand::Issue {
            platform_id,
            environment,
            name,
        } => {
            let env = core.tenancy().environment(&PlatformId::lookup(&platform_id)?, environment).await?;
            let issued = core.scim_tokens().issue(&env, name.as_deref(), &actor).await?;
            describe(&issued.token, Some(&issued.secret))
        }
        ScimTokenCommand::List { platform_id, environment } => {
            let env = core.tenancy().environment(&PlatformId::lookup(&platform_id)?, environment).await?;
            let docs: Vec<Value> = core.scim_tokens().list(&env).await?.iter().map(|t| describe(t, None)).collect();
            let rows: Vec<Vec<String>> = docs
                .iter()
                .map(|d| {
                    ["name", "id", "status", "created_at"]
                        .iter()
                        .map(|k| d[k].as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .collect();
            emit(ctx.json, &json!({ "data": docs }), || {
                table(&["NAME", "ID", "STATUS", "CREATED"], &rows)
            });
            return Ok(());
        }
        ScimTokenCommand::Revoke { id } => describe(&core.scim_tokens().revoke(&ScimTokenId::new(id), &actor).await?, None),
    };
    emit(ctx.json, &doc, || human(&doc));
    Ok(())
}
