//! Usage: the partner's requests over the last 24 hours, 7 or 30 days, of
//! all its keys or one, as a chart with the same numbers in a table
//! beneath, per endpoint, and as a CSV download.
//!
//! The filter is built from the signed-in member's partner
//! ([`UsageFilter::of_partner`]); a key in the query narrows it only when
//! it is one of that partner's keys.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::error::DomainError;
use onramp_domain::portal::Member;
use onramp_domain::usage::buckets::{Granularity, UsageDimension, UsageFilter, UsagePeriod, UsageSeries, UsageTotals};
use serde::Deserialize;

use super::session::{Approved, PortalCsrf, PortalTenant};
use super::views::{Frame, Nav, failure};
use crate::WebState;
use crate::charts::{self, Chart, UsageTableRow};
use crate::views::render;

#[derive(Debug, Default, Deserialize)]
pub struct UsageQuery {
    #[serde(default)]
    period: String,
    #[serde(default)]
    key: String,
}

#[derive(Template)]
#[template(path = "portal/usage.html")]
struct Usage {
    frame: Frame,
    nav: Nav,
    /// Short name and label of each period.
    periods: Vec<(&'static str, &'static str)>,
    period: &'static str,
    /// The key shown, or empty for all.
    key: String,
    keys: Vec<String>,
    chart: Chart,
    step: &'static str,
    caption: String,
    rows: Vec<UsageTableRow>,
    total: UsageTableRow,
    routes: Vec<UsageTotals>,
}

/// The period asked for (24 hours unless another is named), the key asked
/// for if it is the partner's, and the partner's key ids.
async fn selection(state: &WebState, member: &Member, q: &UsageQuery) -> Result<(UsagePeriod, Option<String>, Vec<String>), DomainError> {
    let period = UsagePeriod::parse(&q.period).unwrap_or(UsagePeriod::Last24Hours);
    let keys: Vec<String> = state
        .core
        .portal()
        .keys(member)
        .await?
        .into_iter()
        .rev()
        .map(|k| k.key_id.into_string())
        .collect();
    let key = keys.iter().find(|k| **k == q.key).cloned();
    Ok((period, key, keys))
}

fn filter(member: &Member, key: Option<&String>) -> UsageFilter {
    let all = UsageFilter::of_partner(&member.partner);
    match key {
        Some(k) => all.key(k.as_str().into()),
        None => all,
    }
}

async fn series(state: &WebState, member: &Member, q: &UsageQuery) -> Result<(UsageSeries, Option<String>, Vec<String>), DomainError> {
    let (period, key, keys) = selection(state, member, q).await?;
    let series = state.core.usage().usage_chart(&filter(member, key.as_ref()), period).await?;
    Ok((series, key, keys))
}

pub async fn page(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(member): Approved,
    csrf: PortalCsrf,
    Query(q): Query<UsageQuery>,
) -> Response {
    let (series, key, keys) = match series(&state, &member, &q).await {
        Ok(found) => found,
        Err(e) => return failure(&tenant, &e),
    };
    let routes = match state
        .core
        .usage()
        .usage_breakdown(&filter(&member, key.as_ref()), series.from, series.to, UsageDimension::Route)
        .await
    {
        Ok(routes) => routes,
        Err(e) => return failure(&tenant, &e),
    };
    let of = key.as_deref().map_or_else(|| "all keys".to_owned(), |k| format!("key {k}"));
    let caption = format!("{}, {of}", series.period.label());
    let page = Usage {
        frame: Frame::of(&tenant),
        nav: Nav::new(&member, csrf.value, "usage"),
        periods: UsagePeriod::ALL.iter().map(|p| (p.as_str(), p.label())).collect(),
        period: series.period.as_str(),
        key: key.clone().unwrap_or_default(),
        keys,
        chart: charts::stacked_bars(&series.buckets, series.granularity, &format!("Requests, {caption}")),
        step: match series.granularity {
            Granularity::Minute => "minute",
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        },
        caption,
        rows: charts::table_rows(&series.buckets, series.granularity),
        total: charts::total_row(&series.buckets),
        routes,
    };
    render(StatusCode::OK, &page)
}

/// The table's numbers as CSV, one line per bucket.
pub async fn csv(State(state): State<WebState>, tenant: PortalTenant, Approved(member): Approved, Query(q): Query<UsageQuery>) -> Response {
    let (series, key, _) = match series(&state, &member, &q).await {
        Ok(found) => found,
        Err(e) => return failure(&tenant, &e),
    };
    let name = format!(
        "usage-{}-{}{}.csv",
        member.partner.id,
        series.period.as_str(),
        key.map(|k| format!("-{k}")).unwrap_or_default()
    );
    let mut response = (StatusCode::OK, charts::csv(&series.buckets)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
