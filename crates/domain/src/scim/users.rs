//! `/Users` listings: which accounts a SCIM filter asks for, and a page of
//! them by `startIndex` and `count`.

use std::sync::Arc;

use crate::accounts::{Account, canonical_email};
use crate::clock::Clock;
use crate::error::DomainError;
use crate::infra::hashing::PasswordHasher;
use crate::scim::query::{Attributes, Kind, Literal, Query, Unsupported};
use crate::scim::store::ScimExtra;
use crate::scim::{AttrPath, CompareOp, Filter};
use crate::store::Store;
use crate::tenancy::Tenant;

/// The most resources a page holds (`filter.maxResults`).
pub const MAX_RESULTS: u32 = 200;
/// A page's size when `count` is not given.
pub const DEFAULT_COUNT: u32 = 100;

/// The User attributes a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserAttr {
    /// The account's email, compared in its canonical form by `eq`.
    UserName,
    Id,
    ExternalId,
    GivenName,
    FamilyName,
    DisplayName,
    Active,
    Created,
    LastModified,
    /// `emails`: the primary one (the account's email, type `work`) and
    /// the others kept.
    Emails,
    EmailValue,
    EmailType,
    EmailPrimary,
}

impl Attributes for UserAttr {
    fn resolve(path: &AttrPath) -> Option<(Option<Self>, Self)> {
        if !path.is_core() {
            return None;
        }
        let plain = |attr| Some((None, attr));
        match (path.name.as_str(), path.sub.as_deref()) {
            ("username", None) => plain(UserAttr::UserName),
            ("id", None) => plain(UserAttr::Id),
            ("externalid", None) => plain(UserAttr::ExternalId),
            ("displayname", None) => plain(UserAttr::DisplayName),
            ("active", None) => plain(UserAttr::Active),
            ("name", Some("givenname")) => plain(UserAttr::GivenName),
            ("name", Some("familyname")) => plain(UserAttr::FamilyName),
            ("meta", Some("created")) => plain(UserAttr::Created),
            ("meta", Some("lastmodified")) => plain(UserAttr::LastModified),
            ("emails", None) => plain(UserAttr::Emails),
            ("emails", Some(sub)) => Some((Some(UserAttr::Emails), Self::sub(UserAttr::Emails, sub)?)),
            _ => None,
        }
    }

    fn sub(parent: Self, name: &str) -> Option<Self> {
        match (parent, name.to_ascii_lowercase().as_str()) {
            (UserAttr::Emails, "value") => Some(UserAttr::EmailValue),
            (UserAttr::Emails, "type") => Some(UserAttr::EmailType),
            (UserAttr::Emails, "primary") => Some(UserAttr::EmailPrimary),
            _ => None,
        }
    }

    fn kind(self) -> Kind {
        match self {
            UserAttr::Id | UserAttr::ExternalId => Kind::Text { case_exact: true },
            UserAttr::Active | UserAttr::EmailPrimary => Kind::Bool,
            UserAttr::Created | UserAttr::LastModified => Kind::Instant,
            UserAttr::Emails => Kind::Multi,
            _ => Kind::Text { case_exact: false },
        }
    }

    fn supported() -> &'static str {
        "userName, id, externalId, name.givenName, name.familyName, displayName, active, emails (value, type, primary), meta.created and meta.lastModified"
    }
}

/// Which accounts a `/Users` listing asks for: none is every account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserQuery {
    pub filter: Option<Query<UserAttr>>,
}

impl UserQuery {
    /// Resolves `filter` (none: every account).
    ///
    /// # Errors
    /// [`Unsupported`] for what this server cannot answer exactly.
    pub fn from_filter(filter: Option<&Filter>) -> Result<Self, Unsupported> {
        Ok(Self {
            filter: filter.map(Query::resolve).transpose()?,
        })
    }

    /// `externalId eq value`.
    pub fn external_id(value: &str) -> Self {
        Self {
            filter: Some(Query::Compare {
                attr: UserAttr::ExternalId,
                op: CompareOp::Eq,
                value: Literal::Text(value.to_owned()),
            }),
        }
    }

    /// The one attribute and value when the query is `userName eq`, `id eq`
    /// or `externalId eq`: an index lookup of at most one account, with no
    /// count to run. `userName`'s value comes in canonical form.
    pub fn unique(&self) -> Option<(UserAttr, String)> {
        let Some(Query::Compare {
            attr,
            op: CompareOp::Eq,
            value: Literal::Text(value),
        }) = &self.filter
        else {
            return None;
        };
        match attr {
            UserAttr::UserName => Some((*attr, canonical_email(value))),
            UserAttr::Id | UserAttr::ExternalId => Some((*attr, value.clone())),
            _ => None,
        }
    }
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
        Ok((accounts, total))
    }

    /// What SCIM keeps of one account.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn extra(&self, tenant: &Tenant, account: &Account) -> Result<ScimExtra, DomainError> {
        let found = self.store.scim_extras(&tenant.env.id, std::slice::from_ref(&account.id)).await?;
        Ok(found.into_iter().next().map(|(_, e)| e).unwrap_or_default())
    }
}
