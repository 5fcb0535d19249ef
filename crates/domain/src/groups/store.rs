//! What groups need from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::groups::{Group, GroupSummary, Member};
use crate::ids::{AccountId, EnvId, GroupId};
use crate::scim::groups::GroupAttr;
use crate::scim::query::Query;
use crate::store::StoreError;

#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Stores a new group and its members (ids that are no account of the
    /// environment are skipped), with its audit event, in one transaction.
    /// `Conflict("display_name")` or `Conflict("external_id")` when taken.
    async fn create_group(&self, group: &Group, members: &[AccountId], audit: &AuditEvent) -> Result<(), StoreError>;
    /// A group of the environment.
    async fn group(&self, env_id: &EnvId, id: &GroupId) -> Result<Option<Group>, StoreError>;
    /// A page of the environment's groups in id order after skipping
    /// `offset`, and how many match in all.
    async fn groups(&self, env_id: &EnvId, query: &GroupQuery, offset: u64, limit: u32) -> Result<(Vec<Group>, u64), StoreError>;
    /// Up to `limit` groups after `after` in id order, with member counts.
    async fn group_summaries(&self, env_id: &EnvId, after: Option<&GroupId>, limit: u32) -> Result<Vec<GroupSummary>, StoreError>;
    /// How many members the group has.
    async fn member_count(&self, env_id: &EnvId, id: &GroupId) -> Result<u64, StoreError>;
    /// Every member of these groups, in account id order per group.
    async fn members_of(&self, env_id: &EnvId, ids: &[GroupId]) -> Result<Vec<(GroupId, Member)>, StoreError>;
    /// Up to `limit` members of the group after `after`, in account id order.
    async fn member_page(&self, env_id: &EnvId, id: &GroupId, after: Option<&AccountId>, limit: u32) -> Result<Vec<Member>, StoreError>;
    /// Which of `ids` are accounts of the environment.
    async fn known_accounts(&self, env_id: &EnvId, ids: &[AccountId]) -> Result<Vec<AccountId>, StoreError>;
    /// Applies `change` with its audit event in one transaction; the
    /// version goes up by one. `Conflict` as for [`create_group`](Self::create_group).
    async fn update_group(
        &self,
        env_id: &EnvId,
        id: &GroupId,
        change: &GroupChange,
        audit: &AuditEvent,
    ) -> Result<Written<Group>, StoreError>;
    /// Deletes the group and its memberships.
    async fn delete_group(
        &self,
        env_id: &EnvId,
        id: &GroupId,
        expected_version: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<Written<()>, StoreError>;
    /// The groups an account is a member of, in display name order.
    async fn account_groups(&self, env_id: &EnvId, account_id: &AccountId) -> Result<Vec<(GroupId, String)>, StoreError>;
}

/// Which groups a SCIM listing asks for: none is every group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupQuery {
    pub filter: Option<Query<GroupAttr>>,
}

/// A change to a group, applied in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupChange {
    /// Only if the group's version is still this one (`If-Match`).
    pub expected_version: Option<i64>,
    pub display_name: Option<String>,
    /// `Some(None)` removes the external id.
    pub external_id: Option<Option<String>>,
    /// Membership changes, in order.
    pub members: Vec<MemberOp>,
    pub at: Millis,
}

/// One membership change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberOp {
    /// Adds these accounts (members already are kept once).
    Add(Vec<AccountId>),
    /// Removes these accounts (non-members are ignored).
    Remove(Vec<AccountId>),
    /// Removes every member.
    Clear,
}

/// The outcome of a write that can find nothing or a newer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    Done(T),
    /// No such group in the environment.
    Missing,
    /// The group's version is not the expected one.
    Stale,
}
