//! The event feed: an environment's events in order, for integrators who
//! poll, or who catch up after an outage of their webhook receiver.

use std::sync::Arc;

use crate::app::Page;
use crate::error::DomainError;
use crate::events::{Event, EventFilter};
use crate::store::Store;
use crate::tenancy::Tenant;

/// Reads the event feed.
pub struct Events {
    store: Arc<dyn Store>,
}

impl Events {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// A page of the feed; its cursor is the last sequence it holds, to
    /// pass back as `after` (none for an empty page: poll again with the
    /// same `after`).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn feed(&self, tenant: &Tenant, filter: &EventFilter) -> Result<Page<Event>, DomainError> {
        let items = self.store.events(&tenant.env.id, filter).await?;
        let next_cursor = items.last().map(|e| e.sequence.to_string());
        Ok(Page { items, next_cursor })
    }
}
