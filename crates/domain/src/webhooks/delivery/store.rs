//! What delivery needs from storage.

use async_trait::async_trait;

use crate::clock::Millis;
use crate::events::Event;
use crate::ids::{EndpointId, EnvId, EventId};
use crate::store::StoreError;
use crate::webhooks::Endpoint;
use crate::webhooks::delivery::{Attempt, AttemptCursor, CursorClaim, CursorMove, Message, Recorded};

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Every enabled endpoint, of every environment.
    async fn enabled_endpoints(&self) -> Result<Vec<Endpoint>, StoreError>;
    /// The events of an environment with these sequence numbers (those
    /// still kept), in any order.
    async fn events_by_sequence(&self, env_id: &EnvId, sequences: &[i64]) -> Result<Vec<Event>, StoreError>;
    /// Takes the claimed cursors, all in one transaction, with a lease
    /// until `lease_until` (or moved past events not wanted); returns the
    /// endpoints whose cursors this node now holds. A claim fails (nothing
    /// written) when another node holds the cursor or moved it, or the
    /// endpoint was disabled.
    async fn claim_cursors(&self, claims: &[CursorClaim], now: Millis, lease_until: Millis) -> Result<Vec<EndpointId>, StoreError>;
    /// Leases up to `limit` messages due at `now` (oldest first) of enabled
    /// endpoints, except those in `skip`, until `lease_until`; a message
    /// leased by another node is skipped until its lease runs out.
    async fn lease_due_messages(
        &self,
        now: Millis,
        lease_until: Millis,
        skip: &[EndpointId],
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// Gives back the leases of messages not attempted, so the next round
    /// (of any node) takes them at once.
    async fn release_leases(&self, messages: &[Message]) -> Result<(), StoreError>;
    /// An event by its id.
    async fn event_by_id(&self, env_id: &EnvId, event_id: &EventId) -> Result<Option<Event>, StoreError>;
    /// Queues `event` for the endpoint now, whatever became of it before
    /// (a message is made if it had none).
    async fn requeue_event(&self, endpoint_id: &EndpointId, event: &Event, now: Millis) -> Result<(), StoreError>;
    /// Queues now every message of the endpoint not delivered whose event
    /// was committed at or after `since`; returns how many.
    async fn requeue_since(&self, endpoint_id: &EndpointId, env_id: &EnvId, since: Millis, now: Millis) -> Result<u64, StoreError>;
    /// An endpoint's attempts, newest first, after `cursor`.
    async fn attempts(&self, endpoint_id: &EndpointId, cursor: Option<&AttemptCursor>, limit: u32) -> Result<Vec<Attempt>, StoreError>;
    /// Records attempts, in order: each one's row, its message's next step
    /// (a first attempt that failed becomes a queued message), its
    /// endpoint's health and its events, and the cursor's move when given,
    /// all in one transaction.
    async fn record_attempts(&self, recorded: &[Recorded], cursor: Option<&CursorMove>) -> Result<(), StoreError>;
}
