//! Partners: applications awaiting approval (approve, or reject with a
//! reason), active and suspended partners (a page at a time, by name), and one partner's keys (issue
//! with scopes and expiry, revoke), usage charts (per partner and per key)
//! and alerts.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::clock::rfc3339;
use onramp_domain::error::DomainError;
use onramp_domain::ids::{KeyId, PartnerId};
use onramp_domain::partners::{ApiKey, Partner, PartnerStatus, Scope};
use onramp_domain::usage::buckets::{UsageFilter, UsagePeriod};
use serde::Deserialize;

use super::session::{ConsoleCsrf, Operator};
use super::usage::UsageView;
use super::views::{Nav, domain_failure, link};
use crate::WebState;
use crate::views::render;

pub mod actions;

/// A time as the tables show it (UTC, to the minute).
pub(super) fn when(ms: i64) -> String {
    let full = rfc3339(ms);
    full.get(..16).unwrap_or(&full).replace('T', " ")
}

struct PartnerRow {
    id: String,
    name: String,
    instance: String,
    environment: &'static str,
    status: &'static str,
    since: String,
}

#[derive(Template)]
#[template(path = "console/partners.html")]
struct List {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    /// Link, label, selected, count.
    statuses: Vec<(String, &'static str, bool, u64)>,
    status: &'static str,
    status_label: &'static str,
    /// The name filter as given.
    q: String,
    rows: Vec<PartnerRow>,
    /// The link to the next page, with the filters.
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    #[serde(default)]
    q: String,
    cursor: Option<String>,
    limit: Option<u32>,
}

const TABS: [(PartnerStatus, &str, &str); 3] = [
    (PartnerStatus::Pending, "pending", "awaiting approval"),
    (PartnerStatus::Active, "active", "active"),
    (PartnerStatus::Suspended, "suspended", "suspended or rejected"),
];

/// Rows a page without `?limit=` (1 to 200).
const PAGE: u32 = 50;

/// One status at a time (awaiting approval first), 50 a page (`?limit=`,
/// `?cursor=`), found by a name substring.
pub async fn list(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Query(query): Query<ListQuery>,
) -> Response {
    let chosen = TABS
        .iter()
        .find(|t| Some(t.1) == query.status.as_deref())
        .copied()
        .unwrap_or(TABS[0]);
    let q = query.q.trim();
    let limit = query.limit.unwrap_or(PAGE).clamp(1, 200);
    let partners = state.core.partners();
    let (page, counts) = match (
        partners.page(Some(chosen.0), q, query.cursor.as_deref(), limit).await,
        partners.counts().await,
    ) {
        (Ok(page), Ok(counts)) => (page, counts),
        (Err(e), _) | (_, Err(e)) => return domain_failure(&e),
    };
    let limit_param = query.limit.map(|_| limit.to_string()).unwrap_or_default();
    let count = |status| counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
    let nav = Nav::new(&console, csrf.value, "partners");
    let page = List {
        csrf: nav.csrf,
        email: nav.email,
        role: nav.role,
        current: nav.current,
        statuses: TABS
            .iter()
            .map(|t| (link("/partners", &[("status", t.1), ("q", q)]), t.2, t.0 == chosen.0, count(t.0)))
            .collect(),
        status: chosen.1,
        status_label: chosen.2,
        q: q.to_owned(),
        rows: page
            .items
            .iter()
            .map(|p| PartnerRow {
                id: p.id.to_string(),
                name: p.name.clone(),
                instance: p.platform_id.to_string(),
                environment: p.environment.as_str(),
                status: p.status.as_str(),
                since: when(p.updated_at),
            })
            .collect(),
        next: page.next_cursor.map(|cursor| {
            link(
                "/partners",
                &[("status", chosen.1), ("q", q), ("limit", &limit_param), ("cursor", &cursor)],
            )
        }),
    };
    render(StatusCode::OK, &page)
}

pub(super) struct KeyRow {
    id: String,
    scopes: String,
    created: String,
    expires: String,
    last_used: String,
    state: &'static str,
    live: bool,
}

fn key_row(k: &ApiKey, now: i64) -> KeyRow {
    let state = if k.revoked_at.is_some() {
        "revoked"
    } else if k.retires_at.is_some_and(|r| r <= now) || k.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else if k.retires_at.is_some() {
        "rotated (grace period)"
    } else {
        "live"
    };
    let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
    KeyRow {
        id: k.key_id.to_string(),
        scopes: scopes.join(", "),
        created: when(k.created_at),
        expires: k.expires_at.map_or_else(|| "never".into(), when),
        last_used: k.last_used_at.map_or_else(|| "never".into(), when),
        state,
        live: k.is_live(now),
    }
}

#[derive(Template)]
#[template(path = "console/partner.html")]
struct Detail {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    admin: bool,
    notice: Option<String>,
    new_key: Option<String>,
    invite_link: Option<String>,
    /// Contact name, email, intended use.
    application: Option<(String, String, String)>,
    /// Email, name, since, user id, has an authenticator.
    contacts: Vec<(String, String, String, String, bool)>,
    id: String,
    name: String,
    instance: String,
    environment: &'static str,
    status: &'static str,
    keys: Vec<KeyRow>,
    /// Every scope and whether the partner is allowed it.
    allowance: Vec<(&'static str, bool)>,
    /// The scopes a key may be issued with: the allowed ones.
    scopes: Vec<&'static str>,
    period: &'static str,
    selected_key: String,
    alerts: Vec<(String, String, String, String)>,
    chart: crate::charts::Chart,
    periods: Vec<(&'static str, String, bool)>,
    usage_caption: String,
    bucket_label: &'static str,
    usage_rows: Vec<crate::charts::UsageTableRow>,
    usage_total: crate::charts::UsageTableRow,
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    period: Option<String>,
    key: Option<String>,
    done: Option<String>,
}

/// What a detail page shows besides the partner: a notice, a new key.
#[derive(Default)]
pub(super) struct Shown {
    pub notice: Option<String>,
    pub new_key: Option<String>,
    pub invite_link: Option<String>,
}

pub async fn detail(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let notice = q.done.as_deref().map(|d| match d {
        "approved" => "Approved: the partner's keys work now.".to_owned(),
        "suspended" => "Suspended: the partner's keys are refused now.".to_owned(),
        "rejected" => "Application rejected.".to_owned(),
        "revoked" => "Key revoked.".to_owned(),
        "scopes" => "Allowed scopes saved: keys are issued within them, and scopes taken away are refused from now on.".to_owned(),
        "authenticator_reset" => "Authenticator reset: the person signs in with the password alone until they set one up again.".to_owned(),
        _ => "Done.".to_owned(),
    });
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    detail_page(&state, &console, csrf.value, &PartnerId::new(id), &q, shown).await
}

pub(super) async fn detail_page(
    state: &WebState,
    console: &onramp_domain::operators::sessions::Console,
    csrf: String,
    id: &PartnerId,
    q: &DetailQuery,
    shown: Shown,
) -> Response {
    let partners = state.core.partners();
    let partner = match partners.partner(id).await {
        Ok(p) => p,
        Err(e) => return domain_failure(&e),
    };
    let keys = match partners.api_keys(&partner.id).await {
        Ok(k) => k,
        Err(e) => return domain_failure(&e),
    };
    let period = q.period.as_deref().and_then(UsagePeriod::parse).unwrap_or(UsagePeriod::Last7Days);
    let selected = q.key.as_deref().filter(|k| keys.iter().any(|x| x.key_id.as_str() == *k));
    let usage = match usage_of(state, &partner, selected, period).await {
        Ok(u) => u,
        Err(e) => return domain_failure(&e),
    };
    let alerts = match state.core.usage().partner_alerts(&partner, 20).await {
        Ok(list) => list
            .into_iter()
            .map(|a| {
                (
                    when(a.created_at),
                    a.key_id.to_string(),
                    format!("{:?}", a.kind),
                    a.detail.to_string(),
                )
            })
            .collect(),
        Err(e) => return domain_failure(&e),
    };
    let portal = state.core.portal();
    let (application, contacts) = match (portal.application(&partner.id).await, portal.users_of(&partner.id).await) {
        (Ok(application), Ok(users)) => (application, users),
        (Err(e), _) | (_, Err(e)) => return domain_failure(&e),
    };
    let now = onramp_domain::clock::now_ms();
    let nav = Nav::new(console, csrf, "partners");
    let page = Detail {
        csrf: nav.csrf,
        email: nav.email,
        role: nav.role,
        current: nav.current,
        admin: console.operator.is_admin(),
        notice: shown.notice,
        new_key: shown.new_key,
        invite_link: shown.invite_link,
        application: application.map(|a| (a.contact_name, a.contact_email, a.intended_use)),
        contacts: contacts
            .iter()
            .map(|u| {
                (
                    u.email.clone(),
                    u.name.clone(),
                    when(u.created_at),
                    u.id.to_string(),
                    u.has_authenticator(),
                )
            })
            .collect(),
        id: partner.id.to_string(),
        name: partner.name.clone(),
        instance: partner.platform_id.to_string(),
        environment: partner.environment.as_str(),
        status: partner.status.as_str(),
        keys: keys.iter().map(|k| key_row(k, now)).collect(),
        allowance: Scope::ALL.iter().map(|s| (s.as_str(), partner.allows(*s))).collect(),
        scopes: partner.allowed_scopes.iter().map(|s| s.as_str()).collect(),
        period: period.as_str(),
        selected_key: selected.unwrap_or_default().to_owned(),
        alerts,
        chart: usage.chart,
        periods: usage.periods,
        usage_caption: usage.caption,
        bucket_label: usage.bucket_label,
        usage_rows: usage.rows,
        usage_total: usage.total,
    };
    render(StatusCode::OK, &page)
}

async fn usage_of(state: &WebState, partner: &Partner, key: Option<&str>, period: UsagePeriod) -> Result<UsageView, DomainError> {
    let mut filter = UsageFilter::of_partner(partner);
    if let Some(key) = key {
        filter = filter.key(KeyId::new(key));
    }
    let series = state.core.usage().usage_chart(&filter, period).await?;
    let base = format!("/partners/{}", partner.id);
    let key_param = key.map(|k| format!("&key={k}")).unwrap_or_default();
    Ok(UsageView::of(
        &series,
        &format!("{} of {}", key.unwrap_or("all keys"), partner.name),
        |p| format!("{base}?period={}{key_param}", p.as_str()),
    ))
}
