//! `/Users` listings: which accounts a SCIM filter asks for, and a page of
//! them by `startIndex` and `count`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::accounts::{Account, canonical_email};
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::AccountId;
use crate::infra::hashing::PasswordHasher;
use crate::scim::store::{ScimExtra, UserQuery};
use crate::scim::{CompValue, CompareOp, Filter};
use crate::store::Store;
use crate::tenancy::Tenant;

/// The most resources a page holds (`filter.maxResults`).
pub const MAX_RESULTS: u32 = 200;
/// A page's size when `count` is not given.
pub const DEFAULT_COUNT: u32 = 100;

/// A filter this server does not answer (yet): the attribute or operator,
/// for an `invalidFilter` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// The accounts `filter` asks for. Supported: `userName eq "…"`,
/// `externalId eq "…"` and `id eq "…"` (each an index lookup), and no
/// filter (every account).
///
/// # Errors
/// [`Unsupported`] for any other filter.
pub fn user_query(filter: Option<&Filter>) -> Result<UserQuery, Unsupported> {
    let Some(filter) = filter else {
        return Ok(UserQuery::default());
    };
    let unsupported = || {
        Unsupported(format!(
            "filtering with `{filter}` is not supported; use userName eq \"…\", externalId eq \"…\" or id eq \"…\""
        ))
    };
    let Filter::Compare {
        path,
        op: CompareOp::Eq,
        value: CompValue::String(value),
    } = filter
    else {
        return Err(unsupported());
    };
    if path.is("userName") && path.sub.is_none() {
        return Ok(UserQuery {
            email_normalized: Some(canonical_email(value)),
            ..UserQuery::default()
        });
    }
    if path.is("id") && path.sub.is_none() {
        // An id that is no UUID names no account: a lookup that finds none.
        let id = AccountId::parse("id", value).unwrap_or_else(|_| AccountId::new(format!("none:{value}")));
        return Ok(UserQuery {
            id: Some(id),
            ..UserQuery::default()
        });
    }
    if path.is("externalId") {
        return Ok(UserQuery {
            external_id: Some(value.clone()),
            ..UserQuery::default()
        });
    }
    Err(unsupported())
}

/// Accounts as SCIM Users: pages of them, and new ones.
#[derive(Clone)]
pub struct ScimUsers {
    pub(super) store: Arc<dyn Store>,
    pub(super) hasher: Arc<PasswordHasher>,
    pub(super) clock: Arc<dyn Clock>,
}

impl ScimUsers {
    pub(crate) fn new(store: Arc<dyn Store>, hasher: Arc<PasswordHasher>, clock: Arc<dyn Clock>) -> Self {
        Self { store, hasher, clock }
    }

    /// The accounts from `start_index` (1-based), at most `count` (clamped to
    /// [`MAX_RESULTS`]), each with what SCIM keeps of it, and how many
    /// match in all.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn page(
        &self,
        tenant: &Tenant,
        query: &UserQuery,
        start_index: u64,
        count: u32,
    ) -> Result<(Vec<(Account, ScimExtra)>, u64), DomainError> {
        let offset = start_index.max(1) - 1;
        let (accounts, total) = self.store.scim_users(&tenant.env.id, query, offset, count.min(MAX_RESULTS)).await?;
        Ok((self.with_extras(tenant, accounts).await?, total))
    }

    /// What SCIM keeps of one account.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn extra(&self, tenant: &Tenant, account: &Account) -> Result<ScimExtra, DomainError> {
        let found = self.store.scim_extras(&tenant.env.id, std::slice::from_ref(&account.id)).await?;
        Ok(found.into_iter().next().map(|(_, e)| e).unwrap_or_default())
    }

    async fn with_extras(&self, tenant: &Tenant, accounts: Vec<Account>) -> Result<Vec<(Account, ScimExtra)>, DomainError> {
        let ids: Vec<AccountId> = accounts.iter().map(|a| a.id.clone()).collect();
        let mut extras: HashMap<AccountId, ScimExtra> = self.store.scim_extras(&tenant.env.id, &ids).await?.into_iter().collect();
        Ok(accounts
            .into_iter()
            .map(|a| {
                let extra = extras.remove(&a.id).unwrap_or_default();
                (a, extra)
            })
            .collect())
    }
}
