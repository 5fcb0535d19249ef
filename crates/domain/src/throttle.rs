//! Failed-login throttling (CONVENTIONS §5): after `free_failures` failures
//! for one username within the window, every further attempt for it waits
//! with exponential backoff, whatever the password.

use std::time::{Duration, Instant};

use dashmap::DashMap;

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
    first: Instant,
    blocked_until: Option<Instant>,
}

/// Above this many tracked usernames, stale entries are swept on insert.
const SWEEP_ABOVE: usize = 100_000;

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: DashMap<String, Failures>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures: DashMap::new(),
        }
    }

    /// Refuses an attempt while the key is backing off.
    ///
    /// # Errors
    /// `LoginThrottled` with the time left.
    pub fn check(&self, key: &str) -> Result<(), DomainError> {
        let now = Instant::now();
        match self.failures.get(key).and_then(|f| f.blocked_until) {
            Some(until) if until > now => Err(DomainError::LoginThrottled { retry_after: until - now }),
            _ => Ok(()),
        }
    }

    /// Records a failed attempt.
    pub fn failed(&self, key: &str) {
        let now = Instant::now();
        if self.failures.len() > SWEEP_ABOVE {
            let window = self.policy.window;
            self.failures
                .retain(|_, f| now.duration_since(f.first) < window || f.blocked_until.is_some_and(|u| u > now));
        }
        let mut entry = self.failures.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            first: now,
            blocked_until: None,
        });
        if now.duration_since(entry.first) >= self.policy.window {
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
            entry.blocked_until = Some(now + delay);
        }
    }

    /// Forgets the failures of a key after a successful login.
    pub fn succeeded(&self, key: &str) {
        self.failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_after_free_failures() {
        let t = LoginThrottle::new(ThrottlePolicy::default());
        for _ in 0..4 {
            t.check("a").unwrap();
            t.failed("a");
        }
        t.check("a").unwrap();
        t.failed("a");
        assert!(matches!(t.check("a"), Err(DomainError::LoginThrottled { .. })));
        assert!(t.check("b").is_ok());
        t.succeeded("a");
        assert!(t.check("a").is_ok());
    }
}
