//! Alerts: the partner's own thresholds (those of
//! `PUT /v1/partners/alerts/settings`), its recent alerts, and its webhook
//! endpoints, where alerts are delivered.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::error::{DomainError, FieldCode, FieldError};
use onramp_domain::portal::Member;
use onramp_domain::usage::thresholds::{AlertSettingsChange, Change, PartnerAlertSettings};
use onramp_domain::webhooks::Owner;
use serde::Deserialize;

use super::session::{Approved, PortalCsrf, PortalForm, PortalTenant};
use super::views::{Frame, Nav, failure, refusal, when};
use crate::WebState;
use crate::views::render;

/// One threshold's field.
pub struct Threshold {
    pub field: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// The partner's own value, empty when it follows the default.
    pub own: String,
    pub default: String,
    pub effective: String,
}

#[derive(Template)]
#[template(path = "portal/alerts.html")]
struct Alerts {
    frame: Frame,
    nav: Nav,
    notice: Option<String>,
    error: Option<String>,
    thresholds: Vec<Threshold>,
    /// Time, key, kind, figures.
    alerts: Vec<(String, String, String, String)>,
    /// URL, description, event types, status.
    endpoints: Vec<(String, String, String, String)>,
}

fn thresholds(s: &PartnerAlertSettings) -> Vec<Threshold> {
    let text = |v: Option<String>| v.unwrap_or_default();
    vec![
        Threshold {
            field: "volume_factor",
            label: "Volume spike factor",
            hint: "A volume alert fires when a key's last 5 minutes exceed this many times its average 5 minutes of the hour before (1.5 to 100).",
            own: text(s.own.volume_factor.map(|v| v.to_string())),
            default: s.defaults.volume_factor.to_string(),
            effective: s.effective.volume_factor.to_string(),
        },
        Threshold {
            field: "volume_min",
            label: "Volume spike minimum",
            hint: "…and hold at least this many requests (10 to 1000000).",
            own: text(s.own.volume_min.map(|v| v.to_string())),
            default: s.defaults.volume_min.to_string(),
            effective: s.effective.volume_min.to_string(),
        },
        Threshold {
            field: "error_share",
            label: "Refused share",
            hint: "An error-rate alert fires when more than this share of a key's last 5 minutes were refused with 401 or 429 (0.05 to 1).",
            own: text(s.own.error_share.map(|v| v.to_string())),
            default: s.defaults.error_share.to_string(),
            effective: s.effective.error_share.to_string(),
        },
        Threshold {
            field: "error_min",
            label: "Refused minimum",
            hint: "…over at least this many requests (10 to 1000000).",
            own: text(s.own.error_min.map(|v| v.to_string())),
            default: s.defaults.error_min.to_string(),
            effective: s.effective.error_min.to_string(),
        },
    ]
}

async fn page(
    state: &WebState,
    tenant: &PortalTenant,
    member: &Member,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Alerts, DomainError> {
    let core = &state.core;
    let settings = core.usage().alert_settings(&member.partner).await?;
    let alerts = core.usage().partner_alerts(&member.partner, 20).await?;
    // The session is of the host's environment, which is the partner's.
    let owner = Owner::Partner(member.partner.id.clone());
    let endpoints = core.webhooks().list(&tenant.env, Some(&owner), None, 100).await?.items;
    Ok(Alerts {
        frame: Frame::of(tenant),
        nav: Nav::new(member, csrf, "alerts"),
        notice,
        error,
        thresholds: thresholds(&settings),
        alerts: alerts
            .iter()
            .map(|a| {
                (
                    when(a.created_at),
                    a.key_id.to_string(),
                    a.kind.as_str().replace('_', " "),
                    a.detail.to_string(),
                )
            })
            .collect(),
        endpoints: endpoints
            .iter()
            .map(|e| {
                let events = if e.event_types.is_empty() {
                    "all".to_owned()
                } else {
                    e.event_types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                };
                let status = match (e.enabled(), e.failing_since) {
                    (false, _) => format!(
                        "disabled{}",
                        e.disabled_reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default()
                    ),
                    (true, Some(since)) => format!("failing since {}", when(since)),
                    (true, None) => "enabled".to_owned(),
                };
                (e.url.clone(), e.description.clone(), events, status)
            })
            .collect(),
    })
}

async fn respond(
    state: &WebState,
    tenant: &PortalTenant,
    member: &Member,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    match page(state, tenant, member, csrf, notice, error).await {
        Ok(page) => render(status, &page),
        Err(e) => failure(tenant, &e),
    }
}

pub async fn list(State(state): State<WebState>, tenant: PortalTenant, Approved(member): Approved, csrf: PortalCsrf) -> Response {
    respond(&state, &tenant, &member, csrf.value, None, None).await
}

#[derive(Deserialize)]
pub struct ThresholdsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    volume_factor: String,
    #[serde(default)]
    volume_min: String,
    #[serde(default)]
    error_share: String,
    #[serde(default)]
    error_min: String,
}

csrf_field!(ThresholdsForm);

/// A field of the form: empty follows the default, else a number.
fn change<T: std::str::FromStr>(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Change<T> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Change::Reset;
    }
    match raw.parse() {
        Ok(v) => Change::Set(v),
        Err(_) => {
            errors.push(FieldError::new(field, FieldCode::InvalidType, format!("{field} must be a number")));
            Change::Keep
        }
    }
}

pub async fn save(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(member): Approved,
    PortalForm(form): PortalForm<ThresholdsForm>,
) -> Response {
    let mut errors = Vec::new();
    let change = AlertSettingsChange {
        volume_factor: change("volume_factor", &form.volume_factor, &mut errors),
        volume_min: change("volume_min", &form.volume_min, &mut errors),
        error_share: change("error_share", &form.error_share, &mut errors),
        error_min: change("error_min", &form.error_min, &mut errors),
    };
    let outcome = if errors.is_empty() {
        state
            .core
            .usage()
            .set_alert_settings(&member.actor(), &member.partner, change)
            .await
            .map(|_| ())
    } else {
        Err(DomainError::Validation(errors))
    };
    match outcome {
        Ok(()) => respond(&state, &tenant, &member, form.csrf, Some("Thresholds saved.".into()), None).await,
        Err(e) => match refusal(&e) {
            Some(why) => respond(&state, &tenant, &member, form.csrf, None, Some(why)).await,
            None => failure(&tenant, &e),
        },
    }
}
