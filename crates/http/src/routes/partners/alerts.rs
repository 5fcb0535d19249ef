//! A partner's own usage-alert thresholds (scope `webhooks:manage`, which
//! also covers the partner's event feed, where its `usage.alert`s arrive).

use axum::extract::State;
use onramp_domain::usage::thresholds::{AlertSettingsChange, Change, PartnerAlertSettings, Thresholds};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::extract::{Json, PartnerAuthorized, WebhooksManage};
use crate::openapi::PartnerRefusals;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// Left-out fields keep their value; `null` returns a field to the deployment's default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertSettingsRequest {
    /// Volume spike: the last 5 minutes exceed this many times the trailing hour's 5-minute average; 1.5 to 100.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, minimum = 1.5, maximum = 100)]
    pub volume_factor: Option<Option<f64>>,
    /// Fewest requests in those 5 minutes for a volume alert; 10 to 1000000.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 10, maximum = 1000000)]
    pub volume_min: Option<Option<i64>>,
    /// Error rate: more than this share of the last 5 minutes' answers are 401 or 429; 0.05 to 1.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, minimum = 0.05, maximum = 1)]
    pub error_share: Option<Option<f64>>,
    /// Fewest requests in those 5 minutes for an error-rate alert; 10 to 1000000.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 10, maximum = 1000000)]
    pub error_min: Option<Option<i64>>,
}

/// A field that is present, `null` or not: `Some(None)` is an explicit `null`
/// (a left-out field is the `default`, `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn change<T>(field: Option<Option<T>>) -> Change<T> {
    match field {
        None => Change::Keep,
        Some(None) => Change::Reset,
        Some(Some(v)) => Change::Set(v),
    }
}

/// Alert thresholds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertThresholds {
    pub volume_factor: f64,
    pub volume_min: i64,
    pub error_share: f64,
    pub error_min: i64,
}

impl From<Thresholds> for AlertThresholds {
    fn from(t: Thresholds) -> Self {
        Self {
            volume_factor: t.volume_factor,
            volume_min: t.volume_min,
            error_share: t.error_share,
            error_min: t.error_min,
        }
    }
}

/// The thresholds in force for the partner's keys.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertSettingsResponse {
    pub volume_factor: f64,
    pub volume_min: i64,
    pub error_share: f64,
    pub error_min: i64,
    /// The fields the partner set itself; the others follow `defaults`.
    pub custom: Vec<String>,
    /// The deployment's thresholds.
    pub defaults: AlertThresholds,
}

impl From<PartnerAlertSettings> for AlertSettingsResponse {
    fn from(s: PartnerAlertSettings) -> Self {
        let own = s.own;
        let custom = [
            ("volumeFactor", own.volume_factor.is_some()),
            ("volumeMin", own.volume_min.is_some()),
            ("errorShare", own.error_share.is_some()),
            ("errorMin", own.error_min.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name.to_owned())
        .collect();
        Self {
            volume_factor: s.effective.volume_factor,
            volume_min: s.effective.volume_min,
            error_share: s.effective.error_share,
            error_min: s.effective.error_min,
            custom,
            defaults: s.defaults.into(),
        }
    }
}

/// The domain names fields in snake_case; this API family in camelCase.
fn camel_case_fields(mut e: ApiError) -> ApiError {
    for f in &mut e.errors {
        let camel = camel_case(&f.field);
        f.message = f.message.replace(&f.field, &camel);
        if let Some(detail) = &mut e.detail {
            *detail = detail.replace(&f.field, &camel);
        }
        f.field = camel;
    }
    e
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// This partner's alert thresholds: the values in force, which it set, and the deployment's defaults.
#[utoipa::path(
    get, path = "/v1/partners/alerts/settings", operation_id = "partner_alert_settings", tag = "partners",
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "The thresholds in force", body = AlertSettingsResponse),
        PartnerRefusals,
    )
)]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: PartnerAuthorized<WebhooksManage>,
) -> ApiResult<Json<AlertSettingsResponse>> {
    Ok(Json(state.core.usage().alert_settings(caller.partner()).await?.into()))
}

/// Set this partner's alert thresholds for its keys' `usage.alert`s (the cooldown stays the deployment's).
///
/// A left-out field keeps its value and `null` returns it to the default; a value out of
/// bounds is refused with an error for each such field, and nothing changes.
#[utoipa::path(
    put, path = "/v1/partners/alerts/settings", operation_id = "partner_set_alert_settings", tag = "partners",
    request_body = AlertSettingsRequest, security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "The thresholds now in force", body = AlertSettingsResponse),
        (status = 400, description = "A value out of bounds (`validation_failed`, each field `out_of_range`), or invalid input (`invalid_json`, `unknown_field`)", body = Problem, content_type = "application/problem+json"),
        PartnerRefusals,
    )
)]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: PartnerAuthorized<WebhooksManage>,
    Json(body): Json<AlertSettingsRequest>,
) -> ApiResult<Json<AlertSettingsResponse>> {
    let changes = AlertSettingsChange {
        volume_factor: change(body.volume_factor),
        volume_min: change(body.volume_min),
        error_share: change(body.error_share),
        error_min: change(body.error_min),
    };
    let settings = state
        .core
        .usage()
        .set_alert_settings(&caller.actor(), caller.partner(), changes)
        .await
        .map_err(|e| camel_case_fields(e.into()))?;
    Ok(Json(settings.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_and_messages_are_camel_case() {
        assert_eq!(camel_case("volume_factor"), "volumeFactor");
        assert_eq!(camel_case("error_min"), "errorMin");
        let bad = AlertSettingsChange {
            error_share: Change::Set(2.0),
            ..Default::default()
        };
        let e = camel_case_fields(bad.validate().unwrap_err().into());
        assert_eq!(e.errors[0].field, "errorShare");
        assert!(e.errors[0].message.starts_with("errorShare "), "{}", e.errors[0].message);
        assert!(e.detail.unwrap().starts_with("errorShare "));
    }

    #[test]
    fn null_resets_and_a_left_out_field_keeps() {
        let body: AlertSettingsRequest = crate::extract::parse_json(br#"{"volumeMin": null, "errorMin": 20}"#).unwrap();
        assert_eq!(change(body.volume_min), Change::Reset);
        assert_eq!(change(body.error_min), Change::Set(20));
        assert_eq!(change(body.volume_factor), Change::<f64>::Keep);
    }
}
