//! The queue's state: tenants' lanes of waiting jobs and whose turn is
//! next, with the counts admission is judged on. No locking here: the
//! queue holds it behind its mutex.

use std::collections::{HashMap, VecDeque};

use super::{Job, Kind, Share};

pub(super) struct Queued {
    pub(super) ticket: u64,
    pub(super) kind: Kind,
    pub(super) job: Job,
}

#[derive(Default)]
pub(super) struct Tenant {
    lanes: HashMap<String, VecDeque<Queued>>,
    /// Lanes with waiting jobs, in the order they are served.
    turn: VecDeque<String>,
    requests: usize,
    batch: usize,
}

impl Tenant {
    pub(super) fn admitted(&mut self, kind: Kind) -> &mut usize {
        match kind {
            Kind::Request => &mut self.requests,
            Kind::Batch => &mut self.batch,
        }
    }

    fn is_idle(&self) -> bool {
        self.lanes.is_empty() && self.requests == 0 && self.batch == 0
    }
}

#[derive(Default)]
pub(super) struct State {
    pub(super) tenants: HashMap<String, Tenant>,
    /// Tenants with waiting jobs, in the order they are served.
    pub(super) turn: VecDeque<String>,
    /// Jobs queued or running.
    pub(super) admitted: usize,
    pub(super) waiting: usize,
    pub(super) running: usize,
    pub(super) next_ticket: u64,
}

impl State {
    /// Jobs of `share`'s tenant and this kind queued or running.
    pub(super) fn admitted_in(&mut self, share: &Share, kind: Kind) -> usize {
        self.tenants.get_mut(&share.tenant).map_or(0, |t| *t.admitted(kind))
    }

    /// Queues `jobs` (at least one) at the back of `share`'s lane; the lane
    /// and its tenant join the back of their turns if they were not waiting.
    pub(super) fn push(&mut self, share: &Share, kind: Kind, ticket: u64, jobs: Vec<Job>) {
        let count = jobs.len();
        self.admitted += count;
        self.waiting += count;
        let tenant = self.tenants.entry(share.tenant.clone()).or_default();
        let tenant_was_waiting = !tenant.turn.is_empty();
        *tenant.admitted(kind) += count;
        let lane = tenant.lanes.entry(share.lane.clone()).or_default();
        if lane.is_empty() {
            tenant.turn.push_back(share.lane.clone());
        }
        lane.extend(jobs.into_iter().map(|job| Queued { ticket, kind, job }));
        if !tenant_was_waiting {
            self.turn.push_back(share.tenant.clone());
        }
    }

    /// The next job in round-robin order: the first tenant in turn, its first
    /// lane in turn, that lane's oldest job; both go to the back of their
    /// turn if they still have jobs waiting.
    pub(super) fn pop(&mut self) -> Option<(String, Queued)> {
        let tenant_id = self.turn.pop_front()?;
        let tenant = self.tenants.get_mut(&tenant_id)?;
        let lane_id = tenant.turn.pop_front()?;
        let lane = tenant.lanes.get_mut(&lane_id)?;
        let queued = lane.pop_front()?;
        if lane.is_empty() {
            tenant.lanes.remove(&lane_id);
        } else {
            tenant.turn.push_back(lane_id);
        }
        if !tenant.turn.is_empty() {
            self.turn.push_back(tenant_id.clone());
        }
        self.waiting -= 1;
        self.running += 1;
        Some((tenant_id, queued))
    }

    /// Takes the jobs of `ticket` still waiting out of `share`'s lane and
    /// gives back their slots; returns how many there were.
    pub(super) fn remove(&mut self, share: &Share, kind: Kind, ticket: u64) -> usize {
        let Some(tenant) = self.tenants.get_mut(&share.tenant) else {
            return 0;
        };
        let Some(lane) = tenant.lanes.get_mut(&share.lane) else {
            return 0;
        };
        let before = lane.len();
        lane.retain(|q| q.ticket != ticket);
        let removed = before - lane.len();
        if lane.is_empty() {
            tenant.lanes.remove(&share.lane);
            tenant.turn.retain(|l| *l != share.lane);
            if tenant.turn.is_empty() {
                self.turn.retain(|t| *t != share.tenant);
            }
        }
        self.waiting -= removed;
        self.release(&share.tenant, kind, removed);
        removed
    }

    /// Gives back `count` admitted slots of `tenant`; an idle tenant is forgotten.
    pub(super) fn release(&mut self, tenant_id: &str, kind: Kind, count: usize) {
        self.admitted -= count;
        if let Some(tenant) = self.tenants.get_mut(tenant_id) {
            *tenant.admitted(kind) -= count;
            if tenant.is_idle() {
                self.tenants.remove(tenant_id);
            }
        }
    }
}
