//! A partner's own usage, by minute, hour or day.

use axum::extract::State;
use onramp_domain::DomainError;
use onramp_domain::clock::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{Json, PartnerAuthorized, Query, UsageRead};
use crate::openapi::PartnerRefusals;
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// RFC 3339 start (inclusive) [default: `to` minus 24 hours].
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339 end (exclusive) [default: now].
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// `minute`, `hour` or `day` [default: hour].
    #[param(pattern = "^(minute|hour|day)$")]
    pub granularity: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageBucket {
    pub start: String,
    pub requests: i64,
    /// Requests by status class: `2xx`, `3xx`, `4xx`, `5xx`.
    pub by_status: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageResponse {
    pub partner_id: String,
    pub from: String,
    pub to: String,
    pub granularity: String,
    pub data: Vec<UsageBucket>,
}

fn parse_time(field: &str, raw: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| ApiError::new(ErrorCode::InvalidQuery, format!("{field} must be an RFC 3339 timestamp")))
}

/// `from`, `to` and `granularity` are query parameters, so the domain's
/// refusal of the range they make is an invalid query; any other failure (an
/// outage, a bug) keeps its own status.
fn usage_error(e: DomainError) -> ApiError {
    let invalid_range = matches!(e, DomainError::Validation(_));
    let mut api = ApiError::from(e);
    if invalid_range {
        api.code = ErrorCode::InvalidQuery;
    }
    api
}

/// The partner's own request counts per minute, hour or day (all its keys).
///
/// Counts reach the database every few seconds, so the latest seconds may be missing.
#[utoipa::path(
    get, path = "/v1/partners/usage", operation_id = "partner_usage", tag = "partners", params(UsageParams), security(("api_key" = ["usage:read"])),
    responses(
        (status = 200, description = "The series, empty buckets included", body = UsageResponse),
        PartnerRefusals,
    )
)]
pub async fn usage(
    State(state): State<AppState>,
    caller: PartnerAuthorized<UsageRead>,
    Query(params): Query<UsageParams>,
) -> ApiResult<Json<UsageResponse>> {
    use onramp_domain::usage::service::Granularity;
    let granularity = match params.granularity.as_deref().unwrap_or("hour") {
        "minute" => Granularity::Minute,
        "hour" => Granularity::Hour,
        "day" => Granularity::Day,
        _ => return Err(ApiError::new(ErrorCode::InvalidQuery, "granularity must be minute, hour or day")),
    };
    let to = match params.to.as_deref() {
        Some(raw) => parse_time("to", raw)?,
        None => onramp_domain::clock::now_ms(),
    };
    let from = match params.from.as_deref() {
        Some(raw) => parse_time("from", raw)?,
        None => to - 24 * 3600 * 1000,
    };
    let points = state
        .core
        .usage()
        .usage_series(caller.partner(), from, to, granularity)
        .await
        .map_err(usage_error)?;
    let data = points
        .into_iter()
        .map(|p| UsageBucket {
            start: rfc3339(p.start),
            requests: p.requests,
            by_status: [
                ("2xx", p.status_2xx),
                ("3xx", p.status_3xx),
                ("4xx", p.status_4xx),
                ("5xx", p.status_5xx),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        })
        .collect();
    Ok(Json(UsageResponse {
        partner_id: caller.partner().id.to_string(),
        from: rfc3339(from),
        to: rfc3339(to),
        granularity: params.granularity.unwrap_or_else(|| "hour".into()),
        data,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use onramp_domain::FieldCode;

    #[test]
    fn only_a_refused_range_is_an_invalid_usage_query() {
        let range = DomainError::invalid("to", FieldCode::InvalidRange, "`to` must be after `from`");
        assert_eq!(usage_error(range).code, ErrorCode::InvalidQuery);
        assert_eq!(usage_error(DomainError::Unavailable("down".into())).code, ErrorCode::Unavailable);
        assert_eq!(usage_error(DomainError::Internal("bug".into())).code, ErrorCode::Internal);
        assert_eq!(usage_error(DomainError::Forbidden("scope")).code, ErrorCode::Forbidden);
    }
}
