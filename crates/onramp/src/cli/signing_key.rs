//! `onramp signing-key …`

use clap::Subcommand;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::tenancy::signing::SigningKey;
use onramp_domain::tenancy::{EnvKind, PlatformId};
use serde_json::{Value, json};

use super::context::{CliResult, Ctx};
use super::output::{emit, table};

#[derive(Debug, Subcommand)]
pub enum SigningKeyCommand {
    /// Add a new signing key of each algorithm (EdDSA, ES256); the old ones stay in the JWKS until their tokens have expired
    Rotate { platform_id: String, environment: EnvKind },
    /// List an environment's signing keys (public ids only)
    List { platform_id: String, environment: EnvKind },
}

fn describe(key: &SigningKey) -> Value {
    json!({
        "kid": key.kid, "algorithm": key.alg.as_str(), "created_at": rfc3339(key.created_at),
        "retired_at": key.retired_at.map(rfc3339),
        "status": if key.retired_at.is_some() { "retired" } else { "active" },
    })
}

pub async fn run(ctx: &Ctx, cmd: SigningKeyCommand) -> CliResult {
    let actor = Actor::operator();
    match cmd {
        SigningKeyCommand::Rotate { platform_id, environment } => {
            let platform_id = PlatformId::lookup(&platform_id)?;
            let keys = ctx.core.tenancy().rotate_signing_key(&actor, &platform_id, environment).await?;
            // The top level describes the EdDSA key, which signs service
            // tokens (as before ES256 keys existed); `keys` lists every new key.
            let mut doc = keys.first().map(describe).unwrap_or_default();
            doc["keys"] = json!(keys.iter().map(describe).collect::<Vec<_>>());
            emit(ctx.json, &doc, || {
                let kids: Vec<String> = keys.iter().map(|k| format!("{} ({})", k.kid, k.alg.as_str())).collect();
                format!(
                    "new signing keys {} for {platform_id}/{environment}; the previous keys keep verifying until their tokens expire",
                    kids.join(", ")
                )
            });
        }
        SigningKeyCommand::List { platform_id, environment } => {
            let keys = ctx
                .core
                .tenancy()
                .signing_keys(&PlatformId::lookup(&platform_id)?, environment)
                .await?;
            let docs: Vec<Value> = keys.iter().map(describe).collect();
            let rows: Vec<Vec<String>> = docs
                .iter()
                .map(|d| {
                    ["kid", "algorithm", "status", "created_at", "retired_at"]
                        .iter()
                        .map(|k| d[k].as_str().unwrap_or("-").to_owned())
                        .collect()
                })
                .collect();
            emit(ctx.json, &json!({ "data": docs }), || {
                table(&["KID", "ALG", "STATUS", "CREATED_AT", "RETIRED_AT"], &rows)
            });
        }
    }
    Ok(())
}
