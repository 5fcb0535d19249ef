//! `onramp usage <partner>` and `onramp alerts list`.

use clap::{Subcommand, ValueEnum};
use onramp_domain::clock::{now_ms, rfc3339};
use onramp_domain::ids::PartnerId;
use onramp_domain::usage::service::Granularity;
use serde_json::{Value, json};

use super::context::{CliError, CliResult, Ctx};
use super::output::{emit, table};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GranularityArg {
    Minute,
    Hour,
    Day,
}

#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    pub partner_id: PartnerId,
    /// RFC 3339 start [default: 24 hours before --to]
    #[arg(long)]
    pub from: Option<String>,
    /// RFC 3339 end [default: now]
    #[arg(long)]
    pub to: Option<String>,
    /// Bucket size [default: hour]
    #[arg(long, value_enum, default_value = "hour")]
    pub granularity: GranularityArg,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List usage alerts, newest first
    List {
        /// At most this many alerts
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
}

pub(super) fn parse_time(flag: &str, raw: &str) -> CliResult<i64> {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            CliError::new(
                "validation_failed",
                format!("{flag} must be an RFC 3339 timestamp like 2026-01-31T00:00:00Z"),
            )
        })
}

pub async fn usage(ctx: &Ctx, args: UsageArgs) -> CliResult {
    let partner = ctx.core.partners().partner(&args.partner_id).await?;
    let to = args
        .to
        .as_deref()
        .map(|t| parse_time("--to", t))
        .transpose()?
        .unwrap_or_else(now_ms);
    let from = args
        .from
        .as_deref()
        .map(|f| parse_time("--from", f))
        .transpose()?
        .unwrap_or(to - 24 * 3600 * 1000);
    let granularity = match args.granularity {
        GranularityArg::Minute => Granularity::Minute,
        GranularityArg::Hour => Granularity::Hour,
        GranularityArg::Day => Granularity::Day,
    };
    let points = ctx.core.usage().usage_series(&partner, from, to, granularity).await?;
    let data: Vec<Value> = points
        .iter()
        .map(|p| json!({ "start": rfc3339(p.start), "requests": p.requests, "2xx": p.status_2xx, "3xx": p.status_3xx, "4xx": p.status_4xx, "5xx": p.status_5xx }))
        .collect();
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            [p.requests, p.status_2xx, p.status_3xx, p.status_4xx, p.status_5xx]
                .iter()
                .map(ToString::to_string)
                .fold(vec![rfc3339(p.start)], |mut row, cell| {
                    row.push(cell);
                    row
                })
        })
        .collect();
    let doc = json!({ "partner_id": partner.id, "from": rfc3339(from), "to": rfc3339(to), "data": data });
    emit(ctx.json, &doc, || {
        format!(
            "usage of partner {} ({}), {} to {}:\n{}",
            partner.name,
            partner.id,
            rfc3339(from),
            rfc3339(to),
            table(&["START", "REQUESTS", "2XX", "3XX", "4XX", "5XX"], &rows)
        )
    });
    Ok(())
}

pub async fn alerts(ctx: &Ctx, cmd: AlertsCommand) -> CliResult {
    let AlertsCommand::List { limit } = cmd;
    let alerts = ctx.core.usage().alerts(limit).await?;
    let docs: Vec<Value> = alerts
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "kind": a.kind, "partner_id": a.partner_id, "key_id": a.key_id, "detail": a.detail,
                "created_at": rfc3339(a.created_at), "delivery": a.delivery, "attempts": a.attempts,
                "delivered_at": a.delivered_at.map(rfc3339),
            })
        })
        .collect();
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|a| {
            vec![
                rfc3339(a.created_at),
                a.kind.to_string(),
                a.key_id.to_string(),
                a.partner_id.to_string(),
                a.delivery.to_string(),
            ]
        })
        .collect();
    emit(ctx.json, &json!({ "data": docs }), || {
        table(&["AT", "KIND", "KEY_ID", "PARTNER", "DELIVERY"], &rows)
    });
    Ok(())
}
