//! Password hashing with argon2id on a small pool of dedicated threads (one
//! per core unless configured), off the async runtime. A bounded queue sits in front of them;
//! past it callers get `Overloaded` instead of piling up.
//!
//! Each worker keeps one argon2 memory buffer while it is busy and drops it
//! after a second of idleness. That bounds memory (one buffer per core, not
//! one per blocking thread) and saves re-faulting 19 MiB of pages on every
//! hash. Buffers are allocated with at least 40 MiB of capacity so that
//! malloc serves them with their own mapping and really returns them to the
//! OS when dropped (glibc never raises its mmap threshold above 32 MiB); only
//! the pages argon2 touches count towards RSS.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::DomainError;
use crate::infra::secret::{Secret, ct_eq, generate_password};

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

/// How many hashes may wait per worker before new ones are refused.
const QUEUE_PER_WORKER: usize = 32;
/// A worker idle this long gives its memory back.
const IDLE_RELEASE: Duration = Duration::from_secs(1);
/// Minimum buffer capacity in 1 KiB blocks; see the module comment.
const MAPPED_BLOCKS: usize = 40 * 1024;

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// A worker's reusable argon2 memory.
#[derive(Default)]
struct Memory {
    blocks: Vec<Block>,
}

impl Memory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() < count {
            self.blocks = Vec::new();
            let mut blocks = Vec::with_capacity(count.max(MAPPED_BLOCKS));
            blocks.resize(count, Block::default());
            self.blocks = blocks;
        }
        &mut self.blocks[..count]
    }
}

pub struct PasswordHasher {
    cost: HashCost,
    params: Params,
    jobs: flume::Sender<Job>,
    queued: AtomicUsize,
    queue_limit: usize,
    /// A hash of a random password, verified when the username is unknown so
    /// that unknown users cost the same time as wrong passwords.
    dummy: String,
}

impl PasswordHasher {
    /// One worker per core, with 32 hashes per worker allowed to wait.
    ///
    /// # Errors
    /// `Internal` when the cost parameters are outside argon2's limits.
    pub fn new(cost: HashCost) -> Result<Self, DomainError> {
        Self::sized(cost, None, None)
    }

    /// `workers` threads (default: one per core) with `queue_limit` hashes
    /// allowed to wait (default: 32 per worker).
    ///
    /// # Errors
    /// `Internal` when the cost parameters are outside argon2's limits.
    pub fn sized(cost: HashCost, workers: Option<usize>, queue_limit: Option<usize>) -> Result<Self, DomainError> {
        let workers = workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let queue_limit = queue_limit.unwrap_or(workers.max(1) * QUEUE_PER_WORKER);
        Self::with_limits(cost, workers, queue_limit)
    }

    /// A hasher running at most `workers` hashes at once with at most
    /// `queue_limit` waiting.
    ///
    /// # Errors
    /// `Internal` when the cost parameters are outside argon2's limits.
    pub fn with_limits(cost: HashCost, workers: usize, queue_limit: usize) -> Result<Self, DomainError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| DomainError::Internal(format!("invalid argon2 parameters: {e}").into()))?;
        let (jobs, queue) = flume::unbounded::<Job>();
        for n in 0..workers.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("onramp-hash-{n}"))
                .spawn(move || work(&queue))
                .map_err(|e| DomainError::Internal(format!("cannot start a hashing thread: {e}").into()))?;
        }
        let dummy = hash_with(&params, generate_password().expose().as_bytes(), &mut Memory::default())?;
        Ok(Self {
            cost,
            params,
            jobs,
            queued: AtomicUsize::new(0),
            queue_limit,
            dummy,
        })
    }

    pub fn cost(&self) -> HashCost {
        self.cost
    }

    /// Hashes many passwords on all workers at once, for batch imports; the
    /// queue limit does not apply (the batch itself is bounded).
    ///
    /// # Errors
    /// `Internal` if the hashing threads are gone.
    pub async fn hash_many(&self, passwords: Vec<Secret>) -> Vec<Result<String, DomainError>> {
        let mut pending = Vec::with_capacity(passwords.len());
        for pw in passwords {
            let (done, result) = oneshot::channel();
            let params = self.params.clone();
            let job: Job = Box::new(move |memory| {
                let _ = done.send(hash_with(&params, pw.expose().as_bytes(), memory));
            });
            pending.push(self.jobs.send(job).map(|()| result));
        }
        let mut out = Vec::with_capacity(pending.len());
        for p in pending {
            out.push(match p {
                Ok(result) => result
                    .await
                    .unwrap_or_else(|_| Err(DomainError::Internal("hashing job failed".into()))),
                Err(_) => Err(DomainError::Internal("hashing threads stopped".into())),
            });
        }
        out
    }

    /// Hashes a password with the current parameters into a PHC string.
    ///
    /// # Errors
    /// `Overloaded` when the hashing queue is full.
    pub async fn hash(&self, password: &Secret) -> Result<String, DomainError> {
        let (params, pw) = (self.params.clone(), password.clone());
        self.run(move |memory| hash_with(&params, pw.expose().as_bytes(), memory)).await?
    }

    /// Verifies a password against a stored PHC string, or against a dummy
    /// hash when `stored` is `None` (unknown user), always taking the same time.
    ///
    /// # Errors
    /// `Overloaded` when the hashing queue is full.
    pub async fn verify(&self, password: &Secret, stored: Option<&str>) -> Result<Option<Verified>, DomainError> {
        let known = stored.is_some();
        let phc = stored.unwrap_or(&self.dummy).to_owned();
        let (pw, current) = (password.clone(), self.cost);
        let outcome = self
            .run(move |memory| verify_with(&phc, pw.expose().as_bytes(), current, memory))
            .await?;
        Ok(outcome.filter(|_| known))
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce(&mut Memory) -> T + Send + 'static) -> Result<T, DomainError> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.queue_limit {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(DomainError::Overloaded {
                retry_after: Duration::from_secs(1),
            });
        }
        let _slot = QueueSlot(&self.queued);
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(job(memory));
        });
        self.jobs
            .send(job)
            .map_err(|_| DomainError::Internal("hashing threads stopped".into()))?;
        result.await.map_err(|_| DomainError::Internal("hashing job failed".into()))
    }
}

/// Decrements the queue count however the wait ends (including cancellation).
struct QueueSlot<'a>(&'a AtomicUsize);

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn work(queue: &flume::Receiver<Job>) {
    let mut memory = Memory::default();
    loop {
        match queue.recv_timeout(IDLE_RELEASE) {
            Ok(job) => job(&mut memory),
            Err(flume::RecvTimeoutError::Timeout) => memory = Memory::default(),
            Err(flume::RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn hash_with(params: &Params, password: &[u8], memory: &mut Memory) -> Result<String, DomainError> {
    let fail = |e: &dyn std::fmt::Display| DomainError::Internal(format!("hashing failed: {e}").into());
    let salt = argon2::password_hash::generate_salt();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password_into_with_memory(password, &salt, &mut out, memory.blocks(params.m_cost() as usize))
        .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| fail(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| fail(&e))?),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Recomputes an argon2 PHC hash (argon2id, argon2i or argon2d, any cost) in
/// the worker's memory and compares in constant time.
fn verify_with(phc: &str, password: &[u8], current: HashCost, memory: &mut Memory) -> Option<Verified> {
    // Imported bcrypt and scrypt hashes verify once, then get replaced.
    if let Some(matched) = crate::infra::legacy_hash::verify_legacy(phc, password) {
        return matched.then_some(Verified::NeedsRehash);
    }
    let parsed = PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
    let version = Version::try_from(parsed.version.unwrap_or(Version::V0x13.into())).ok()?;
    let params = Params::try_from(&parsed).ok()?;
    let (salt, expected) = (parsed.salt.as_ref()?, parsed.hash.as_ref()?);
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    argon
        .hash_password_into_with_memory(password, salt, &mut out, memory.blocks(params.m_cost() as usize))
        .ok()?;
    if !ct_eq(&out, expected.as_bytes()) {
        return None;
    }
    let up_to_date = algorithm == Algorithm::Argon2id
        && version == Version::V0x13
        && params.m_cost() == current.memory_kib
        && params.t_cost() == current.iterations
        && params.p_cost() == current.parallelism;
    Some(if up_to_date { Verified::Current } else { Verified::NeedsRehash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher as _;

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
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
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
    async fn verifies_hashes_made_by_the_argon2_crate() {
        let h = cheap();
        let params = Params::new(256, 2, 1, None).unwrap();
        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i] {
            let phc = Argon2::new(algorithm, Version::V0x13, params.clone())
                .hash_password(b"hunter2 hunter2")
                .unwrap()
                .to_string();
            assert_eq!(
                h.verify(&Secret::new("hunter2 hunter2".into()), Some(&phc)).await.unwrap(),
                Some(Verified::NeedsRehash)
            );
            assert_eq!(h.verify(&Secret::new("hunter3 hunter3".into()), Some(&phc)).await.unwrap(), None);
        }
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
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (h, pw) = (std::sync::Arc::clone(&h), pw.clone());
                tokio::spawn(async move { h.hash(&pw).await })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        assert!(results.iter().any(|r| matches!(r, Err(DomainError::Overloaded { .. }))));
        assert!(results.iter().any(|r| r.is_ok()));
    }
}
