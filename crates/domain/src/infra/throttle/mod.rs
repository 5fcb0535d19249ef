//! Failed-login throttling, so that guessing is slow while the holder of a
//! password can always log in (the README's "Login throttling" states the
//! policy; [`ThrottlePolicy`] holds its numbers):
//!
//! - per (username, client address): the 5th failure within 15 minutes
//!   makes that address wait before its next attempt for that username, 1 s
//!   and doubling with each further failure (at most 15 min), whatever the
//!   password;
//! - per client address, any usernames: the same from its 30th failure,
//!   for every login from it (not for relayed logins, see
//!   [`LoginSource::Relayed`]);
//! - per username, a ceiling: after 10 failures within 15 minutes from all
//!   addresses together the username is under attack, and then an
//!   address's first failure for it already starts the wait. An address that
//!   has not failed for a username is always heard, so guessers cannot lock
//!   its holder out: they can only back off their own addresses.
//!
//! Records are kept under fixed-size digests ([`ThrottleKey`]) and dropped
//! once their window and back-off are over: swept at most once a minute
//! (judged on the service clock) and by the server's housekeeping timer.

mod policy;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use dashmap::DashMap;

pub use policy::{AttemptRecords, Failures, LoginAttempt, LoginSource, Realm, ThrottleKey, ThrottlePolicy};

use crate::clock::{Clock, Millis};
use crate::error::DomainError;

/// How often the records are swept of expired ones.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// A last resort: past this many records, all are dropped. Failures are
/// bounded by argon2 throughput (each costs a hash), which keeps the count far
/// below this within the retention.
const MAX_RECORDS: usize = 1_000_000;

/// The longest username or email a login accepts (the longest valid email).
pub const MAX_LOGIN_NAME: usize = 254;

/// Refuses a username longer than any that can exist, before it reaches the
/// throttle or a lookup.
///
/// # Errors
/// `Validation` (`invalid_length`) on `field`.
pub fn check_login_name(field: &str, name: &str) -> Result<(), DomainError> {
    if name.len() > MAX_LOGIN_NAME && name.chars().count() > MAX_LOGIN_NAME {
        return Err(DomainError::invalid(
            field,
            crate::error::FieldCode::InvalidLength,
            format!("{field} must be at most {MAX_LOGIN_NAME} characters"),
        ));
    }
    Ok(())
}

/// Failure records shared by several nodes (Redis). When it fails, the
/// node falls back to its own records.
#[async_trait::async_trait]
pub trait SharedThrottle: Send + Sync {
    /// The records of `keys`, in order (a missing one as the default), and
    /// the shared store's time they are to be judged at.
    async fn load(&self, keys: &[ThrottleKey]) -> Result<(Millis, Vec<Failures>), String>;
    /// Counts one failure against each of `keys` (see [`Failures::record`]);
    /// each record lives `retention` after its last failure.
    async fn record(&self, keys: &[ThrottleKey], window: Duration, retention: Duration) -> Result<(), String>;
    /// Forgets the record of `key`.
    async fn clear(&self, key: ThrottleKey) -> Result<(), String>;
}

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    clock: Arc<dyn Clock>,
    records: DashMap<ThrottleKey, Failures>,
    next_sweep: AtomicI64,
    shared: Option<Arc<dyn SharedThrottle>>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            policy,
            clock,
            records: DashMap::new(),
            next_sweep: AtomicI64::new(0),
            shared: None,
        }
    }

    /// Shares failure records through `shared` (falling back to this node's own).
    pub fn share(&mut self, shared: Arc<dyn SharedThrottle>) {
        self.shared = Some(shared);
    }

    /// Refuses an attempt while it must back off.
    ///
    /// # Errors
    /// `LoginThrottled` with the time left.
    pub async fn check(&self, attempt: &LoginAttempt) -> Result<(), DomainError> {
        let keys = attempt.keys();
        let shared = match &self.shared {
            Some(shared) => shared
                .load(&keys)
                .await
                .map_err(|e| tracing::debug!(error = %e, "shared login throttle unavailable"))
                .ok(),
            None => None,
        };
        let (now, found) = shared.unwrap_or_else(|| (self.clock.now_ms(), self.local(&keys)));
        match self.policy.wait(now, &attempt.records(&found)) {
            Some(retry_after) => Err(DomainError::LoginThrottled { retry_after }),
            None => Ok(()),
        }
    }

    /// Records a failed attempt.
    pub async fn failed(&self, attempt: &LoginAttempt) {
        let keys = attempt.keys();
        if let Some(shared) = &self.shared
            && shared.record(&keys, self.policy.window, self.policy.retention()).await.is_ok()
        {
            return;
        }
        let now = self.clock.now_ms();
        self.sweep_if_due(now);
        for key in keys {
            self.records.entry(key).or_default().record(now, self.policy.window);
        }
    }

    /// Forgets the failures of this username from this address after a
    /// successful login (the username's and the address's totals stay).
    pub async fn succeeded(&self, attempt: &LoginAttempt) {
        if let Some(shared) = &self.shared {
            let _ = shared.clear(attempt.pair).await;
        }
        self.records.remove(&attempt.pair);
    }

    /// How many records this node keeps.
    pub fn tracked(&self) -> usize {
        self.records.len()
    }

    /// Drops the records whose window and back-off are over.
    pub fn sweep(&self) {
        let now = self.clock.now_ms();
        let retention = self.policy.retention().as_millis() as Millis;
        self.records.retain(|_, f| now - f.last < retention);
        if self.records.len() > MAX_RECORDS {
            tracing::warn!(records = self.records.len(), "login throttle records over their bound; dropped");
            self.records.clear();
        }
        self.records.shrink_to_fit();
    }

    fn sweep_if_due(&self, now: Millis) {
        let due = self.next_sweep.load(Ordering::Relaxed);
        let next = now + SWEEP_EVERY.as_millis() as Millis;
        if now >= due
            && self
                .next_sweep
                .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
    }

    fn local(&self, keys: &[ThrottleKey]) -> Vec<Failures> {
        keys.iter().map(|k| self.records.get(k).map(|f| *f).unwrap_or_default()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn attempt(user: &str, ip: &str) -> LoginAttempt {
        LoginAttempt::new(&"env".into(), Realm::Client, user, LoginSource::Direct(ip.parse().unwrap()))
    }

    #[tokio::test]
    async fn records_expire_after_their_retention() {
        let clock = ManualClock::default();
        let t = LoginThrottle::new(ThrottlePolicy::default(), Arc::new(clock.clone()));
        for _ in 0..5 {
            t.failed(&attempt("a", "192.0.2.1")).await;
        }
        assert!(t.check(&attempt("a", "192.0.2.1")).await.is_err());
        assert!(t.check(&attempt("a", "192.0.2.2")).await.is_ok(), "another address is heard");
        assert_eq!(t.tracked(), 3);
        clock.advance(ThrottlePolicy::default().retention());
        t.failed(&attempt("b", "192.0.2.3")).await;
        assert_eq!(t.tracked(), 3, "only b's records are left");
        t.succeeded(&attempt("b", "192.0.2.3")).await;
        assert_eq!(t.tracked(), 2, "the pair is forgotten; the totals stay");
    }
}
