//! Reading the audit log (the other services write it with their changes).

use std::sync::Arc;

use crate::audit::{AuditEvent, AuditFilter};
use crate::error::DomainError;
use crate::store::Store;

pub struct Audit {
    store: Arc<dyn Store>,
}

impl Audit {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Events matching `filter`, newest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, DomainError> {
        Ok(self.store.audit_events(filter).await?)
    }

    /// Records an action whose own write carries no audit event.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn record(&self, event: &AuditEvent) -> Result<(), DomainError> {
        Ok(self.store.append_audit(event).await?)
    }
}
