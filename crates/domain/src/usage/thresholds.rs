//! When a key's traffic is anomalous: the thresholds, a partner's own
//! choice of them (`PUT /v1/partners/alerts/settings`), and the test itself.
//! The cooldown and the delivery of alerts stay deployment-wide.

use std::ops::RangeInclusive;

use serde_json::json;

use crate::error::{DomainError, FieldCode, FieldError};
use crate::usage::alerts::AlertPolicy;
use crate::usage::{AlertKind, KeyActivity};

pub(crate) const MINUTE_MS: i64 = 60_000;
/// The detection window and the trailing period it is compared with.
pub(crate) const WINDOW_MS: i64 = 5 * MINUTE_MS;
pub(crate) const TRAILING_MS: i64 = 60 * MINUTE_MS;

/// What a partner may choose: wide enough for a quiet integration or a
/// bulk importer, narrow enough that no partner silences its alerts
/// (a factor of 100) or floods them (a spike of 10 requests).
pub const VOLUME_FACTOR_RANGE: RangeInclusive<f64> = 1.5..=100.0;
pub const MINIMUM_RANGE: RangeInclusive<i64> = 10..=1_000_000;
pub const ERROR_SHARE_RANGE: RangeInclusive<f64> = 0.05..=1.0;

/// The thresholds that decide whether a key's recent traffic is anomalous.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Volume spike: the last 5 minutes exceed this many times the average
    /// 5 minutes of the trailing hour…
    pub volume_factor: f64,
    /// …and hold at least this many requests.
    pub volume_min: i64,
    /// Error rate: the share of 401 and 429 answers in the last 5 minutes
    /// exceeds this…
    pub error_share: f64,
    /// …over at least this many requests.
    pub error_min: i64,
}

impl AlertPolicy {
    /// The deployment's thresholds: those of every partner that chose none.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            volume_factor: self.volume_factor,
            volume_min: self.volume_min,
            error_share: self.error_share,
            error_min: self.error_min,
        }
    }
}

/// A partner's own thresholds as stored; `None` follows the deployment's,
/// so a later change of the deployment's default reaches it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AlertSettings {
    pub volume_factor: Option<f64>,
    pub volume_min: Option<i64>,
    pub error_share: Option<f64>,
    pub error_min: Option<i64>,
}

impl AlertSettings {
    /// The thresholds in force: the partner's own where it chose, else `defaults`.
    pub fn over(&self, defaults: &Thresholds) -> Thresholds {
        Thresholds {
            volume_factor: self.volume_factor.unwrap_or(defaults.volume_factor),
            volume_min: self.volume_min.unwrap_or(defaults.volume_min),
            error_share: self.error_share.unwrap_or(defaults.error_share),
            error_min: self.error_min.unwrap_or(defaults.error_min),
        }
    }
}

/// What a change does to one threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Change<T> {
    /// Left as it is (the field was left out).
    #[default]
    Keep,
    /// Back to following the deployment's default.
    Reset,
    Set(T),
}

impl<T: Copy + Into<serde_json::Value>> Change<T> {
    /// How the audit event records it: the new value, `null` for a reset.
    fn audited(self) -> Option<serde_json::Value> {
        match self {
            Change::Keep => None,
            Change::Reset => Some(serde_json::Value::Null),
            Change::Set(v) => Some(v.into()),
        }
    }
}

/// A change of a partner's thresholds, field by field.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AlertSettingsChange {
    pub volume_factor: Change<f64>,
    pub volume_min: Change<i64>,
    pub error_share: Change<f64>,
    pub error_min: Change<i64>,
}

impl AlertSettingsChange {
    /// Whether the change leaves every threshold as it is.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Checks every value against its bounds, all at once.
    ///
    /// # Errors
    /// `Validation` with one `out_of_range` error per value out of bounds.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        let mut check = |field: &str, ok: bool, bounds: &str| {
            if !ok {
                errors.push(FieldError::new(field, FieldCode::OutOfRange, format!("{field} must be {bounds}")));
            }
        };
        let within = |c: Change<f64>, r: &RangeInclusive<f64>| !matches!(c, Change::Set(v) if !r.contains(&v));
        let within_int = |c: Change<i64>, r: &RangeInclusive<i64>| !matches!(c, Change::Set(v) if !r.contains(&v));
        check(
            "volume_factor",
            within(self.volume_factor, &VOLUME_FACTOR_RANGE),
            "between 1.5 and 100",
        );
        check(
            "volume_min",
            within_int(self.volume_min, &MINIMUM_RANGE),
            "between 10 and 1000000 requests",
        );
        check("error_share", within(self.error_share, &ERROR_SHARE_RANGE), "between 0.05 and 1");
        check(
            "error_min",
            within_int(self.error_min, &MINIMUM_RANGE),
            "between 10 and 1000000 requests",
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(errors))
        }
    }

    /// The audit detail: each changed field with its new value (`null`: reset).
    pub(crate) fn audit_detail(&self) -> serde_json::Value {
        let fields = [
            ("volume_factor", self.volume_factor.audited()),
            ("volume_min", self.volume_min.audited()),
            ("error_share", self.error_share.audited()),
            ("error_min", self.error_min.audited()),
        ];
        let changed: serde_json::Map<_, _> = fields.into_iter().filter_map(|(name, v)| v.map(|v| (name.to_owned(), v))).collect();
        json!({ "changed": changed })
    }
}

/// A partner's thresholds as it sees them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartnerAlertSettings {
    /// What the detector uses for the partner's keys.
    pub effective: Thresholds,
    /// The deployment's, which apply where the partner chose none.
    pub defaults: Thresholds,
    /// What the partner chose itself.
    pub own: AlertSettings,
}

/// The anomalies of one key's traffic under `t`, with their figures.
pub(crate) fn anomalies(a: &KeyActivity, t: &Thresholds) -> Vec<(AlertKind, serde_json::Value)> {
    let mut found = Vec::new();
    let trailing_average = a.trailing as f64 / (TRAILING_MS / WINDOW_MS) as f64;
    if a.recent >= t.volume_min && a.recent as f64 > t.volume_factor * trailing_average {
        found.push((
            AlertKind::VolumeSpike,
            json!({ "requests_last_5_minutes": a.recent, "trailing_hour_average_per_5_minutes": trailing_average }),
        ));
    }
    let share = a.recent_denied as f64 / a.recent.max(1) as f64;
    if a.recent >= t.error_min && share > t.error_share {
        found.push((
            AlertKind::ErrorRate,
            json!({ "requests_last_5_minutes": a.recent, "denied_401_429": a.recent_denied, "share": share }),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(recent: i64, denied: i64, trailing: i64) -> KeyActivity {
        KeyActivity {
            key_id: "k".into(),
            partner_id: "p".into(),
            env_id: "e".into(),
            recent,
            recent_denied: denied,
            trailing,
        }
    }

    #[test]
    fn a_partners_own_thresholds_override_only_what_it_chose() {
        let defaults = AlertPolicy::default().thresholds();
        let own = AlertSettings {
            volume_min: Some(10),
            ..Default::default()
        };
        let t = own.over(&defaults);
        assert_eq!(t.volume_min, 10);
        assert_eq!((t.volume_factor, t.error_share, t.error_min), (5.0, 0.5, 50));
        let quiet = activity(20, 0, 0);
        assert!(anomalies(&quiet, &defaults).is_empty(), "20 requests are below the default 100");
        assert_eq!(anomalies(&quiet, &t)[0].0, AlertKind::VolumeSpike);
    }

    #[test]
    fn out_of_bounds_values_get_one_error_each_and_bounds_are_inclusive() {
        let bad = AlertSettingsChange {
            volume_factor: Change::Set(1.4),
            volume_min: Change::Set(9),
            error_share: Change::Set(1.01),
            error_min: Change::Set(1_000_001),
        };
        let Err(DomainError::Validation(errors)) = bad.validate() else {
            panic!("refused")
        };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("volume_factor", FieldCode::OutOfRange),
                ("volume_min", FieldCode::OutOfRange),
                ("error_share", FieldCode::OutOfRange),
                ("error_min", FieldCode::OutOfRange),
            ]
        );
        for (factor, min, share) in [(1.5, 10, 0.05), (100.0, 1_000_000, 1.0)] {
            let edge = AlertSettingsChange {
                volume_factor: Change::Set(factor),
                volume_min: Change::Set(min),
                error_share: Change::Set(share),
                error_min: Change::Set(min),
            };
            edge.validate().expect("bounds are inclusive");
        }
        let reset = AlertSettingsChange {
            volume_min: Change::Reset,
            ..Default::default()
        };
        reset.validate().expect("a reset needs no value");
        assert_eq!(reset.audit_detail(), json!({ "changed": { "volume_min": null } }));
    }
}
