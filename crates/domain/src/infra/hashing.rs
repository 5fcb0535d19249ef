//! Password hashing with argon2id on a small pool of dedicated threads (one
//! per core unless configured), off the async runtime. The queue in front
//! of them ([`crate::infra::hash_queue`]) is bounded, shares the workers
//! fairly between tenants and drops the jobs of callers that went away;
//! past a bound, callers get `Overloaded` instead of piling up.
//!
//! Each worker keeps one argon2 memory buffer while it is busy and drops it
//! after a second of idleness. That bounds memory (one buffer per core, not
//! one per blocking thread) and saves re-faulting 19 MiB of pages on every
//! hash. Buffers are allocated with at least 40 MiB of capacity so that
//! malloc serves them with their own mapping and really returns them to the
//! OS when dropped (glibc never raises its mmap threshold above 32 MiB); only
//! the pages argon2 touches count towards RSS. Stored hashes are verified only
//! within [`CostCeiling`] (twice the server's own memory), so a worker's
//! buffer never grows past that.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::DomainError;
use crate::infra::hash_ceiling::CostCeiling;
use crate::infra::hash_queue::{HashStats, Job, Kind, Next, Queue, QueueLimits, Refused, Share};
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

/// How many hashes of single requests may be queued or running per worker,
/// per tenant, unless configured.
pub const REQUESTS_PER_WORKER: usize = 32;
/// Batch items one tenant may have queued or running, unless configured:
/// one full batch.
pub const DEFAULT_BATCH_QUEUE: usize = 1_000;
/// Hashes queued or running in all, unless configured.
pub const DEFAULT_TOTAL_QUEUE: usize = 4_096;
/// A worker idle this long gives its memory back.
const IDLE_RELEASE: Duration = Duration::from_secs(1);
/// Minimum buffer capacity in 1 KiB blocks; see the module comment.
const MAPPED_BLOCKS: usize = 40 * 1024;

/// How many workers and how much queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolSize {
    /// Threads; `None` is one per core.
    pub workers: Option<usize>,
    /// Per tenant, hashes of single requests; `None` is 32 per worker.
    pub requests: Option<usize>,
    /// Per tenant, batch items; `None` is 1,000.
    pub batch: Option<usize>,
    /// In all; `None` is 4,096.
    pub total: Option<usize>,
}

/// A worker's reusable argon2 memory.
#[derive(Default)]
pub(crate) struct Memory {
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
    ceiling: CostCeiling,
    params: Params,
    queue: Arc<Queue>,
    /// A hash of a random password, verified when the username is unknown so
    /// that unknown users cost the same time as wrong passwords.
    dummy: Arc<str>,
}

impl Drop for PasswordHasher {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl PasswordHasher {
    /// One worker per core, with the default queue bounds.
    ///
    /// # Errors
    /// `Internal` when the cost parameters are outside argon2's limits.
    pub fn new(cost: HashCost) -> Result<Self, DomainError> {
        Self::sized(cost, PoolSize::default())
    }

    /// A hasher with `size`'s workers and queue bounds (defaults for those
    /// not given).
    ///
    /// # Errors
    /// `Internal` when the cost parameters are outside argon2's limits.
    pub fn sized(cost: HashCost, size: PoolSize) -> Result<Self, DomainError> {
        let workers = size
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1);
        let limits = QueueLimits {
            requests: size.requests.unwrap_or(workers * REQUESTS_PER_WORKER).max(1),
            batch: size.batch.unwrap_or(DEFAULT_BATCH_QUEUE).max(1),
            total: size.total.unwrap_or(DEFAULT_TOTAL_QUEUE).max(1),
        };
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| DomainError::Internal(format!("invalid argon2 parameters: {e}").into()))?;
        let queue = Arc::new(Queue::new(limits, workers));
        for n in 0..workers {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("onramp-hash-{n}"))
                .spawn(move || work(&queue))
                .map_err(|e| DomainError::Internal(format!("cannot start a hashing thread: {e}").into()))?;
        }
        let dummy = hash_with(&params, generate_password().expose().as_bytes(), &mut Memory::default())?;
        Ok(Self {
            cost,
            ceiling: CostCeiling::for_cost(cost),
            params,
            queue,
            dummy: dummy.into(),
        })
    }

    pub fn cost(&self) -> HashCost {
        self.cost
    }

    /// The most a stored or imported hash may cost.
    pub fn ceiling(&self) -> CostCeiling {
        self.ceiling
    }

    /// The most hashes one batch may hold on this server.
    pub fn batch_capacity(&self) -> usize {
        self.queue.batch_capacity()
    }

    /// What the queue holds and has done.
    pub fn stats(&self) -> HashStats {
        self.queue.stats()
    }

    /// Hashes many passwords (a batch import) in `share`'s turns. The batch
    /// is admitted whole or not at all; if the caller stops waiting, its
    /// hashes still queued are dropped.
    ///
    /// # Errors
    /// `Overloaded` when the batch does not fit in the queue now (or ever:
    /// check [`PasswordHasher::batch_capacity`] first).
    pub async fn hash_many(&self, share: &Share, passwords: Vec<Secret>) -> Result<Vec<Result<String, DomainError>>, DomainError> {
        let mut results = Vec::with_capacity(passwords.len());
        let mut jobs = Vec::with_capacity(passwords.len());
        for pw in passwords {
            let (done, result) = oneshot::channel();
            let params = self.params.clone();
            let job: Job = Box::new(move |memory| {
                let _ = done.send(hash_with(&params, pw.expose().as_bytes(), memory));
            });
            jobs.push(job);
            results.push(result);
        }
        let ticket = self.queue.submit(share, Kind::Batch, jobs).map_err(refusal)?;
        let mut out = Vec::with_capacity(results.len());
        for result in results {
            out.push(
                result
                    .await
                    .unwrap_or_else(|_| Err(DomainError::Internal("hashing job failed".into()))),
            );
        }
        ticket.finish();
        Ok(out)
    }

    /// Hashes a password with the current parameters into a PHC string.
    ///
    /// # Errors
    /// `Overloaded` when the tenant's share of the queue is full.
    pub async fn hash(&self, share: &Share, password: &Secret) -> Result<String, DomainError> {
        let (params, pw) = (self.params.clone(), password.clone());
        self.submit(share, move |memory| hash_with(&params, pw.expose().as_bytes(), memory))
            .await?
    }

    /// Verifies a password against a stored PHC string, or against a dummy
    /// hash when `stored` is `None` (unknown user), always taking the same
    /// time. A stored hash above the cost ceiling is not computed: it
    /// verifies as a wrong password, after the dummy hash.
    ///
    /// # Errors
    /// `Overloaded` when the tenant's share of the queue is full.
    pub async fn verify(&self, share: &Share, password: &Secret, stored: Option<&str>) -> Result<Option<Verified>, DomainError> {
        // No account, or one without a password: the dummy hash, so both
        // take as long as a real check, and neither verifies.
        let usable = stored.filter(|s| *s != crate::accounts::NO_PASSWORD);
        let known = usable.is_some();
        let phc = usable.map_or_else(|| Arc::clone(&self.dummy), Arc::from);
        let (pw, current, ceiling, dummy) = (password.clone(), self.cost, self.ceiling, Arc::clone(&self.dummy));
        let outcome = self
            .submit(share, move |memory| {
                if let Err(why) = ceiling.check(&phc) {
                    tracing::warn!("a stored password hash exceeds the cost ceiling ({why}); refused without computing it");
                    verify_with(&dummy, pw.expose().as_bytes(), current, memory);
                    return None;
                }
                verify_with(&phc, pw.expose().as_bytes(), current, memory)
            })
            .await?;
        Ok(outcome.filter(|_| known))
    }

    /// Runs `job` on a hashing worker as one queued hash of `share`: for
    /// work that must take its turn with the hashes (tests use it to hold
    /// a worker while they arrange the queue).
    ///
    /// # Errors
    /// `Overloaded` when the tenant's share of the queue is full.
    pub async fn run<T: Send + 'static>(&self, share: &Share, job: impl FnOnce() -> T + Send + 'static) -> Result<T, DomainError> {
        self.submit(share, move |_| job()).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        share: &Share,
        job: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(job(memory));
        });
        let ticket = self.queue.submit(share, Kind::Request, vec![job]).map_err(refusal)?;
        let out = result.await.map_err(|_| DomainError::Internal("hashing job failed".into()));
        ticket.finish();
        out
    }
}

fn refusal(refused: Refused) -> DomainError {
    match refused {
        Refused::Busy(retry_after) => DomainError::Overloaded { retry_after },
        // Callers check `batch_capacity` first; this is the backstop.
        Refused::TooMany { .. } => DomainError::Overloaded {
            retry_after: Duration::from_secs(60),
        },
    }
}

fn work(queue: &Arc<Queue>) {
    let mut memory = Memory::default();
    loop {
        match queue.next(IDLE_RELEASE) {
            Next::Job(job) => job.run(&mut memory),
            Next::Idle => memory = Memory::default(),
            Next::Closed => return,
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
    // scrypt allocates its own memory: give the argon2 buffer back first so
    // that a worker never holds both (the RSS budget counts one).
    if phc.starts_with("$scrypt$") {
        *memory = Memory::default();
    }
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

    fn share() -> Share {
        Share::tenant(&"env-1".into())
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let (h, s) = (cheap(), share());
        let pw = Secret::new("correct horse".into());
        let phc = h.hash(&s, &pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert_eq!(h.verify(&s, &pw, Some(&phc)).await.unwrap(), Some(Verified::Current));
        assert_eq!(h.verify(&s, &Secret::new("wrong".into()), Some(&phc)).await.unwrap(), None);
        assert_eq!(h.verify(&s, &pw, None).await.unwrap(), None);
        assert_eq!(h.verify(&s, &pw, Some("garbage")).await.unwrap(), None);
        let stronger = PasswordHasher::new(HashCost {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        assert_eq!(stronger.verify(&s, &pw, Some(&phc)).await.unwrap(), Some(Verified::NeedsRehash));
        let other = Secret::new("another one".into());
        let many = h.hash_many(&s, vec![pw.clone(), other.clone()]).await.unwrap();
        assert_eq!(many.len(), 2);
        for (phc, pw) in many.into_iter().zip([&pw, &other]) {
            assert_eq!(h.verify(&s, pw, Some(&phc.unwrap())).await.unwrap(), Some(Verified::Current));
        }
        assert_eq!(h.stats().waiting, 0);
    }

    #[tokio::test]
    async fn verifies_hashes_made_by_the_argon2_crate() {
        let (h, s) = (cheap(), share());
        let params = Params::new(256, 2, 1, None).unwrap();
        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i] {
            let phc = Argon2::new(algorithm, Version::V0x13, params.clone())
                .hash_password(b"hunter2 hunter2")
                .unwrap()
                .to_string();
            assert_eq!(
                h.verify(&s, &Secret::new("hunter2 hunter2".into()), Some(&phc)).await.unwrap(),
                Some(Verified::NeedsRehash)
            );
            assert_eq!(
                h.verify(&s, &Secret::new("hunter3 hunter3".into()), Some(&phc)).await.unwrap(),
                None
            );
        }
    }

    #[tokio::test]
    async fn a_stored_hash_above_the_ceiling_never_verifies() {
        let (h, s) = (cheap(), share());
        let ceiling = h.ceiling().memory_kib as u32;
        let pw = Secret::new("hunter2 hunter2".into());
        let made_with = |m: u32| {
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m, 1, 1, None).unwrap())
                .hash_password(b"hunter2 hunter2")
                .unwrap()
                .to_string()
        };
        let at = made_with(ceiling);
        assert_eq!(h.verify(&s, &pw, Some(&at)).await.unwrap(), Some(Verified::NeedsRehash));
        let above = made_with(ceiling + 8);
        assert_eq!(h.verify(&s, &pw, Some(&above)).await.unwrap(), None);
        let bcrypt_13 = bcrypt::hash_with_salt("hunter2 hunter2", 4, [7; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB)
            .replacen("$04$", "$13$", 1);
        assert_eq!(h.verify(&s, &pw, Some(&bcrypt_13)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_full_share_is_refused_at_once_and_other_tenants_still_get_in() {
        let size = PoolSize {
            workers: Some(1),
            requests: Some(2),
            batch: Some(3),
            total: Some(6),
        };
        let h = Arc::new(PasswordHasher::sized(HashCost::default(), size).unwrap());
        // Hold the only worker.
        let (started, running) = oneshot::channel();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let hold = {
            let h = Arc::clone(&h);
            tokio::spawn(async move {
                h.run(&Share::tenant(&"holder".into()), move || {
                    let _ = started.send(());
                    let _ = held.recv();
                })
                .await
            })
        };
        running.await.unwrap();
        let pw = Secret::new("correct horse".into());
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let (h, pw) = (Arc::clone(&h), pw.clone());
                tokio::spawn(async move { h.hash(&Share::tenant(&"a".into()), &pw).await })
            })
            .collect();
        while h.stats().waiting < 2 {
            tokio::task::yield_now().await;
        }
        let refused = h.hash(&Share::tenant(&"a".into()), &pw).await;
        assert!(matches!(refused, Err(DomainError::Overloaded { retry_after }) if retry_after == Duration::from_secs(1)));
        // A batch of 3 fits tenant a's batch share, but not the 6 in all (1 + 2 + 3 + 1 > 6 with b's).
        let other = {
            let (h, pw) = (Arc::clone(&h), pw.clone());
            tokio::spawn(async move { h.hash(&Share::tenant(&"b".into()), &pw).await })
        };
        while h.stats().waiting < 3 {
            tokio::task::yield_now().await;
        }
        let batch = h.hash_many(&Share::partner(&"a".into(), &"p".into()), vec![pw.clone(); 3]).await;
        assert!(matches!(batch, Err(DomainError::Overloaded { .. })), "{batch:?}");
        assert_eq!(h.batch_capacity(), 3);
        assert_eq!(h.stats().refused, 4);
        release.send(()).unwrap();
        hold.await.unwrap().unwrap();
        for q in queued {
            assert!(q.await.unwrap().is_ok());
        }
        assert!(other.await.unwrap().is_ok());
        assert_eq!(
            h.hash_many(&Share::partner(&"a".into(), &"p".into()), vec![pw; 3])
                .await
                .unwrap()
                .len(),
            3
        );
    }
}
