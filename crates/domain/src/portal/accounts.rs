//! What the portal shows of the accounts a partner created beyond the
//! accounts themselves: where their sign-in links stand.

use crate::accounts::Account;
use crate::error::DomainError;
use crate::ids::AccountId;
use crate::portal::Member;
use crate::portal::service::{Portal, require_approved};
use crate::signin_links::LinkState;

impl Portal {
    /// The newest stored sign-in link of each of `accounts` that the
    /// member's partner created (others are skipped).
    ///
    /// # Errors
    /// `PartnerNotApproved`; storage failures.
    pub async fn link_states(&self, member: &Member, accounts: &[Account]) -> Result<Vec<LinkState>, DomainError> {
        require_approved(member)?;
        let ids: Vec<AccountId> = accounts
            .iter()
            .filter(|a| a.partner_id.as_ref() == Some(&member.partner.id))
            .map(|a| a.id.clone())
            .collect();
        Ok(self.store.latest_login_links(&member.partner.env_id, &ids).await?)
    }
}
