//! `onramp service-user secret …`: a service user's OAuth client secrets,
//! with which it gets access tokens at `POST /oauth/token`
//! (client credentials). Its `client_id` is `svc_<service user id>`.

use std::time::Duration;

use clap::Subcommand;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::ClientSecretId;
use onramp_domain::oauth::ClientSecret;
use onramp_domain::tenancy::{EnvKind, PlatformId};
use serde_json::{Value, json};

use super::context::{CliResult, Ctx};
use super::output::{emit, table};
use crate::config::parse_duration;

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Add an OAuth client secret (onr_cs_…, printed once) with which the service user gets access tokens at POST /oauth/token
    Add {
        platform_id: String,
        /// staging or production
        environment: EnvKind,
        username: String,
        /// Lifetime of the secret, 1m to 3650d (e.g. 90d) [default: none, the secret does not expire]
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires_in: Option<Duration>,
    },
    /// List a service user's client secrets (never the secrets themselves)
    List {
        platform_id: String,
        /// staging or production
        environment: EnvKind,
        username: String,
    },
    /// Revoke a client secret: refused from the next request on
    Revoke {
        /// The secret's id, as `add` and `list` print it
        id: String,
    },
}

fn describe(s: &ClientSecret, now: i64) -> Value {
    json!({
        "id": s.id, "client_id": s.client_id(), "status": s.status(now).as_str(),
        "created_at": rfc3339(s.created_at), "expires_at": s.expires_at.map(rfc3339),
        "revoked_at": s.revoked_at.map(rfc3339),
    })
}

pub async fn run(ctx: &Ctx, cmd: SecretCommand) -> CliResult {
    let oauth = ctx.core.oauth();
    let actor = Actor::operator();
    let now = ctx.core.config().clock.now_ms();
    match cmd {
        SecretCommand::Add {
            platform_id,
            environment,
            username,
            expires_in,
        } => {
            let issued = oauth
                .add_secret(&actor, &PlatformId::lookup(&platform_id)?, environment, &username, expires_in)
                .await?;
            let doc = json!({
                "id": issued.secret.id, "client_id": issued.secret.client_id(),
                "client_secret": issued.client_secret.expose(),
                "expires_at": issued.secret.expires_at.map(rfc3339),
            });
            emit(ctx.json, &doc, || {
                format!(
                    "client secret {} for {username}\nclient_id:     {}\nclient_secret: {}\nexpires_at:    {}\n(the secret is shown once: store it now)",
                    issued.secret.id,
                    issued.secret.client_id(),
                    issued.client_secret.expose(),
                    doc["expires_at"].as_str().unwrap_or("never"),
                )
            });
        }
        SecretCommand::List {
            platform_id,
            environment,
            username,
        } => {
            let (_, secrets) = oauth.secrets(&PlatformId::lookup(&platform_id)?, environment, &username).await?;
            let docs: Vec<Value> = secrets.iter().map(|s| describe(s, now)).collect();
            let rows: Vec<Vec<String>> = docs
                .iter()
                .map(|d| {
                    ["id", "client_id", "status", "created_at", "expires_at"]
                        .iter()
                        .map(|k| d[k].as_str().unwrap_or("-").to_owned())
                        .collect()
                })
                .collect();
            emit(ctx.json, &json!({ "data": docs }), || {
                table(&["ID", "CLIENT_ID", "STATUS", "CREATED", "EXPIRES"], &rows)
            });
        }
        SecretCommand::Revoke { id } => {
            let secret = oauth.revoke_secret(&actor, &ClientSecretId::new(id)).await?;
            let doc = describe(&secret, now);
            emit(ctx.json, &doc, || {
                format!("client secret {} of {} revoked", secret.id, secret.client_id())
            });
        }
    }
    Ok(())
}
