//! Failed-login records shared by several nodes: a hash per key (`count`,
//! `first`, `last`) that expires with its retention, read and updated by Lua
//! scripts on Redis's clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use onramp_domain::clock::Millis;
use onramp_domain::infra::throttle::{Failures, SharedThrottle, ThrottleKey};

use super::RedisLink;

/// Returns {now, count1, first1, last1, count2, …} for KEYS.
const LOAD: &str = r"
local t = redis.call('TIME')
local out = {tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
for _, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'count', 'first', 'last')
  for i = 1, 3 do out[#out + 1] = tonumber(v[i] or '0') end
end
return out
";

/// Counts a failure against each of KEYS (ARGV: window ms, retention ms),
/// as `Failures::record` does.
const RECORD: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'count', 'first')
  local count = tonumber(v[1] or '0')
  local first = tonumber(v[2] or '0')
  if count == 0 or now - first >= window then
    count = 0
    first = now
  end
  redis.call('HSET', key, 'count', count + 1, 'first', first, 'last', now)
  redis.call('PEXPIRE', key, ARGV[2])
end
return 1
";

pub struct RedisThrottle {
    link: Arc<RedisLink>,
    load: redis::Script,
    record: redis::Script,
}

impl RedisThrottle {
    pub fn new(link: Arc<RedisLink>) -> Self {
        Self {
            link,
            load: redis::Script::new(LOAD),
            record: redis::Script::new(RECORD),
        }
    }
}

fn key_name(key: &ThrottleKey) -> String {
    format!("onramp:th:{}", key.hex())
}

#[async_trait]
impl SharedThrottle for RedisThrottle {
    async fn load(&self, keys: &[ThrottleKey]) -> Result<(Millis, Vec<Failures>), String> {
        let mut invocation = self.load.prepare_invoke();
        for key in keys {
            invocation.key(key_name(key));
        }
        let values = self
            .link
            .call(|mut conn| async move { invocation.invoke_async::<Vec<i64>>(&mut conn).await })
            .await?;
        let now = values.first().copied().ok_or("empty answer from Redis")?;
        let found = values[1..]
            .chunks_exact(3)
            .map(|v| Failures {
                count: u32::try_from(v[0]).unwrap_or(0),
                first: v[1],
                last: v[2],
            })
            .collect();
        Ok((now, found))
    }

    async fn record(&self, keys: &[ThrottleKey], window: Duration, retention: Duration) -> Result<(), String> {
        let mut invocation = self.record.prepare_invoke();
        for key in keys {
            invocation.key(key_name(key));
        }
        invocation.arg(window.as_millis() as u64).arg(retention.as_millis() as u64);
        self.link
            .call(|mut conn| async move { invocation.invoke_async::<i64>(&mut conn).await })
            .await?;
        Ok(())
    }

    async fn clear(&self, key: ThrottleKey) -> Result<(), String> {
        let mut del = redis::cmd("DEL");
        del.arg(key_name(&key));
        self.link
            .call(|mut conn| async move { del.query_async::<i64>(&mut conn).await })
            .await?;
        Ok(())
    }
}
