//! `onramp partner scopes <partner_id> [<scope>...]`: the scopes the
//! operator lets a partner's keys have.

use onramp_domain::audit::Actor;
use onramp_domain::ids::PartnerId;
use serde_json::json;

use crate::cli::context::{CliResult, Ctx};

/// Sets the allowance (when scopes are given) and prints it as JSON, with
/// or without `--json`: scripts read it back either way.
pub async fn run(ctx: &Ctx, partner_id: &PartnerId, scopes: &[String]) -> CliResult {
    let partners = ctx.core.partners();
    let partner = if scopes.is_empty() {
        partners.partner(partner_id).await?
    } else {
        partners.set_allowed_scopes(&Actor::operator(), partner_id, scopes).await?
    };
    let doc = json!({
        "partner_id": partner.id,
        "name": partner.name,
        "platform_id": partner.platform_id,
        "environment": partner.environment,
        "allowed_scopes": partner.allowed_scopes,
    });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "null".into()));
    Ok(())
}
