//! A partner's own alert thresholds: reading and changing them, and the
//! detector's view of them for one pass.

use std::collections::HashMap;

use crate::audit::{Actor, AuditEvent};
use crate::error::DomainError;
use crate::ids::{EnvId, PartnerId};
use crate::partners::Partner;
use crate::usage::KeyActivity;
use crate::usage::service::Usage;
use crate::usage::thresholds::{AlertSettings, AlertSettingsChange, PartnerAlertSettings, Thresholds};

/// The thresholds of every key of one detection pass.
pub(super) struct ActiveThresholds {
    defaults: Thresholds,
    own: HashMap<(EnvId, PartnerId), AlertSettings>,
}

impl ActiveThresholds {
    /// Those of `a`'s partner: its own where it chose, the deployment's elsewhere.
    pub(super) fn of(&self, a: &KeyActivity) -> Thresholds {
        // Keyed by owned ids; a pass holds a few partners, so the clones are cheap.
        self.own
            .get(&(a.env_id.clone(), a.partner_id.clone()))
            .map_or(self.defaults, |s| s.over(&self.defaults))
    }
}

impl Usage {
    /// A partner's thresholds: what applies, the deployment's, and its own choice.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn alert_settings(&self, partner: &Partner) -> Result<PartnerAlertSettings, DomainError> {
        let own = self.store.alert_settings(&partner.env_id, &partner.id).await?;
        Ok(self.view(own))
    }

    /// Changes a partner's thresholds (left-out fields keep their value),
    /// audited in the same transaction. The change applies from the next
    /// detection pass on every node.
    ///
    /// # Errors
    /// `Validation` with an error per value out of bounds, and nothing
    /// changed; storage failures.
    pub async fn set_alert_settings(
        &self,
        actor: &Actor,
        partner: &Partner,
        change: AlertSettingsChange,
    ) -> Result<PartnerAlertSettings, DomainError> {
        change.validate()?;
        if change.is_empty() {
            return self.alert_settings(partner).await;
        }
        let audit = AuditEvent::new(
            actor,
            &partner.platform_id,
            Some(partner.environment.as_str()),
            "alert_settings.updated",
            partner.id.as_str(),
        )
        .with_detail(change.audit_detail());
        let now = self.config.clock.now_ms();
        let own = self
            .store
            .change_alert_settings(&partner.env_id, &partner.id, &change, now, &audit)
            .await?;
        Ok(self.view(own))
    }

    fn view(&self, own: AlertSettings) -> PartnerAlertSettings {
        let defaults = self.config.alerts.thresholds();
        PartnerAlertSettings {
            effective: own.over(&defaults),
            defaults,
            own,
        }
    }

    /// The thresholds for `activity`'s keys: one query for all their
    /// partners' own settings (none when there is no activity).
    pub(super) async fn thresholds_of_active(
        &self,
        activity: &[KeyActivity],
        since: crate::clock::Millis,
    ) -> Result<ActiveThresholds, DomainError> {
        let own = if activity.is_empty() {
            HashMap::new()
        } else {
            self.store
                .active_alert_settings(since)
                .await?
                .into_iter()
                .map(|(env, partner, settings)| ((env, partner), settings))
                .collect()
        };
        Ok(ActiveThresholds {
            defaults: self.config.alerts.thresholds(),
            own,
        })
    }
}
