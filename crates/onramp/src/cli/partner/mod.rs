//! `onramp partner …`; subcommands with more to them in files of their own.

mod scopes;

use clap::Subcommand;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::PartnerId;
use onramp_domain::partners::{Partner, PartnerStatus};
use onramp_domain::tenancy::{EnvKind, PlatformId};
use serde_json::{Value, json};

use super::context::{CliError, CliResult, Ctx};
use super::output::{emit, table};

#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Create a partner (status `pending` until approved)
    Create {
        platform_id: String,
        /// staging or production
        environment: EnvKind,
        /// Display name of the partner
        name: String,
    },
    /// Approve a partner: its keys start working
    Approve { partner_id: PartnerId },
    /// Suspend a partner: its keys are refused with 403 partner_not_approved
    Suspend { partner_id: PartnerId },
    /// List partners
    List {
        /// Only this instance (with --environment)
        #[arg(long, requires = "environment")]
        platform_id: Option<String>,
        /// Only this environment (with --platform-id)
        #[arg(long, requires = "platform_id")]
        environment: Option<EnvKind>,
    },
    /// Show one partner
    Show { partner_id: PartnerId },
    /// Set the scopes a partner's keys may have (at least one; keys are issued within them, and a key's scope outside them is refused from the next request on); prints the partner's allowed scopes as JSON. Without scopes, only prints them. Scopes: accounts:write, accounts:read, usage:read, webhooks:manage
    Scopes {
        partner_id: PartnerId,
        /// The whole new set (what is not named is taken away)
        #[arg(value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// Invite a person to a partner's portal: prints a one-time link (good once, for 7 days) that sets their password; no email is sent, so pass it on yourself
    Invite {
        partner_id: PartnerId,
        /// The person's email; they sign in to the portal with it
        email: String,
        /// Scheme, host and port the partner's environment answers at, e.g. https://api.staging.acme.example.com (the CLI does not know the server's --base-domain or port) [default: http://api[.staging].<platform_id>.localhost:8080, as `serve` answers by default]
        #[arg(long, value_name = "URL")]
        origin: Option<String>,
    },
}

pub fn describe(p: &Partner) -> Value {
    json!({
        "id": p.id, "name": p.name, "status": p.status.as_str(), "platform_id": p.platform_id,
        "environment": p.environment, "allowed_scopes": p.allowed_scopes, "created_at": rfc3339(p.created_at), "updated_at": rfc3339(p.updated_at),
    })
}

fn human(v: &Value) -> String {
    format!(
        "partner {} ({}) of {}/{}: {}",
        v["name"].as_str().unwrap_or_default(),
        v["id"].as_str().unwrap_or_default(),
        v["platform_id"].as_str().unwrap_or_default(),
        v["environment"].as_str().unwrap_or_default(),
        v["status"].as_str().unwrap_or_default()
    )
}

pub async fn run(ctx: &Ctx, cmd: PartnerCommand) -> CliResult {
    let core = &ctx.core;
    let actor = Actor::operator();
    let partner = match cmd {
        PartnerCommand::Create {
            platform_id,
            environment,
            name,
        } => {
            core.partners()
                .create_partner(&actor, &PlatformId::lookup(&platform_id)?, environment, &name)
                .await?
        }
        PartnerCommand::Approve { partner_id } => {
            core.partners()
                .set_partner_status(&actor, &partner_id, PartnerStatus::Active)
                .await?
        }
        PartnerCommand::Suspend { partner_id } => {
            core.partners()
                .set_partner_status(&actor, &partner_id, PartnerStatus::Suspended)
                .await?
        }
        PartnerCommand::Show { partner_id } => core.partners().partner(&partner_id).await?,
        PartnerCommand::Invite { partner_id, email, origin } => return invite(ctx, &partner_id, &email, origin).await,
        PartnerCommand::Scopes { partner_id, scopes } => return scopes::run(ctx, &partner_id, &scopes).await,
        PartnerCommand::List { platform_id, environment } => {
            let scope = match (&platform_id, environment) {
                (Some(p), Some(e)) => Some((PlatformId::lookup(p)?, e)),
                (None, None) => None,
                _ => return Err(CliError::new("validation_failed", "give --platform-id and --environment together")),
            };
            let partners = core.partners().list(scope.as_ref().map(|(p, e)| (p, *e))).await?;
            let docs: Vec<Value> = partners.iter().map(describe).collect();
            let rows: Vec<Vec<String>> = partners
                .iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        p.name.clone(),
                        p.status.as_str().into(),
                        format!("{}/{}", p.platform_id, p.environment),
                    ]
                })
                .collect();
            emit(ctx.json, &json!({ "data": docs }), || {
                table(&["ID", "NAME", "STATUS", "ENVIRONMENT"], &rows)
            });
            return Ok(());
        }
    };
    let doc = describe(&partner);
    emit(ctx.json, &doc, || human(&doc));
    Ok(())
}

/// `partner invite`: the link is shown this once (only its hash is kept).
async fn invite(ctx: &Ctx, partner_id: &PartnerId, email: &str, origin: Option<String>) -> CliResult {
    let core = &ctx.core;
    let partner = core.partners().partner(partner_id).await?;
    let made = core.portal().invite(&Actor::operator(), &partner.id, email).await?;
    let origin = origin.map_or_else(
        || format!("http://{}:8080", core.tenancy().host_of(&partner.platform_id, partner.environment)),
        |o| o.trim_end_matches('/').to_owned(),
    );
    let path = made.url_path.expose();
    let url = format!("{origin}{path}");
    let doc = json!({
        "partner_id": partner.id, "partner": partner.name, "email": made.invitation.email,
        "platform_id": partner.platform_id, "environment": partner.environment,
        "expires_at": rfc3339(made.invitation.expires_at), "url": url, "path": path,
    });
    emit(ctx.json, &doc, || {
        format!(
            "invitation of {} to partner {} ({}) of {}/{}, good once until {}:\n{url}\n(shown once: pass it on now; no email is sent)",
            made.invitation.email,
            partner.name,
            partner.id,
            partner.platform_id,
            partner.environment,
            rfc3339(made.invitation.expires_at)
        )
    });
    Ok(())
}
