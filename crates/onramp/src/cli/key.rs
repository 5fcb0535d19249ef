//! `onramp key …`: partner API keys.

use clap::Subcommand;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::{KeyId, PartnerId};
use onramp_domain::partners::ApiKey;
use serde_json::{Value, json};

use super::context::{CliError, CliResult, Ctx};
use super::output::{emit, table};
use crate::config::parse_duration;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Issue an API key for a partner; the key is printed once
    Issue {
        partner_id: PartnerId,
        /// accounts:write, accounts:read, usage:read or webhooks:manage (repeatable), within what the partner is allowed (`partner scopes`) [default: every scope the partner is allowed]
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Lifetime, e.g. 90d [default: no expiry]
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
    },
    /// Revoke a key: it is refused from the next request on
    Revoke { key_id: KeyId },
    /// List a partner's keys (ids and state only)
    List { partner_id: PartnerId },
}

fn describe(k: &ApiKey) -> Value {
    let now = onramp_domain::clock::now_ms();
    let status = if k.revoked_at.is_some() {
        "revoked"
    } else if k.is_live(now) {
        "active"
    } else {
        "expired"
    };
    json!({
        "key_id": k.key_id, "partner_id": k.partner_id, "scopes": k.scopes, "status": status,
        "created_at": rfc3339(k.created_at), "expires_at": k.expires_at.map(rfc3339),
        "revoked_at": k.revoked_at.map(rfc3339), "retires_at": k.retires_at.map(rfc3339),
        "last_used_at": k.last_used_at.map(rfc3339),
    })
}

pub async fn run(ctx: &Ctx, cmd: KeyCommand) -> CliResult {
    let actor = Actor::operator();
    match cmd {
        KeyCommand::Issue {
            partner_id,
            scopes,
            expires_in,
        } => {
            let expires_in = expires_in
                .map(|d| parse_duration(&d))
                .transpose()
                .map_err(|e| CliError::new("validation_failed", e))?;
            let issued = ctx.core.partners().issue_api_key(&actor, &partner_id, &scopes, expires_in).await?;
            let mut doc = describe(&issued.key);
            doc["key"] = json!(issued.secret.expose());
            emit(ctx.json, &doc, || {
                format!(
                    "key {} for partner {} with scopes {}\nkey: {}\n(shown once: store it now)",
                    issued.key.key_id,
                    partner_id,
                    issued.key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                    issued.secret.expose()
                )
            });
        }
        KeyCommand::Revoke { key_id } => {
            let key = ctx.core.partners().revoke_api_key(&actor, &key_id).await?;
            let doc = describe(&key);
            emit(ctx.json, &doc, || format!("key {key_id} revoked"));
        }
        KeyCommand::List { partner_id } => {
            let keys = ctx.core.partners().api_keys(&partner_id).await?;
            let docs: Vec<Value> = keys.iter().map(describe).collect();
            let rows: Vec<Vec<String>> = docs
                .iter()
                .map(|d| {
                    ["key_id", "status", "created_at", "expires_at", "last_used_at"]
                        .iter()
                        .map(|k| d[k].as_str().unwrap_or("-").to_owned())
                        .collect()
                })
                .collect();
            emit(ctx.json, &json!({ "data": docs }), || {
                table(&["KEY_ID", "STATUS", "CREATED_AT", "EXPIRES_AT", "LAST_USED_AT"], &rows)
            });
        }
    }
    Ok(())
}
