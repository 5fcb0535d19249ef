//! Per-credential, per-endpoint GCRA rate limits (CONVENTIONS §5), with one
//! keyed `governor` limiter per distinct quota so that instances and routes
//! can each have their own.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use onramp_domain::tenancy::Tenant;

type Limiter = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The outcome of one check, with what the `RateLimit-*` headers report.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the full quota is available again.
    pub reset_secs: u64,
    pub retry_after: Duration,
}

/// Rate-limit state shared by several nodes (Redis). When it fails, the
/// node falls back to its own in-memory limiter.
#[async_trait::async_trait]
pub trait SharedLimiter: Send + Sync {
    /// GCRA with `per_minute` requests a minute and the same burst.
    async fn check(&self, key: &str, per_minute: u32) -> Result<Decision, String>;
    /// Whether the last call reached the shared store.
    fn healthy(&self) -> bool;
}

pub struct RateLimits {
    default_per_minute: u32,
    limiters: DashMap<u32, Arc<Limiter>>,
    clock: DefaultClock,
    shared: Option<Arc<dyn SharedLimiter>>,
    last_fallback_warning: std::sync::Mutex<Option<std::time::Instant>>,
}

impl RateLimits {
    pub fn new(default_per_minute: u32) -> Self {
        Self {
            default_per_minute: default_per_minute.max(1),
            limiters: DashMap::new(),
            clock: DefaultClock::default(),
            shared: None,
            last_fallback_warning: std::sync::Mutex::new(None),
        }
    }

    /// Requests per minute for `route` on this instance: its override, else
    /// the instance's `default`, else the server's.
    pub fn quota_for(&self, tenant: &Tenant, route: &str) -> u32 {
        let limits = &tenant.instance.rate_limits;
        limits
            .get(route)
            .or_else(|| limits.get("default"))
            .copied()
            .unwrap_or(self.default_per_minute)
            .max(1)
    }

    fn limiter(&self, per_minute: u32) -> Arc<Limiter> {
        if let Some(l) = self.limiters.get(&per_minute) {
            return Arc::clone(&l);
        }
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        let limiter = Arc::new(RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>());
        Arc::clone(&self.limiters.entry(per_minute).or_insert(limiter))
    }

    /// Counts one request of `credential` against `route` in the tenant's environment.
    /// Limits shared through `shared`, falling back to this node's own.
    pub fn with_shared(mut self, shared: Arc<dyn SharedLimiter>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Whether limits are shared and the shared store answers (`None` when not configured).
    pub fn shared_healthy(&self) -> Option<bool> {
        self.shared.as_ref().map(|s| s.healthy())
    }

    pub async fn check(&self, tenant: &Tenant, route: &str, credential: &str) -> Decision {
        let limit = self.quota_for(tenant, route);
        let key = format!("{}|{route}|{credential}", tenant.env.id);
        if let Some(shared) = &self.shared {
            match shared.check(&key, limit).await {
                Ok(decision) => return decision,
                Err(e) => self.warn_fallback(&e),
            }
        }
        self.check_key(limit, key)
    }

    /// One WARN a minute at most while the shared store is down.
    fn warn_fallback(&self, error: &str) {
        let mut last = self.last_fallback_warning.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            tracing::warn!(error, "shared rate limits unavailable; using this node's own limits");
            *last = Some(std::time::Instant::now());
        }
    }

    /// Counts one request against `key` under the server's default quota
    /// (for routes outside any tenant's settings, such as page forms).
    pub fn check_default(&self, key: String) -> Decision {
        self.check_key(self.default_per_minute, key)
    }

    fn check_key(&self, limit: u32, key: String) -> Decision {
        let per_request = Duration::from_secs(60) / limit;
        match self.limiter(limit).check_key(&key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let reset = per_request * (limit - remaining);
                Decision {
                    allowed: true,
                    limit,
                    remaining,
                    reset_secs: reset.as_secs_f64().ceil() as u64,
                    retry_after: Duration::ZERO,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Decision {
                    allowed: false,
                    limit,
                    remaining: 0,
                    reset_secs: (per_request * limit).as_secs(),
                    retry_after: wait,
                }
            }
        }
    }

    /// Drops state of keys that are back to a full quota; call periodically.
    pub fn sweep(&self) {
        for limiter in self.limiters.iter() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
