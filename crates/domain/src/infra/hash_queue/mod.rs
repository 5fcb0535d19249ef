//! The queue in front of the hashing workers: bounded, fair between tenants,
//! and cancellable.
//!
//! Each tenant (an environment) has FIFO lanes: one for its own requests
//! (logins, sign-ups, password changes) and one per partner (partner
//! creates and batch imports). Workers serve the tenants with waiting jobs
//! in turn, one job per turn, and within a tenant its lanes in turn. So a
//! job waits behind at most one job of every other busy tenant (and lane)
//! before its own turn comes, however long another tenant's backlog is: a
//! 1,000-item batch delays another instance's login by about one hash.
//!
//! Admission is bounded per tenant (requests, batch items) and in total;
//! past a bound the caller gets `Overloaded` at once. A batch is admitted
//! whole or not at all, so it never half-runs. Jobs still waiting when
//! their caller goes away (a dropped request) are removed from the queue and
//! never run; a job already running finishes (argon2 cannot be interrupted).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::infra::hashing::Memory;

mod turns;

use turns::State;

use crate::ids::{EnvId, PartnerId};

/// A unit of work for a worker, given the worker's reusable argon2 memory.
pub(crate) type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// Whose turn a hash waits for: the tenant (environment id) it is done for
/// and, within it, the partner (or none: the environment's own requests).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Share {
    tenant: String,
    lane: String,
}

impl Share {
    /// A hash for one of the environment's own requests.
    pub fn tenant(env_id: &EnvId) -> Self {
        Self {
            tenant: env_id.as_str().to_owned(),
            lane: String::new(),
        }
    }

    /// A hash for a partner of the environment (its creates and batches).
    pub fn partner(env_id: &EnvId, partner_id: &PartnerId) -> Self {
        Self {
            tenant: env_id.as_str().to_owned(),
            lane: partner_id.as_str().to_owned(),
        }
    }
}

/// Whether a job came alone (one per request) or with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Request,
    Batch,
}

/// The bounds on jobs queued or running.
#[derive(Debug, Clone, Copy)]
pub struct QueueLimits {
    /// Per tenant, jobs of single requests.
    pub requests: usize,
    /// Per tenant, batch items.
    pub batch: usize,
    /// All tenants, all jobs.
    pub total: usize,
}

/// What the queue has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashStats {
    /// Jobs admitted and not yet started.
    pub waiting: usize,
    /// Jobs running now.
    pub running: usize,
    /// Jobs that ran to completion.
    pub completed: u64,
    /// Jobs removed unrun because their caller went away.
    pub cancelled: u64,
    /// Jobs refused because a bound was reached (a refused batch counts all its items).
    pub refused: u64,
}

/// Why a submission was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A bound is reached now; retry after about this long.
    Busy(Duration),
    /// More jobs than the bound could ever hold at once.
    TooMany { most: usize },
}

/// The queue shared by the hasher and its worker threads.
pub(crate) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
    limits: QueueLimits,
    workers: usize,
    closed: AtomicBool,
    completed: AtomicU64,
    cancelled: AtomicU64,
    refused: AtomicU64,
    /// A moving average of how long a job runs, for `Retry-After`.
    job_micros: AtomicU64,
}

/// What a worker gets when it asks for work.
pub(crate) enum Next {
    Job(Running),
    /// Nothing arrived for the idle period.
    Idle,
    /// The hasher is gone: the worker exits.
    Closed,
}

/// A job taken by a worker; its slot is given back when this is dropped.
pub(crate) struct Running {
    queue: Arc<Queue>,
    tenant: String,
    kind: Kind,
    job: Option<Job>,
    started: Instant,
}

impl Running {
    pub(crate) fn run(mut self, memory: &mut Memory) {
        if let Some(job) = self.job.take() {
            job(memory);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let micros = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let old = self.queue.job_micros.load(Ordering::Relaxed);
        // An exponential moving average with weight 1/8 is enough for an estimate.
        let average = if old == 0 { micros } else { old - old / 8 + micros / 8 };
        self.queue.job_micros.store(average, Ordering::Relaxed);
        self.queue.completed.fetch_add(1, Ordering::Relaxed);
        let mut state = self.queue.lock();
        state.running -= 1;
        state.release(&self.tenant, self.kind, 1);
    }
}

/// Jobs admitted together; those still waiting when it is dropped before
/// [`Ticket::finish`] are removed from the queue and never run.
pub(crate) struct Ticket {
    queue: Arc<Queue>,
    share: Share,
    kind: Kind,
    id: u64,
    finished: bool,
}

impl Ticket {
    /// Every job of the ticket has run: nothing to cancel.
    pub(crate) fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let removed = self.queue.lock().remove(&self.share, self.kind, self.id);
        self.queue.cancelled.fetch_add(removed as u64, Ordering::Relaxed);
    }
}

impl Queue {
    pub(crate) fn new(limits: QueueLimits, workers: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
            limits,
            workers: workers.max(1),
            closed: AtomicBool::new(false),
            completed: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            job_micros: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked mid-job leaves consistent counts (they are
        // updated outside jobs), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits `jobs` in `share`'s lane, all of them or none.
    pub(crate) fn submit(self: &Arc<Self>, share: &Share, kind: Kind, jobs: Vec<Job>) -> Result<Ticket, Refused> {
        let count = jobs.len();
        let tenant_bound = match kind {
            Kind::Request => self.limits.requests,
            Kind::Batch => self.limits.batch,
        };
        let most = tenant_bound.min(self.limits.total);
        if count > most {
            self.refused.fetch_add(count as u64, Ordering::Relaxed);
            return Err(Refused::TooMany { most });
        }
        let mut guard = self.lock();
        let state = &mut *guard;
        state.next_ticket += 1;
        let id = state.next_ticket;
        if count == 0 {
            return Ok(self.ticket(share, kind, id));
        }
        let excess = (state.admitted_in(share, kind) + count)
            .saturating_sub(tenant_bound)
            .max((state.admitted + count).saturating_sub(self.limits.total));
        if excess > 0 {
            drop(guard);
            self.refused.fetch_add(count as u64, Ordering::Relaxed);
            return Err(Refused::Busy(self.retry_after(kind, excess)));
        }
        state.push(share, kind, id, jobs);
        drop(guard);
        for _ in 0..count.min(self.workers) {
            self.ready.notify_one();
        }
        Ok(self.ticket(share, kind, id))
    }

    fn ticket(self: &Arc<Self>, share: &Share, kind: Kind, id: u64) -> Ticket {
        Ticket {
            queue: Arc::clone(self),
            share: share.clone(),
            kind,
            id,
            finished: false,
        }
    }

    /// How long until `excess` slots are likely free: single requests retry
    /// after a second (the queue moves fast); a batch after about the time
    /// the workers take for that many jobs.
    fn retry_after(&self, kind: Kind, excess: usize) -> Duration {
        if kind == Kind::Request {
            return Duration::from_secs(1);
        }
        let micros = self.job_micros.load(Ordering::Relaxed).max(1_000);
        let secs = (excess as u64 * micros / self.workers as u64).div_ceil(1_000_000);
        Duration::from_secs(secs.clamp(1, 60))
    }

    /// Blocks until a job is waiting (round-robin order), `idle` passes, or the queue closes.
    pub(crate) fn next(self: &Arc<Self>, idle: Duration) -> Next {
        let mut state = self.lock();
        loop {
            if self.closed.load(Ordering::Acquire) {
                return Next::Closed;
            }
            if let Some((tenant, queued)) = state.pop() {
                return Next::Job(Running {
                    queue: Arc::clone(self),
                    tenant,
                    kind: queued.kind,
                    job: Some(queued.job),
                    started: Instant::now(),
                });
            }
            let (guard, timeout) = self
                .ready
                .wait_timeout(state, idle)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state = guard;
            if timeout.timed_out() && state.waiting == 0 {
                return Next::Idle;
            }
        }
    }

    /// The most jobs one batch may hold.
    pub(crate) fn batch_capacity(&self) -> usize {
        self.limits.batch.min(self.limits.total)
    }

    /// Wakes every worker so that it exits.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let _state = self.lock();
        self.ready.notify_all();
    }

    pub(crate) fn stats(&self) -> HashStats {
        let state = self.lock();
        HashStats {
            waiting: state.waiting,
            running: state.running,
            completed: self.completed.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue without threads: the test plays the worker, so the order is exact.
    fn queue(requests: usize, batch: usize, total: usize) -> Arc<Queue> {
        Arc::new(Queue::new(QueueLimits { requests, batch, total }, 1))
    }

    fn jobs(log: &Arc<Mutex<Vec<String>>>, names: &[&str]) -> Vec<Job> {
        names
            .iter()
            .map(|name| {
                let (log, name) = (Arc::clone(log), (*name).to_owned());
                Box::new(move |_: &mut Memory| log.lock().unwrap().push(name)) as Job
            })
            .collect()
    }

    /// Runs every waiting job as a worker would; returns what ran, in order.
    fn drain(q: &Arc<Queue>, log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
        while let Next::Job(job) = q.next(Duration::ZERO) {
            job.run(&mut Memory::default());
        }
        std::mem::take(&mut *log.lock().unwrap())
    }

    #[test]
    fn tenants_and_their_lanes_take_turns() {
        let (q, log) = (queue(10, 10, 100), Arc::new(Mutex::new(Vec::new())));
        let a = Share::partner(&"a".into(), &"p1".into());
        let _t1 = q.submit(&a, Kind::Batch, jobs(&log, &["a1", "a2", "a3", "a4"])).unwrap();
        let _t2 = q.submit(&Share::tenant(&"b".into()), Kind::Request, jobs(&log, &["b1"])).unwrap();
        let _t3 = q
            .submit(&Share::tenant(&"a".into()), Kind::Request, jobs(&log, &["a-login"]))
            .unwrap();
        let _t4 = q
            .submit(&Share::partner(&"a".into(), &"p2".into()), Kind::Batch, jobs(&log, &["q1", "q2"]))
            .unwrap();
        let _t5 = q
            .submit(&Share::tenant(&"c".into()), Kind::Request, jobs(&log, &["c1", "c2"]))
            .unwrap();
        assert_eq!(q.stats().waiting, 10);
        // Tenants a, b, c in turn; within a, its lanes p1, requests, p2 in turn.
        assert_eq!(drain(&q, &log), ["a1", "b1", "c1", "a-login", "c2", "q1", "a2", "q2", "a3", "a4"]);
        let stats = q.stats();
        assert_eq!((stats.waiting, stats.running, stats.completed), (0, 0, 10));
        assert!(q.lock().tenants.is_empty(), "idle tenants are forgotten");
        // A batch of imported hashes only submits nothing, and leaves nothing behind.
        drop(
            q.submit(&Share::partner(&"d".into(), &"p".into()), Kind::Batch, Vec::new())
                .unwrap(),
        );
        assert!(q.lock().tenants.is_empty());
    }

    #[test]
    fn bounds_per_tenant_and_in_total_with_batches_admitted_whole() {
        let (q, log) = (queue(2, 3, 6), Arc::new(Mutex::new(Vec::new())));
        let a = Share::tenant(&"a".into());
        let _r = q.submit(&a, Kind::Request, jobs(&log, &["r1", "r2"])).unwrap();
        assert_eq!(
            q.submit(&a, Kind::Request, jobs(&log, &["r3"])).err(),
            Some(Refused::Busy(Duration::from_secs(1)))
        );
        let _b = q
            .submit(&Share::partner(&"a".into(), &"p".into()), Kind::Batch, jobs(&log, &["b1", "b2"]))
            .unwrap();
        assert!(matches!(
            q.submit(&Share::partner(&"a".into(), &"p".into()), Kind::Batch, jobs(&log, &["b3", "b4"])),
            Err(Refused::Busy(_))
        ));
        assert_eq!(
            q.submit(
                &Share::partner(&"c".into(), &"p".into()),
                Kind::Batch,
                jobs(&log, &["1", "2", "3", "4"])
            )
            .err(),
            Some(Refused::TooMany { most: 3 })
        );
        // Tenant b has its own share, until the total (6) is reached.
        let _c = q
            .submit(&Share::tenant(&"b".into()), Kind::Request, jobs(&log, &["c1", "c2"]))
            .unwrap();
        assert!(matches!(
            q.submit(&Share::tenant(&"d".into()), Kind::Request, jobs(&log, &["d1"])),
            Err(Refused::Busy(_))
        ));
        assert_eq!(q.stats().refused, 1 + 2 + 4 + 1);
        assert_eq!(drain(&q, &log), ["r1", "c1", "b1", "c2", "r2", "b2"]);
        let _d = q.submit(&Share::tenant(&"d".into()), Kind::Request, jobs(&log, &["d1"])).unwrap();
        assert_eq!(drain(&q, &log), ["d1"]);
    }

    #[test]
    fn a_dropped_ticket_takes_its_waiting_jobs_out_of_the_queue() {
        let (q, log) = (queue(10, 10, 100), Arc::new(Mutex::new(Vec::new())));
        let a = Share::partner(&"a".into(), &"p".into());
        let dropped = q.submit(&a, Kind::Batch, jobs(&log, &["x1", "x2", "x3"])).unwrap();
        let kept = q.submit(&a, Kind::Batch, jobs(&log, &["k1"])).unwrap();
        let _b = q.submit(&Share::tenant(&"b".into()), Kind::Request, jobs(&log, &["b1"])).unwrap();
        // x1 is running when its caller goes away: it finishes, x2 and x3 never run.
        let Next::Job(running) = q.next(Duration::ZERO) else {
            panic!("a job is waiting")
        };
        drop(dropped);
        let stats = q.stats();
        assert_eq!((stats.waiting, stats.running, stats.cancelled), (2, 1, 2));
        running.run(&mut Memory::default());
        assert_eq!(drain(&q, &log), ["x1", "b1", "k1"]);
        kept.finish();
        // A finished ticket cancels nothing, and the slots are all given back.
        let t = q.submit(&Share::tenant(&"b".into()), Kind::Request, jobs(&log, &["b2"])).unwrap();
        assert_eq!(drain(&q, &log), ["b2"]);
        drop(t);
        assert_eq!(q.stats().cancelled, 2);
        let state = q.lock();
        assert_eq!((state.admitted, state.waiting, state.running), (0, 0, 0));
        assert!(state.tenants.is_empty() && state.turn.is_empty());
    }
}
