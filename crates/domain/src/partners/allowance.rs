//! The scopes an operator lets a partner's keys have. Keys are issued
//! within them (by the operator, the CLI and the partner's portal alike),
//! and narrowing them takes effect at once: a key's scope outside them is
//! refused on the next request, though the key still lists it.

use serde_json::json;

use crate::audit::{Actor, AuditEvent};
use crate::error::{DomainError, FieldCode, FieldError};
use crate::ids::PartnerId;
use crate::partners::service::Partners;
use crate::partners::{Partner, Scope};

/// Scope names as given (form, CLI), sorted and without repeats.
///
/// # Errors
/// `Validation` (`unknown_scope`) naming the first unknown one.
pub fn parse_scopes(raw: &[String]) -> Result<Vec<Scope>, DomainError> {
    let mut parsed: Vec<Scope> = raw
        .iter()
        .map(|s| s.trim().parse())
        .collect::<Result<_, FieldError>>()
        .map_err(|e| DomainError::Validation(vec![e]))?;
    parsed.sort();
    parsed.dedup();
    Ok(parsed)
}

/// Refuses scopes the operator does not allow the partner.
///
/// # Errors
/// `Validation` (`scope_not_allowed`) naming them and what is allowed.
pub fn within_allowance(partner: &Partner, scopes: &[Scope]) -> Result<(), DomainError> {
    let refused: Vec<&str> = scopes.iter().filter(|s| !partner.allows(**s)).map(|s| s.as_str()).collect();
    if refused.is_empty() {
        return Ok(());
    }
    let allowed: Vec<&str> = partner.allowed_scopes.iter().map(|s| s.as_str()).collect();
    Err(DomainError::invalid(
        "scopes",
        FieldCode::ScopeNotAllowed,
        format!(
            "{} not allowed for this partner (allowed: {})",
            refused.join(", "),
            allowed.join(", ")
        ),
    ))
}

impl Partners {
    /// Sets the scopes the partner's keys may have (at least one), audited
    /// as `partner.scopes_changed` with the old and new sets.
    ///
    /// # Errors
    /// `Validation` for no scope or an unknown one, `NotFound("partner")`.
    pub async fn set_allowed_scopes(&self, actor: &Actor, id: &PartnerId, scopes: &[String]) -> Result<Partner, DomainError> {
        let scopes = parse_scopes(scopes)?;
        if scopes.is_empty() {
            return Err(DomainError::invalid(
                "scopes",
                FieldCode::Required,
                "allow at least one scope (suspend the partner to stop its keys)",
            ));
        }
        let mut partner = self.partner(id).await?;
        let audit = AuditEvent::new(
            actor,
            &partner.platform_id,
            Some(partner.environment.as_str()),
            "partner.scopes_changed",
            partner.id.as_str(),
        )
        .with_detail(json!({ "from": partner.allowed_scopes, "to": scopes }));
        partner.allowed_scopes = scopes;
        partner.updated_at = self.clock.now_ms();
        self.store
            .set_partner_scopes(&partner.id, &partner.allowed_scopes, partner.updated_at, &audit)
            .await?;
        Ok(partner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_parsed_sorted_and_deduplicated() {
        let raw = ["usage:read", "accounts:write", " usage:read "].map(String::from);
        assert_eq!(parse_scopes(&raw).unwrap(), [Scope::AccountsWrite, Scope::UsageRead]);
        assert!(matches!(
            parse_scopes(&["admin".to_owned()]),
            Err(DomainError::Validation(e)) if e[0].code == FieldCode::UnknownScope
        ));
    }
}
