//! What operators and their console sessions need from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::OperatorId;
use crate::operators::{Operator, OperatorSession};
use crate::store::StoreError;

#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// `Conflict` when the email is taken.
    async fn create_operator(&self, operator: &Operator, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn operator(&self, id: &OperatorId) -> Result<Option<Operator>, StoreError>;
    async fn operator_by_email(&self, email: &str) -> Result<Option<Operator>, StoreError>;
    /// Every operator, oldest first.
    async fn operators(&self) -> Result<Vec<Operator>, StoreError>;
    /// Writes the password hash and disabled state; with `end_sessions`,
    /// every console session of the operator ends in the same transaction.
    async fn update_operator(&self, operator: &Operator, end_sessions: bool, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Stores the enrolled TOTP secret (sealed), the step its confirming
    /// code used and the hashes of fresh recovery codes (replacing any).
    async fn enrol_totp(
        &self,
        id: &OperatorId,
        sealed_secret: &[u8],
        step: i64,
        recovery_hashes: &[String],
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Accepts TOTP `step` for the operator if no later or equal step was
    /// accepted before; `false` for a code already used.
    async fn accept_totp_step(&self, id: &OperatorId, step: i64) -> Result<bool, StoreError>;
    /// Removes a recovery code; `false` when the operator has no such code
    /// (never had, or used it).
    async fn use_recovery_code(&self, id: &OperatorId, code_hash: &str) -> Result<bool, StoreError>;
    /// How many recovery codes the operator has left.
    async fn recovery_codes_left(&self, id: &OperatorId) -> Result<u32, StoreError>;
    async fn create_operator_session(&self, session: &OperatorSession) -> Result<(), StoreError>;
    async fn operator_session(&self, token_hash: &str) -> Result<Option<OperatorSession>, StoreError>;
    /// Writes the stage, the pending secret and the last-seen time, with
    /// `audit` (a completed sign-in) in the same transaction.
    async fn update_operator_session(&self, session: &OperatorSession, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
    async fn delete_operator_session(&self, token_hash: &str, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
    /// Removes sessions idle since before `idle_before`; returns how many.
    async fn purge_operator_sessions(&self, idle_before: Millis) -> Result<u64, StoreError>;
}
