//! Answering a partner's application: turning it down with a reason.

use serde_json::json;

use crate::audit::Actor;
use crate::error::{DomainError, FieldCode, FieldError};
use crate::ids::PartnerId;
use crate::partners::service::Partners;
use crate::partners::{Partner, PartnerStatus};

impl Partners {
    /// Turns down a partner's application: it is suspended (so none of its
    /// keys work), with the operator's reason in the audit log.
    ///
    /// # Errors
    /// `NotFound("partner")`, `Validation` for an empty or over-long reason,
    /// `Conflict` when the partner is not awaiting approval.
    pub async fn reject_application(&self, actor: &Actor, id: &PartnerId, reason: &str) -> Result<Partner, DomainError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(DomainError::Validation(vec![FieldError::new(
                "reason",
                FieldCode::InvalidLength,
                "a reason of 1 to 500 characters is required",
            )]));
        }
        if self.partner(id).await?.status != PartnerStatus::Pending {
            return Err(DomainError::Conflict(
                "only an application awaiting approval can be rejected".into(),
            ));
        }
        self.change_status(actor, id, PartnerStatus::Suspended, "partner.rejected", json!({ "reason": reason }))
            .await
    }
}
