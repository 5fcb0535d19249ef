//! Password hashing with argon2id, off the async runtime, with bounded
//! concurrency: at most one hash per core runs at a time and a bounded queue
//! waits; past that the caller gets `Overloaded` instead of piling up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;

use crate::error::DomainError;
use crate::secret::{Secret, generate_password};

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Outcome of a successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The hash uses the current parameters.
    Current,
    /// The hash is valid but weaker or older than the current parameters; store a new one.
    NeedsRehash,
}

/// How many hashes may wait for a core before new ones are refused.
const QUEUE_PER_WORKER: usize = 32;

pub struct PasswordHasher {
    argon: Argon2<'static>,
    cost: HashCost,
    workers: Arc<Semaphore>,
    queued: AtomicUsize,
    queue_limit: usize,
    /// A hash of a random password, verified when the username is unknown so
    /// that unknown users cost the same time as wrong passwords.
    dummy: String,
}

impl PasswordHasher {
    /// # Errors
    /// `Internal` when the cost parameters are outside argon2's limits.
    pub fn new(cost: HashCost) -> Result<Self, DomainError> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_limits(cost, workers, workers * QUEUE_PER_WORKER)
    }

    /// A hasher running at most `workers` hashes at once with at most
    /// `queue_limit` waiting.
    ///
    /// # Errors
    /// `Internal` when the cost parameters are outside argon2's limits.
    pub fn with_limits(cost: HashCost, workers: usize, queue_limit: usize) -> Result<Self, DomainError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| DomainError::Internal(format!("invalid argon2 parameters: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = argon
            .hash_password(generate_password().expose().as_bytes())
            .map_err(|e| DomainError::Internal(e.to_string()))?
            .to_string();
        Ok(Self {
            argon,
            cost,
            workers: Arc::new(Semaphore::new(workers.max(1))),
            queued: AtomicUsize::new(0),
            queue_limit,
            dummy,
        })
    }

    pub fn cost(&self) -> HashCost {
        self.cost
    }

    /// Hashes a password with the current parameters into a PHC string.
    ///
    /// # Errors
    /// `Overloaded` when the hashing queue is full.
    pub async fn hash(&self, password: &Secret) -> Result<String, DomainError> {
        let argon = self.argon.clone();
        let pw = password.clone();
        self.run(move || argon.hash_password(pw.expose().as_bytes()).map(|h| h.to_string()))
            .await?
            .map_err(|e| DomainError::Internal(format!("hashing failed: {e}")))
    }

    /// Verifies a password against a stored PHC string, or against a dummy
    /// hash when `stored` is `None` (unknown user), always taking the same time.
    ///
    /// # Errors
    /// `Overloaded` when the hashing queue is full.
    pub async fn verify(&self, password: &Secret, stored: Option<&str>) -> Result<Option<Verified>, DomainError> {
        let known = stored.is_some();
        let phc = stored.unwrap_or(&self.dummy).to_owned();
        let argon = self.argon.clone();
        let pw = password.clone();
        let current = self.cost;
        let outcome = self
            .run(move || {
                let parsed = PasswordHash::new(&phc).ok()?;
                argon.verify_password(pw.expose().as_bytes(), &parsed).ok()?;
                Some(if uses_cost(&parsed, current) {
                    Verified::Current
                } else {
                    Verified::NeedsRehash
                })
            })
            .await?;
        Ok(outcome.filter(|_| known))
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, DomainError> {
        let waiting = self.queued.fetch_add(1, Ordering::AcqRel);
        let guard = QueueSlot(&self.queued);
        if waiting >= self.queue_limit {
            return Err(DomainError::Overloaded {
                retry_after: Duration::from_secs(1),
            });
        }
        let permit = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| DomainError::Internal("hasher closed".into()))?;
        drop(guard);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| DomainError::Internal(format!("hashing task failed: {e}")))
    }
}

/// Decrements the queue count however the wait ends (including cancellation).
struct QueueSlot<'a>(&'a AtomicUsize);

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn uses_cost(hash: &PasswordHash, cost: HashCost) -> bool {
    hash.algorithm.as_str() == "argon2id"
        && Params::try_from(hash)
            .is_ok_and(|p| p.m_cost() == cost.memory_kib && p.t_cost() == cost.iterations && p.p_cost() == cost.parallelism)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = cheap();
        let pw = Secret::new("correct horse".into());
        let phc = h.hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert_eq!(h.verify(&pw, Some(&phc)).await.unwrap(), Some(Verified::Current));
        assert_eq!(h.verify(&Secret::new("wrong".into()), Some(&phc)).await.unwrap(), None);
        assert_eq!(h.verify(&pw, None).await.unwrap(), None);
        assert_eq!(h.verify(&pw, Some("garbage")).await.unwrap(), None);
        let stronger = PasswordHasher::new(HashCost {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        assert_eq!(stronger.verify(&pw, Some(&phc)).await.unwrap(), Some(Verified::NeedsRehash));
    }

    #[tokio::test]
    async fn refuses_when_the_queue_is_full() {
        let cost = HashCost {
            memory_kib: 8 * 1024,
            iterations: 4,
            parallelism: 1,
        };
        let h = std::sync::Arc::new(PasswordHasher::with_limits(cost, 1, 2).unwrap());
        let pw = Secret::new("correct horse".into());
        let results = futures_join(&h, &pw, 8).await;
        assert!(results.iter().any(|r| matches!(r, Err(DomainError::Overloaded { .. }))));
        assert!(results.iter().any(|r| r.is_ok()));
    }

    async fn futures_join(h: &std::sync::Arc<PasswordHasher>, pw: &Secret, n: usize) -> Vec<Result<String, DomainError>> {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (h, pw) = (std::sync::Arc::clone(h), pw.clone());
                tokio::spawn(async move { h.hash(&pw).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }
}
