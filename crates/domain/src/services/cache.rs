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
