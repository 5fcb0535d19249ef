//! What events need from storage. Events are written by the other
//! contexts' stores, with the audit event of the change they describe.

use async_trait::async_trait;

use crate::events::{Event, EventFilter};
use crate::ids::EnvId;
use crate::store::StoreError;

#[async_trait]
pub trait EventStore: Send + Sync {
    /// An environment's events in `sequence` order, as `filter` says.
    async fn events(&self, env_id: &EnvId, filter: &EventFilter) -> Result<Vec<Event>, StoreError>;
}
