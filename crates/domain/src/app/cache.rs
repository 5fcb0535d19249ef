//! A small time-bounded cache for settings the server reads on every request
//! but an operator may change from another process.

use std::hash::Hash;
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// Above this many entries the cache is cleared rather than grown, so that
/// hostile input (random Host headers) cannot exhaust memory.
const MAX_ENTRIES: usize = 50_000;

pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: DashMap<K, (Instant, V)>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: DashMap::new(),
        }
    }

    /// The cached value if it is younger than the ttl.
    pub fn get(&self, key: &K) -> Option<V> {
        let entry = self.entries.get(key)?;
        (entry.0.elapsed() < self.ttl).then(|| entry.1.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.clear();
        }
        self.entries.insert(key, (Instant::now(), value));
    }

    /// Forgets every entry, so the next read of any key loads afresh.
    pub fn clear(&self) {
        self.entries.clear();
    }

    pub fn remove(&self, key: &K) {
        self.entries.remove(key);
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
/// A load that raced with a write must not put the old value back: `fill`
/// stores only if no invalidation happened since the load began, checked
/// under the entry's lock, and `invalidate` bumps the epoch before removing.
pub struct ReadCache<K, V> {
    ttl: Duration,
    epoch: std::sync::atomic::AtomicU64,
    entries: DashMap<K, (Instant, V)>,
}

impl<K: Eq + Hash + Clone, V: Clone> ReadCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            epoch: std::sync::atomic::AtomicU64::new(0),
            entries: DashMap::new(),
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
        if self.ttl.is_zero() {
            return load().await;
        }
        if let Some(entry) = self.entries.get(key)
            && entry.0.elapsed() < self.ttl
        {
            return Ok(Some(entry.1.clone()));
        }
        let started = self.epoch.load(std::sync::atomic::Ordering::SeqCst);
        let value = load().await?;
        if let Some(v) = &value {
            if self.entries.len() >= MAX_ENTRIES {
                self.entries.clear();
            }
            let entry = self.entries.entry(key.clone());
            if self.epoch.load(std::sync::atomic::Ordering::SeqCst) == started {
                entry.insert((Instant::now(), v.clone()));
            }
        }
        Ok(value)
    }

    /// Forgets `key` after a write to it.
    pub fn invalidate(&self, key: &K) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_load_that_raced_with_a_write_is_not_cached() {
        let cache: ReadCache<u8, &str> = ReadCache::new(Duration::from_secs(60));
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
}
