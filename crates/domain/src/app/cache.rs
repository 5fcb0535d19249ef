//! Time-bounded caches for what the server reads on every request but may
//! change elsewhere. Both are bounded `moka` caches (least useful entries go
//! first, so random Host headers cannot evict everything or exhaust memory);
//! freshness is judged by the injected [`Clock`], so tests move time instead
//! of sleeping.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::ops::compute::Op;
use moka::sync::Cache;

use crate::clock::{Clock, Millis};

/// Entries per cache; past it moka evicts the least useful ones.
const MAX_ENTRIES: u64 = 50_000;

/// A value and when it was stored.
#[derive(Clone)]
struct Stamped<V> {
    at: Millis,
    value: V,
}

fn cache<K, V>(ttl: Duration) -> Cache<K, Stamped<V>>
where
    K: Eq + Hash + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    // moka's own expiry frees the memory of entries nobody reads again (the
    // cache would otherwise sit at its cap under a steady stream of new
    // keys); freshness is checked on the injected clock.
    Cache::builder()
        .max_capacity(MAX_ENTRIES)
        .time_to_live(ttl.max(Duration::from_millis(10)) * 2)
        .build()
}

/// Settings read through: fresh for `ttl`, then loaded again.
pub struct TtlCache<K, V> {
    ttl_ms: Millis,
    clock: Arc<dyn Clock>,
    entries: Cache<K, Stamped<V>>,
}

impl<K, V> TtlCache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            ttl_ms: ttl.as_millis() as Millis,
            clock,
            entries: cache(ttl),
        }
    }

    /// The cached value if it is younger than the ttl.
    pub fn get(&self, key: &K) -> Option<V> {
        let entry = self.entries.get(key)?;
        (self.clock.now_ms() - entry.at < self.ttl_ms).then_some(entry.value)
    }

    pub fn insert(&self, key: K, value: V) {
        let at = self.clock.now_ms();
        self.entries.insert(key, Stamped { at, value });
    }

    /// Forgets every entry, so the next read of any key loads afresh.
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    pub fn remove(&self, key: &K) {
        self.entries.invalidate(key);
    }

    /// The cached value, or the loader's result (cached when it succeeds).
    ///
    /// # Errors
    /// Whatever the loader fails with.
    pub async fn get_or_load<E, F>(&self, key: &K, load: F) -> Result<V, E>
    where
        F: AsyncFnOnce() -> Result<V, E>,
    {
        if let Some(v) = self.get(key) {
            return Ok(v);
        }
        let value = load().await?;
        self.insert(key.clone(), value.clone());
        Ok(value)
    }
}

/// A read-through cache of records that requests change: a local write
/// invalidates at once, writes by other processes show within the ttl.
///
/// A load that raced with a write must not put the old value back: a fill
/// stores only if no invalidation happened since the load began, and fills
/// and invalidations of a key run one at a time (moka's `and_compute_with`).
pub struct ReadCache<K, V> {
    ttl_ms: Millis,
    clock: Arc<dyn Clock>,
    epoch: AtomicU64,
    entries: Cache<K, Stamped<V>>,
}

impl<K, V> ReadCache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            ttl_ms: ttl.as_millis() as Millis,
            clock,
            epoch: AtomicU64::new(0),
            entries: cache(ttl),
        }
    }

    /// The cached value, or the loader's result (cached when found and no
    /// write intervened).
    ///
    /// # Errors
    /// Whatever the loader fails with.
    pub async fn get_or_load<E, F>(&self, key: &K, load: F) -> Result<Option<V>, E>
    where
        F: AsyncFnOnce() -> Result<Option<V>, E>,
    {
        if self.ttl_ms == 0 {
            return load().await;
        }
        if let Some(entry) = self.entries.get(key)
            && self.clock.now_ms() - entry.at < self.ttl_ms
        {
            return Ok(Some(entry.value));
        }
        let started = self.epoch.load(Ordering::SeqCst);
        let value = load().await?;
        if let Some(v) = &value {
            let at = self.clock.now_ms();
            self.entries.entry(key.clone()).and_compute_with(|_| {
                if self.epoch.load(Ordering::SeqCst) == started {
                    Op::Put(Stamped { at, value: v.clone() })
                } else {
                    Op::Nop
                }
            });
        }
        Ok(value)
    }

    /// Forgets `key` after a write to it.
    pub fn invalidate(&self, key: &K) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.entry(key.clone()).and_compute_with(|_| Op::Remove);
    }

    /// Forgets every entry after a write that may touch any of them.
    pub fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn a_load_that_raced_with_a_write_is_not_cached() {
        let cache: ReadCache<u8, &str> = ReadCache::new(Duration::from_secs(60), Arc::new(ManualClock::default()));
        // A write lands while the load is in flight: the old value must not stick.
        let loaded = cache
            .get_or_load(&1, async || {
                cache.invalidate(&1);
                Ok::<_, ()>(Some("old"))
            })
            .await;
        assert_eq!(loaded, Ok(Some("old")));
        let next = cache.get_or_load(&1, async || Ok::<_, ()>(Some("new"))).await;
        assert_eq!(next, Ok(Some("new")));
        // Now cached: the loader is not called.
        let cached = cache.get_or_load(&1, async || Ok::<_, ()>(Some("unused"))).await;
        assert_eq!(cached, Ok(Some("new")));
        cache.invalidate(&1);
        assert_eq!(cache.get_or_load(&1, async || Ok::<_, ()>(None)).await, Ok(None));
    }

    #[tokio::test]
    async fn expired_entries_are_evicted_not_kept_until_the_cap() {
        let cache: ReadCache<u32, u32> = ReadCache::new(Duration::from_millis(500), Arc::new(ManualClock::default()));
        for key in 0..100 {
            cache.get_or_load(&key, async || Ok::<_, ()>(Some(key))).await.unwrap();
        }
        cache.entries.run_pending_tasks();
        assert!(cache.entries.entry_count() > 0, "the entries were cached");
        // Memory is freed in real time (moka's clock), whatever the test clock says.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while cache.entries.entry_count() > 0 {
            assert!(std::time::Instant::now() < deadline, "expired entries were never evicted");
            tokio::time::sleep(Duration::from_millis(10)).await;
            cache.entries.run_pending_tasks();
        }
    }

    #[tokio::test]
    async fn entries_expire_when_the_clock_passes_the_ttl() {
        let clock = ManualClock::default();
        let cache: TtlCache<u8, u8> = TtlCache::new(Duration::from_secs(1), Arc::new(clock.clone()));
        cache.insert(1, 10);
        assert_eq!(cache.get(&1), Some(10));
        clock.advance(Duration::from_millis(1001));
        assert_eq!(cache.get(&1), None);
        assert_eq!(cache.get_or_load(&1, async || Ok::<_, ()>(11)).await, Ok(11));
        assert_eq!(cache.get(&1), Some(11));
    }
}
