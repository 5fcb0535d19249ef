//! What the audit log needs from storage. Events are written by the other
//! contexts' stores, in the transaction of the change they record.

use async_trait::async_trait;

use crate::audit::{AuditEvent, AuditFilter};
use crate::store::StoreError;

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;
    /// Records an action that changes no row of its own (a webhook resent
    /// by an operator), in a transaction of its own.
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
}
