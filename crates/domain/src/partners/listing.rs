//! The console's list of partners: a page at a time, by status and name.

use crate::app::Page;
use crate::error::DomainError;
use crate::partners::service::Partners;
use crate::partners::{Partner, PartnerStatus};

impl Partners {
    /// Up to `limit` partners after `cursor` (creation order) of `status`
    /// (or any), whose name contains `name` (case-insensitive).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn page(
        &self,
        status: Option<PartnerStatus>,
        name: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Partner>, DomainError> {
        let limit = limit.clamp(1, 200);
        let mut items = self
            .store
            .partners_page(status, name.trim(), cursor.unwrap_or_default(), limit + 1)
            .await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = items.last().filter(|_| more).map(|p| p.id.to_string());
        Ok(Page { items, next_cursor })
    }

    /// How many partners there are of each status, one entry per status.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn counts(&self) -> Result<Vec<(PartnerStatus, u64)>, DomainError> {
        let counted = self.store.partner_counts().await?;
        Ok([PartnerStatus::Pending, PartnerStatus::Active, PartnerStatus::Suspended]
            .into_iter()
            .map(|status| (status, counted.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n)))
            .collect())
    }
}
