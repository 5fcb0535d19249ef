//! The overview: what the deployment holds, and its latest changes.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::audit::AuditFilter;
use onramp_domain::error::DomainError;
use onramp_domain::partners::PartnerStatus;

use onramp_domain::usage::buckets::UsageFilter;

use super::audit::EventRow;
use super::session::{ConsoleCsrf, Operator};
use super::usage::UsageView;
use super::views::{Nav, problem_page};
use crate::WebState;
use crate::views::render;

#[derive(Template)]
#[template(path = "console/overview.html")]
struct Overview {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    instances: usize,
    error_share: String,
    alerts_24h: usize,
    failing_endpoints: usize,
    chart: crate::charts::Chart,
    periods: Vec<(&'static str, String, bool)>,
    usage_caption: String,
    bucket_label: &'static str,
    usage_rows: Vec<crate::charts::UsageTableRow>,
    usage_total: crate::charts::UsageTableRow,
    pending_partners: u64,
    active_partners: u64,
    operators: usize,
    /// Platform id, name, region, features.
    instance_rows: Vec<(String, String, String, String)>,
    events: Vec<EventRow>,
}

pub async fn page(State(state): State<WebState>, Operator(console): Operator, csrf: ConsoleCsrf) -> Response {
    match overview(&state, Nav::new(&console, csrf.value, "overview")).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => {
            tracing::error!(error = %e, "console overview failed");
            problem_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The overview could not be read just now.",
            )
        }
    }
}

async fn overview(state: &WebState, nav: Nav) -> Result<Overview, DomainError> {
    let core = &state.core;
    let instances = core.tenancy().instances().await?;
    let counts = core.partners().counts().await?;
    let count = |status: PartnerStatus| counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
    let recent = core
        .audit()
        .events(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await?;
    let series = core.usage().usage_last_day_by_minute(&UsageFilter::default()).await?;
    let usage = UsageView::per_minute(&series, "all instances");
    let failed: i64 = series.buckets.iter().map(|b| b.client_errors + b.limited + b.server_errors).sum();
    let total: i64 = series.buckets.iter().map(|b| b.total).sum();
    let day_ago = core.config().clock.now_ms() - 24 * 3600 * 1000;
    let alerts_24h = core.usage().alerts(1000).await?.iter().filter(|a| a.created_at >= day_ago).count();
    Ok(Overview {
        csrf: nav.csrf,
        email: nav.email,
        role: nav.role,
        current: nav.current,
        instances: instances.len(),
        error_share: if total == 0 {
            "—".into()
        } else {
            format!("{:.1}%", 100.0 * failed as f64 / total as f64)
        },
        alerts_24h,
        failing_endpoints: core.webhooks().failing_endpoints().await?,
        chart: usage.chart,
        periods: usage.periods,
        usage_caption: usage.caption,
        bucket_label: usage.bucket_label,
        usage_rows: usage.rows,
        usage_total: usage.total,
        pending_partners: count(PartnerStatus::Pending),
        active_partners: count(PartnerStatus::Active),
        operators: core.operators().list().await?.len(),
        instance_rows: instances
            .iter()
            .map(|i| {
                let features: Vec<&str> = i.features.iter().map(|f| f.as_str()).collect();
                (i.platform_id.to_string(), i.name.clone(), i.region.clone(), features.join(", "))
            })
            .collect(),
        events: recent.iter().map(EventRow::from).collect(),
    })
}
