//! Rate limits and failed-login records shared by several nodes: the state
//! of every key lives in Redis and is updated atomically by Lua scripts that
//! read Redis's own clock (so node clocks may differ). Every call goes
//! through [`RedisLink`]'s circuit breaker: while Redis is unreachable, the
//! HTTP layer and the throttle use the node's own limits without waiting.

mod link;
mod throttle;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use onramp_http::rate_limit::{Decision, SharedLimiter};

pub use link::RedisLink;
pub use throttle::RedisThrottle;

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

pub struct RedisLimiter {
    link: Arc<RedisLink>,
    script: redis::Script,
}

impl RedisLimiter {
    pub fn new(link: Arc<RedisLink>) -> Self {
        Self {
            link,
            script: redis::Script::new(GCRA),
        }
    }
}

#[async_trait]
impl SharedLimiter for RedisLimiter {
    async fn check(&self, key: &str, per_minute: u32) -> Result<Decision, String> {
        let interval = 60_000 / i64::from(per_minute.max(1));
        let tau = interval * (i64::from(per_minute.max(1)) - 1);
        let mut invocation = self.script.key(format!("onramp:rl:{key}"));
        invocation.arg(interval).arg(tau);
        let values = self
            .link
            .call(|mut conn| async move { invocation.invoke_async::<Vec<i64>>(&mut conn).await })
            .await?;
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
        self.link.healthy()
    }
}
