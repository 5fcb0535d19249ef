//! What retention needs from storage.

use async_trait::async_trait;

use crate::retention::{PurgeBefore, Purged};
use crate::store::StoreError;

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Deletes every row past its cutoff.
    async fn purge(&self, before: &PurgeBefore) -> Result<Purged, StoreError>;
}
