//! The periodic purge.

use std::sync::Arc;

use crate::app::CoreConfig;
use crate::error::DomainError;
use crate::idempotency::service::KEY_LIFETIME;
use crate::retention::{PurgeBefore, Purged};
use crate::store::Store;

/// Purges what has outlived its use (the server calls it every ten minutes).
pub struct Retention {
    store: Arc<dyn Store>,
    config: Arc<CoreConfig>,
}

impl Retention {
    pub(crate) fn new(store: Arc<dyn Store>, config: Arc<CoreConfig>) -> Self {
        Self { store, config }
    }

    /// Deletes expired rows and those past their retention, as of now.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn purge(&self) -> Result<Purged, DomainError> {
        let now = self.config.clock.now_ms();
        let age = |d: std::time::Duration| now - i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let before = PurgeBefore {
            expired: now,
            idempotency: age(KEY_LIFETIME),
            usage: age(self.config.retention.usage),
            alerts: age(self.config.retention.alerts),
            events: age(self.config.retention.events),
        };
        Ok(self.store.purge(&before).await?)
    }
}
