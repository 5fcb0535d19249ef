//! The audit log: every change, newest first, filtered by instance,
//! environment, actor, action, target and time range (UTC), and exported
//! as CSV.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::audit::{AuditEvent, AuditFilter};
use onramp_domain::clock::{Millis, rfc3339};
use onramp_domain::error::DomainError;
use serde::Deserialize;

use super::session::{ConsoleCsrf, Operator};
use super::views::{Nav, problem_page};
use crate::WebState;
use crate::views::render;

/// Events a page shows.
const PAGE: u32 = 50;
/// Most events one export holds.
const EXPORT_LIMIT: u32 = 10_000;
/// The longest filter value taken.
const MAX_FIELD: usize = 200;

/// The filters as the form sends them (all optional, all text).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub instance: String,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub before: String,
}

/// One row of the table.
pub struct EventRow {
    pub time: String,
    pub instance: String,
    pub environment: String,
    pub actor: String,
    pub action: String,
    pub target: String,
}

impl From<&AuditEvent> for EventRow {
    fn from(e: &AuditEvent) -> Self {
        let instance = e.platform_id.as_str();
        Self {
            time: rfc3339(e.created_at).replace('T', " ").trim_end_matches('Z').to_owned(),
            instance: if instance.is_empty() { "—".into() } else { instance.to_owned() },
            environment: e.environment.clone().unwrap_or_else(|| "—".into()),
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
        }
    }
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`, in UTC.
pub(super) fn parse_time(raw: &str) -> Option<Millis> {
    let (date, clock) = raw.split_once('T').unwrap_or((raw, "00:00"));
    let mut d = date.splitn(3, '-').map(str::parse::<i32>);
    let (year, month, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = clock.splitn(3, ':').map(str::parse::<u8>);
    let (hour, minute) = (t.next()?.ok()?, t.next()?.ok()?);
    let second = t.next().map_or(Some(0), Result::ok)?;
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let at = date.with_hms(hour, minute, second).ok()?.assume_utc();
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

fn text(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty()).then(|| t.chars().take(MAX_FIELD).collect())
}

impl Filters {
    /// The store's filter, or what is wrong with the form.
    fn to_filter(&self, limit: u32) -> Result<AuditFilter, String> {
        let time = |raw: &str, name: &str| match text(raw) {
            None => Ok(None),
            Some(t) => parse_time(&t)
                .map(Some)
                .ok_or_else(|| format!("{name} is not a date and time (YYYY-MM-DDTHH:MM)")),
        };
        let environment = match self.environment.as_str() {
            "" => None,
            e @ ("staging" | "production") => Some(e.to_owned()),
            _ => return Err("Environment must be staging or production".into()),
        };
        Ok(AuditFilter {
            platform_id: match self.instance.trim() {
                "" => None,
                "-" => Some(String::new()),
                p => Some(p.chars().take(MAX_FIELD).collect()),
            },
            environment,
            actor: text(&self.actor),
            action: text(&self.action),
            target: text(&self.target),
            from: time(&self.from, "From")?,
            to: time(&self.to, "To")?,
            before: text(&self.before).map(Into::into),
            limit,
        })
    }

    /// The query string of these filters (without the page cursor).
    fn query(&self) -> String {
        let pairs = [
            ("instance", self.instance.as_str()),
            ("environment", self.environment.as_str()),
            ("actor", self.actor.as_str()),
            ("action", self.action.as_str()),
            ("target", self.target.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ];
        super::views::link("", &pairs)
    }
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    error: Option<String>,
    filters: Filters,
    platforms: Vec<String>,
    events: Vec<EventRow>,
    query: String,
    next: Option<String>,
    export_limit: u32,
}

pub async fn page(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Query(filters): Query<Filters>,
) -> Response {
    let nav = Nav::new(&console, csrf.value, "audit");
    let (events, error) = match filters.to_filter(PAGE) {
        Ok(filter) => match state.core.audit().events(&filter).await {
            Ok(events) => (events, None),
            Err(e) => return unavailable(&e),
        },
        Err(why) => (Vec::new(), Some(why)),
    };
    let platforms = match state.core.tenancy().instances().await {
        Ok(list) => list.into_iter().map(|i| i.platform_id.to_string()).collect(),
        Err(e) => return unavailable(&e),
    };
    let query = filters.query();
    let next = (events.len() == PAGE as usize).then(|| {
        let last = events.last().map(|e| e.id.to_string()).unwrap_or_default();
        let sep = if query.is_empty() { '?' } else { '&' };
        format!("{query}{sep}before={last}")
    });
    let page = AuditPage {
        csrf: nav.csrf,
        email: nav.email,
        role: nav.role,
        current: nav.current,
        error: error.clone(),
        filters,
        platforms,
        events: events.iter().map(EventRow::from).collect(),
        query,
        next,
        export_limit: EXPORT_LIMIT,
    };
    render(if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK }, &page)
}

fn unavailable(e: &DomainError) -> Response {
    tracing::error!(error = %e, "console audit log failed");
    problem_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "The audit log could not be read just now.",
    )
}

/// A CSV field: quoted when it holds a comma, quote or line break, and a
/// leading `=`, `+`, `-` or `@` defused so a spreadsheet does not run it.
fn csv_field(raw: &str) -> String {
    let safe = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

pub async fn export(State(state): State<WebState>, Operator(_): Operator, Query(filters): Query<Filters>) -> Response {
    let filter = match filters.to_filter(EXPORT_LIMIT) {
        Ok(f) => f,
        Err(why) => return problem_page(StatusCode::BAD_REQUEST, "Invalid filter", &why),
    };
    let events = match state.core.audit().events(&filter).await {
        Ok(events) => events,
        Err(e) => return unavailable(&e),
    };
    let mut out = String::from("id,time,instance,environment,actor,action,target,request_id,detail\r\n");
    for e in &events {
        let fields = [
            e.id.to_string(),
            rfc3339(e.created_at),
            e.platform_id.to_string(),
            e.environment.clone().unwrap_or_default(),
            e.actor.clone(),
            e.action.clone(),
            e.target.clone(),
            e.request_id.clone().unwrap_or_default(),
            if e.detail.is_null() { String::new() } else { e.detail.to_string() },
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let mut response = (StatusCode::OK, out).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"onramp-audit.csv\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates_or_datetimes() {
        assert_eq!(parse_time("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_time("1970-01-01T00:01"), Some(60_000));
        assert_eq!(parse_time("1970-01-01T00:00:30"), Some(30_000));
        assert_eq!(parse_time("2026-02-30"), None);
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-01-01T25:00"), None);
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
