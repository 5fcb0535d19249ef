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
    /// pass back as `after`. Only a full page has a cursor: a short one is
    /// the end of the feed for now (poll again with the last sequence seen).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn feed(&self, tenant: &Tenant, filter: &EventFilter) -> Result<Page<Event>, DomainError> {
        let items = self.store.events(&tenant.env.id, filter).await?;
        let full = items.len() == filter.limit as usize;
        let next_cursor = items.last().filter(|_| full).map(|e| e.sequence.to_string());
        Ok(Page { items, next_cursor })
    }
}
