//! The console's list of instances: a page at a time, found by platform id
//! or name.

use crate::app::Page;
use crate::error::DomainError;
use crate::tenancy::Instance;
use crate::tenancy::service::Tenancy;

impl Tenancy {
    /// Up to `limit` instances after `cursor` (a platform id), by platform
    /// id, whose platform id or name contains `search` (case-insensitive).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn instances_page(&self, search: &str, cursor: Option<&str>, limit: u32) -> Result<Page<Instance>, DomainError> {
        let limit = limit.clamp(1, 200);
        let mut items = self
            .store
            .instances_page(search.trim(), cursor.unwrap_or_default(), limit + 1)
            .await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = items.last().filter(|_| more).map(|i| i.platform_id.to_string());
        Ok(Page { items, next_cursor })
    }
}
