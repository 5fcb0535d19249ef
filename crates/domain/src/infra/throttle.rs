//! Failed-login throttling (CONVENTIONS §5): after `free_failures` failures
//! for one username within the window, every further attempt for it waits
//! with exponential backoff, whatever the password.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;

use crate::clock::{Clock, Millis};
use crate::error::DomainError;

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub free_failures: u32,
    pub window: Duration,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 5,
            window: Duration::from_secs(15 * 60),
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Millis,
    blocked_until: Option<Millis>,
}

/// Above this many tracked usernames, stale entries are swept on insert.
const SWEEP_ABOVE: usize = 100_000;

/// Failure counts shared by several nodes (Redis). When it fails, the node
/// falls back to its own counts.
#[async_trait::async_trait]
pub trait SharedThrottle: Send + Sync {
    /// How long `key` must still wait, if at all.
    async fn blocked_for(&self, key: &str) -> Result<Option<Duration>, String>;
    /// Counts a failure of `key` under `policy`.
    async fn record_failure(&self, key: &str, policy: &ThrottlePolicy) -> Result<(), String>;
    /// Forgets the failures of `key`.
    async fn clear(&self, key: &str) -> Result<(), String>;
}

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    clock: Arc<dyn Clock>,
    failures: DashMap<String, Failures>,
    shared: Option<std::sync::Arc<dyn SharedThrottle>>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            policy,
            clock,
            failures: DashMap::new(),
            shared: None,
        }
    }

    /// Shares failure counts through `shared` (falling back to this node's own).
    pub fn share(&mut self, shared: std::sync::Arc<dyn SharedThrottle>) {
        self.shared = Some(shared);
    }

    /// Refuses an attempt while the key is backing off.
    ///
    /// # Errors
    /// `LoginThrottled` with the time left.
    pub async fn check(&self, key: &str) -> Result<(), DomainError> {
        if let Some(shared) = &self.shared {
            match shared.blocked_for(key).await {
                Ok(Some(wait)) => return Err(DomainError::LoginThrottled { retry_after: wait }),
                Ok(None) => return Ok(()),
                Err(e) => tracing::warn!(error = %e, "shared login throttle unavailable; using this node's own"),
            }
        }
        self.check_local(key)
    }

    /// Records a failed attempt.
    pub async fn failed(&self, key: &str) {
        if let Some(shared) = &self.shared
            && shared.record_failure(key, &self.policy).await.is_ok()
        {
            return;
        }
        self.failed_local(key);
    }

    /// Forgets the failures of a key after a successful login.
    pub async fn succeeded(&self, key: &str) {
        if let Some(shared) = &self.shared {
            let _ = shared.clear(key).await;
        }
        self.succeeded_local(key);
    }

    fn check_local(&self, key: &str) -> Result<(), DomainError> {
        let now = self.clock.now_ms();
        match self.failures.get(key).and_then(|f| f.blocked_until) {
            Some(until) if until > now => Err(DomainError::LoginThrottled {
                retry_after: Duration::from_millis((until - now) as u64),
            }),
            _ => Ok(()),
        }
    }

    fn failed_local(&self, key: &str) {
        let now = self.clock.now_ms();
        let window = self.policy.window.as_millis() as Millis;
        if self.failures.len() > SWEEP_ABOVE {
            self.failures
                .retain(|_, f| now - f.first < window || f.blocked_until.is_some_and(|u| u > now));
        }
        let mut entry = self.failures.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            first: now,
            blocked_until: None,
        });
        if now - entry.first >= window {
            *entry = Failures {
                count: 0,
                first: now,
                blocked_until: None,
            };
        }
        entry.count += 1;
        if entry.count >= self.policy.free_failures {
            let doublings = (entry.count - self.policy.free_failures).min(20);
            let delay = self.policy.base_delay.saturating_mul(1 << doublings).min(self.policy.max_delay);
            entry.blocked_until = Some(now + delay.as_millis() as Millis);
        }
    }

    fn succeeded_local(&self, key: &str) {
        self.failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_after_free_failures() {
        let t = LoginThrottle::new(ThrottlePolicy::default(), Arc::new(crate::clock::SystemClock));
        for _ in 0..4 {
            t.check_local("a").unwrap();
            t.failed_local("a");
        }
        t.check_local("a").unwrap();
        t.failed_local("a");
        assert!(matches!(t.check_local("a"), Err(DomainError::LoginThrottled { .. })));
        assert!(t.check_local("b").is_ok());
        t.succeeded_local("a");
        assert!(t.check_local("a").is_ok());
    }
}
