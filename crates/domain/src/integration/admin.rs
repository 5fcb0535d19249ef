//! What operators do with an environment's vendor apps: list them all,
//! suspend one (its key is refused and its popup does not open) and
//! reinstate it.

use serde_json::json;

use crate::audit::{Actor, AuditEvent};
use crate::error::DomainError;
use crate::ids::AppId;
use crate::integration::VendorApp;
use crate::integration::service::Integration;
use crate::store::StoreError;
use crate::tenancy::Tenant;

impl Integration {
    /// Every app of the environment, oldest first, suspended ones included.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn env_apps(&self, tenant: &Tenant) -> Result<Vec<VendorApp>, DomainError> {
        Ok(self.store.env_vendor_apps(&tenant.env.id).await?)
    }

    /// Suspends (`suspend`) or reinstates an app.
    ///
    /// # Errors
    /// `NotFound("app")`.
    pub async fn set_app_suspended(&self, tenant: &Tenant, actor: &Actor, app_id: &AppId, suspend: bool) -> Result<(), DomainError> {
        let (action, at) = if suspend {
            ("vendor_app.suspended", Some(self.clock.now_ms()))
        } else {
            ("vendor_app.reinstated", None)
        };
        let audit = AuditEvent::in_tenant(actor, tenant, action, app_id.as_str()).with_detail(json!({ "app_id": app_id }));
        self.store
            .set_vendor_app_suspended(&tenant.env.id, app_id, at, &audit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => DomainError::NotFound("app"),
                other => other.into(),
            })
    }
}
