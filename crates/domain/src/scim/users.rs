//! `/Users` listings: which accounts a SCIM filter asks for, and a page of
//! them by `startIndex` and `count`.

use std::sync::Arc;

use crate::accounts::{Account, canonical_email};
use crate::error::DomainError;
use crate::ids::AccountId;
use crate::scim::store::UserQuery;
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

/// The accounts `filter` asks for. Supported: `userName eq "…"` and
/// `id eq "…"` (each an index lookup), and no filter (every account).
///
/// # Errors
/// [`Unsupported`] for any other filter.
pub fn user_query(filter: Option<&Filter>) -> Result<UserQuery, Unsupported> {
    let Some(filter) = filter else {
        return Ok(UserQuery::default());
    };
    let unsupported = || {
        Unsupported(format!(
            "filtering with `{filter}` is not supported; use userName eq \"…\" or id eq \"…\""
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
            id: None,
        });
    }
    if path.is("id") && path.sub.is_none() {
        // An id that is no UUID names no account: a lookup that finds none.
        let id = AccountId::parse("id", value).unwrap_or_else(|_| AccountId::new(format!("none:{value}")));
        return Ok(UserQuery {
            email_normalized: None,
            id: Some(id),
        });
    }
    Err(unsupported())
}

/// Reads pages of accounts as SCIM lists them.
#[derive(Clone)]
pub struct ScimUsers {
    store: Arc<dyn Store>,
}

impl ScimUsers {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The accounts from `start_index` (1-based), at most `count` (clamped to
    /// [`MAX_RESULTS`]), and how many match in all.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn page(&self, tenant: &Tenant, query: &UserQuery, start_index: u64, count: u32) -> Result<(Vec<Account>, u64), DomainError> {
        let offset = start_index.max(1) - 1;
        Ok(self.store.scim_users(&tenant.env.id, query, offset, count.min(MAX_RESULTS)).await?)
    }
}
