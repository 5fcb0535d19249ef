//! `onramp audit list`

use clap::Subcommand;
use onramp_domain::audit::AuditFilter;
use onramp_domain::clock::rfc3339;
use onramp_domain::tenancy::EnvKind;
use serde_json::json;

use super::context::{CliResult, Ctx};
use super::output::{emit, table};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, newest first
    List {
        /// Only this instance
        #[arg(long)]
        platform_id: Option<String>,
        /// Only this environment
        #[arg(long)]
        environment: Option<EnvKind>,
        /// At most this many events
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
}

pub async fn run(ctx: &Ctx, cmd: AuditCommand) -> CliResult {
    let AuditCommand::List {
        platform_id,
        environment,
        limit,
    } = cmd;
    let filter = AuditFilter {
        platform_id,
        environment: environment.map(|e| e.as_str().to_owned()),
        limit,
        ..AuditFilter::default()
    };
    let events = ctx.core.audit().events(&filter).await?;
    let docs: Vec<_> = events
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "at": rfc3339(e.created_at), "platform_id": e.platform_id, "environment": e.environment,
                "actor": e.actor, "action": e.action, "target": e.target, "request_id": e.request_id, "detail": e.detail,
            })
        })
        .collect();
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                rfc3339(e.created_at),
                e.platform_id.to_string(),
                e.environment.clone().unwrap_or_else(|| "-".into()),
                e.actor.clone(),
                e.action.clone(),
                e.target.clone(),
            ]
        })
        .collect();
    emit(ctx.json, &json!({ "data": docs }), || {
        table(&["AT", "INSTANCE", "ENV", "ACTOR", "ACTION", "TARGET"], &rows)
    });
    Ok(())
}
