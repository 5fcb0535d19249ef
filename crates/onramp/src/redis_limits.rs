//! Rate limits shared by several nodes: the GCRA state of every key lives in
//! Redis and is updated atomically by a Lua script that reads Redis's own
//! clock (so node clocks may differ). When Redis cannot be reached, calls
//! fail fast and the HTTP layer falls back to the node's own limits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use onramp_http::rate_limit::{Decision, SharedLimiter};
use redis::aio::ConnectionManager;
use tokio::sync::Mutex;

/// GCRA (ARGV: emission interval ms, burst tolerance ms). Returns
/// {allowed, remaining or retry-after ms, ms until the bucket is full}.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat - now > tau then
  return {0, tat - tau - now, tat - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now + 1000)
return {1, math.floor((tau + interval - (new_tat - now)) / interval), new_tat - now}
";

/// How long one call may take before the node uses its own limits.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How often a node retries connecting while Redis is down.
const RECONNECT_EVERY: Duration = Duration::from_secs(2);

pub struct RedisLimiter {
    client: redis::Client,
    connection: Mutex<(Option<ConnectionManager>, Option<Instant>)>,
    script: redis::Script,
    healthy: AtomicBool,
}

impl RedisLimiter {
    /// # Errors
    /// A message for a malformed URL (reachability is checked lazily).
    pub fn new(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        Ok(Self {
            client,
            connection: Mutex::new((None, None)),
            script: redis::Script::new(GCRA),
            healthy: AtomicBool::new(false),
        })
    }

    pub(crate) async fn connection(&self) -> Result<ConnectionManager, String> {
        let mut guard = self.connection.lock().await;
        if let Some(conn) = &guard.0 {
            return Ok(conn.clone());
        }
        if guard.1.is_some_and(|t| t.elapsed() < RECONNECT_EVERY) {
            return Err("Redis is unreachable".into());
        }
        guard.1 = Some(Instant::now());
        let conn = tokio::time::timeout(CALL_TIMEOUT * 4, self.client.get_connection_manager())
            .await
            .map_err(|_| "connecting to Redis timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        guard.0 = Some(conn.clone());
        Ok(conn)
    }
}

#[async_trait]
impl SharedLimiter for RedisLimiter {
    async fn check(&self, key: &str, per_minute: u32) -> Result<Decision, String> {
        let result = async {
            let mut conn = self.connection().await?;
            let interval = 60_000 / i64::from(per_minute.max(1));
            let tau = interval * (i64::from(per_minute.max(1)) - 1);
            let mut invocation = self.script.key(format!("onramp:rl:{key}"));
            invocation.arg(interval).arg(tau);
            let call = invocation.invoke_async::<Vec<i64>>(&mut conn);
            tokio::time::timeout(CALL_TIMEOUT, call)
                .await
                .map_err(|_| "Redis call timed out".to_owned())?
                .map_err(|e| e.to_string())
        }
        .await;
        self.healthy.store(result.is_ok(), Ordering::Relaxed);
        metrics::gauge!("onramp_redis_up").set(if result.is_ok() { 1.0 } else { 0.0 });
        let values = result?;
        let (allowed, second, full_in) = (
            values.first() == Some(&1),
            values.get(1).copied().unwrap_or(0),
            values.get(2).copied().unwrap_or(0),
        );
        let reset_secs = (full_in.max(0) as u64).div_ceil(1000);
        Ok(if allowed {
            Decision {
                allowed,
                limit: per_minute,
                remaining: second.max(0) as u32,
                reset_secs,
                retry_after: Duration::ZERO,
            }
        } else {
            Decision {
                allowed,
                limit: per_minute,
                remaining: 0,
                reset_secs,
                retry_after: Duration::from_millis(second.max(0) as u64),
            }
        })
    }

    fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
}

/// Failed-login counts shared by several nodes: a hash per username key
/// (`first`, `count`, `blocked`), updated by Lua scripts on Redis's clock.
pub struct RedisThrottle {
    redis: std::sync::Arc<RedisLimiter>,
    check: redis::Script,
    fail: redis::Script,
}

const THROTTLE_CHECK: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked') or '0')
if blocked > now then return blocked - now end
return 0
";

/// ARGV: window ms, free failures, base delay ms, max delay ms.
const THROTTLE_FAIL: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local first = tonumber(redis.call('HGET', KEYS[1], 'first') or '0')
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
if now - first >= window then
  first = now
  count = 0
end
count = count + 1
local blocked = 0
if count >= free then blocked = now + math.min(max, base * (2 ^ math.min(count - free, 20))) end
redis.call('HSET', KEYS[1], 'first', first, 'count', count, 'blocked', blocked)
redis.call('PEXPIRE', KEYS[1], window + max)
return blocked
";

impl RedisThrottle {
    pub fn new(redis: std::sync::Arc<RedisLimiter>) -> Self {
        Self {
            redis,
            check: redis::Script::new(THROTTLE_CHECK),
            fail: redis::Script::new(THROTTLE_FAIL),
        }
    }
}

#[async_trait]
impl onramp_domain::infra::throttle::SharedThrottle for RedisThrottle {
    async fn blocked_for(&self, key: &str) -> Result<Option<Duration>, String> {
        let mut conn = self.redis.connection().await?;
        let invocation = self.check.key(format!("onramp:th:{key}"));
        let call = invocation.invoke_async::<i64>(&mut conn);
        let wait = tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| "Redis call timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        Ok((wait > 0).then(|| Duration::from_millis(wait as u64)))
    }

    async fn record_failure(&self, key: &str, policy: &onramp_domain::infra::throttle::ThrottlePolicy) -> Result<(), String> {
        let mut conn = self.redis.connection().await?;
        let mut invocation = self.fail.key(format!("onramp:th:{key}"));
        invocation
            .arg(policy.window.as_millis() as u64)
            .arg(policy.free_failures)
            .arg(policy.base_delay.as_millis() as u64)
            .arg(policy.max_delay.as_millis() as u64);
        let call = invocation.invoke_async::<i64>(&mut conn);
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| "Redis call timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    async fn clear(&self, key: &str) -> Result<(), String> {
        let mut conn = self.redis.connection().await?;
        let mut del = redis::cmd("DEL");
        del.arg(format!("onramp:th:{key}"));
        let call = del.query_async::<i64>(&mut conn);
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| "Redis call timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}
