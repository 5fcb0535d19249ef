//! Revoked access tokens as every node sees them: the environment's set of
//! revoked `jti`s, read at most once per settings ttl (one query per
//! environment and node, not per request), so a revocation reaches every
//! node within the ttl and the node that made it at once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::app::TtlCache;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::EnvId;
use crate::store::Store;

pub struct RevokedTokens {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sets: TtlCache<EnvId, Arc<HashSet<String>>>,
}

impl RevokedTokens {
    pub(crate) fn new(store: Arc<dyn Store>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            sets: TtlCache::new(ttl, Arc::clone(&clock)),
            store,
            clock,
        }
    }

    /// Whether the token `jti` of `env_id` is revoked, as this node last read.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn is_revoked(&self, env_id: &EnvId, jti: &str) -> Result<bool, DomainError> {
        let set = self
            .sets
            .get_or_load(env_id, async || {
                let live = self.store.revoked_jtis(env_id, self.clock.now_ms()).await?;
                Ok::<_, DomainError>(Arc::new(live.into_iter().collect()))
            })
            .await?;
        Ok(set.contains(jti))
    }

    /// Forgets the environment's set, so the next check reads it afresh.
    pub(crate) fn forget(&self, env_id: &EnvId) {
        self.sets.remove(env_id);
    }
}
