//! The groups service: creating, reading, changing and deleting groups,
//! each change audited with the caller as actor.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::app::Page;
use crate::app::cache::ReadCache;
use crate::audit::{Actor, AuditEvent};
use crate::clock::Clock;
use crate::error::{DomainError, FieldCode, FieldError, Validator};
use crate::groups::store::{GroupChange, GroupQuery, MemberOp, Written};
use crate::groups::{Group, GroupSummary, Member, NewGroup, check_display_name, check_external_id};
use crate::ids::{AccountId, EnvId, GroupId};
use crate::store::{Store, StoreError};
use crate::tenancy::Tenant;

/// Member ids an audit event lists; beyond this it gives only the count.
const AUDITED_IDS: usize = 100;

/// Groups of the environment's accounts.
#[derive(Clone)]
pub struct Groups {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Each account's groups, read with the account on every client read
    /// (`GET /v1/client/{id}`), fresh as the account cache is: a write on
    /// this node forgets them at once, one on another node shows within
    /// the ttl.
    of_account: Arc<ReadCache<(EnvId, AccountId), GroupRefs>>,
}

/// An account's groups: id and display name.
type GroupRefs = Vec<(GroupId, String)>;

impl Groups {
    pub(crate) fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        let of_account = Arc::new(ReadCache::new(ttl, Arc::clone(&clock)));
        Self { store, clock, of_account }
    }

    /// A new group with its members.
    ///
    /// # Errors
    /// `Validation` for a bad name or external id, or members that are no
    /// accounts of the environment; `Conflict` for a taken display name or
    /// external id.
    pub async fn create(&self, tenant: &Tenant, actor: &Actor, new: NewGroup) -> Result<Group, DomainError> {
        let mut v = Validator::default();
        v.check(check_display_name("displayName", &new.display_name));
        if let Some(external_id) = &new.external_id {
            v.check(check_external_id(external_id));
        }
        v.finish()?;
        let members = dedup(&new.members);
        self.check_members(tenant, &members).await?;
        let now = self.clock.now_ms();
        let group = Group {
            id: GroupId::generate(),
            env_id: tenant.env.id.clone(),
            display_name: new.display_name,
            external_id: new.external_id,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let audit = AuditEvent::in_tenant(actor, tenant, "group.created", group.id.as_str()).with_detail(json!({
            "display_name": group.display_name, "external_id": group.external_id, "members": audited_ids(&members),
        }));
        let written = self.store.create_group(&group, &members, &audit).await;
        self.of_account.invalidate_all();
        written.map_err(conflict)?;
        Ok(group)
    }

    /// A group of the environment.
    ///
    /// # Errors
    /// `NotFound("group")`.
    pub async fn group(&self, tenant: &Tenant, id: &GroupId) -> Result<Group, DomainError> {
        self.store.group(&tenant.env.id, id).await?.ok_or(DomainError::NotFound("group"))
    }

    /// The groups `query` asks for from `offset`, at most `limit`, and how
    /// many match in all.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn find(&self, tenant: &Tenant, query: &GroupQuery, offset: u64, limit: u32) -> Result<(Vec<Group>, u64), DomainError> {
        Ok(self.store.groups(&tenant.env.id, query, offset, limit).await?)
    }

    /// Every member of these groups.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn members_of(&self, tenant: &Tenant, ids: &[GroupId]) -> Result<HashMap<GroupId, Vec<Member>>, DomainError> {
        let mut out: HashMap<GroupId, Vec<Member>> = HashMap::new();
        for (group, member) in self.store.members_of(&tenant.env.id, ids).await? {
            out.entry(group).or_default().push(member);
        }
        Ok(out)
    }

    /// A page of groups with their member counts, in id order.
    ///
    /// # Errors
    /// `Validation` for a cursor that is not a group id.
    pub async fn list(&self, tenant: &Tenant, cursor: Option<&str>, limit: u32) -> Result<Page<GroupSummary>, DomainError> {
        let after = cursor.map(|c| cursor_id(c).map(GroupId::new)).transpose()?;
        let items = self.store.group_summaries(&tenant.env.id, after.as_ref(), limit + 1).await?;
        Ok(page(items, limit, |s| s.group.id.to_string()))
    }

    /// A group with its member count.
    ///
    /// # Errors
    /// `NotFound("group")`.
    pub async fn summary(&self, tenant: &Tenant, id: &GroupId) -> Result<GroupSummary, DomainError> {
        let group = self.group(tenant, id).await?;
        let member_count = self.store.member_count(&tenant.env.id, id).await?;
        Ok(GroupSummary { group, member_count })
    }

    /// A page of a group's members, in account id order.
    ///
    /// # Errors
    /// `NotFound("group")`; `Validation` for a bad cursor.
    pub async fn members(&self, tenant: &Tenant, id: &GroupId, cursor: Option<&str>, limit: u32) -> Result<Page<Member>, DomainError> {
        let after = cursor.map(|c| cursor_id(c).map(AccountId::new)).transpose()?;
        self.group(tenant, id).await?;
        let items = self.store.member_page(&tenant.env.id, id, after.as_ref(), limit + 1).await?;
        Ok(page(items, limit, |m| m.account_id.to_string()))
    }

    /// The groups an account is a member of: id and display name.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn account_groups(&self, tenant: &Tenant, account: &AccountId) -> Result<Vec<(GroupId, String)>, DomainError> {
        let key = (tenant.env.id.clone(), account.clone());
        let load = async || self.store.account_groups(&tenant.env.id, account).await.map(Some);
        Ok(self.of_account.get_or_load(&key, load).await?.unwrap_or_default())
    }

    /// Changes a group (the `at` of `change` is set here).
    ///
    /// # Errors
    /// `NotFound("group")`; `Stale("group")` when `expected_version` is
    /// not current; `Validation` and `Conflict` as for [`create`](Self::create).
    pub async fn update(&self, tenant: &Tenant, actor: &Actor, id: &GroupId, mut change: GroupChange) -> Result<Group, DomainError> {
        let mut v = Validator::default();
        if let Some(name) = &change.display_name {
            v.check(check_display_name("displayName", name));
        }
        if let Some(Some(external_id)) = &change.external_id {
            v.check(check_external_id(external_id));
        }
        v.finish()?;
        let added: Vec<AccountId> = change
            .members
            .iter()
            .flat_map(|op| match op {
                MemberOp::Add(ids) => ids.clone(),
                _ => Vec::new(),
            })
            .collect();
        self.check_members(tenant, &dedup(&added)).await?;
        change.at = self.clock.now_ms();
        let audit = AuditEvent::in_tenant(actor, tenant, "group.updated", id.as_str()).with_detail(change_detail(&change));
        let written = self.store.update_group(&tenant.env.id, id, &change, &audit).await;
        // A rename or a membership change reaches every member's list.
        self.of_account.invalidate_all();
        match written.map_err(conflict)? {
            Written::Done(group) => Ok(group),
            Written::Missing => Err(DomainError::NotFound("group")),
            Written::Stale => Err(DomainError::Stale("group")),
        }
    }

    /// Deletes a group and its memberships (never the accounts).
    ///
    /// # Errors
    /// `NotFound("group")`; `Stale("group")`.
    pub async fn delete(&self, tenant: &Tenant, actor: &Actor, id: &GroupId, expected_version: Option<i64>) -> Result<(), DomainError> {
        let audit = AuditEvent::in_tenant(actor, tenant, "group.deleted", id.as_str());
        let written = self.store.delete_group(&tenant.env.id, id, expected_version, &audit).await;
        self.of_account.invalidate_all();
        match written? {
            Written::Done(()) => Ok(()),
            Written::Missing => Err(DomainError::NotFound("group")),
            Written::Stale => Err(DomainError::Stale("group")),
        }
    }

    /// Refuses ids that are no account of the environment, naming them.
    async fn check_members(&self, tenant: &Tenant, ids: &[AccountId]) -> Result<(), DomainError> {
        if ids.is_empty() {
            return Ok(());
        }
        let known: BTreeSet<AccountId> = self.store.known_accounts(&tenant.env.id, ids).await?.into_iter().collect();
        let unknown: Vec<&str> = ids
            .iter()
            .filter(|id| !known.contains(*id))
            .map(AccountId::as_str)
            .take(10)
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(DomainError::Validation(vec![FieldError::new(
            "members",
            FieldCode::InvalidItem,
            format!("no User with id {} in this environment", unknown.join(", ")),
        )]))
    }
}

/// The ids once each, in their first order.
fn dedup(ids: &[AccountId]) -> Vec<AccountId> {
    let mut seen = BTreeSet::new();
    ids.iter().filter(|id| seen.insert((*id).clone())).cloned().collect()
}

fn audited_ids(ids: &[AccountId]) -> Value {
    json!({ "count": ids.len(), "ids": ids.iter().take(AUDITED_IDS).collect::<Vec<_>>() })
}

fn change_detail(change: &GroupChange) -> Value {
    let members: Vec<Value> = change
        .members
        .iter()
        .map(|op| match op {
            MemberOp::Add(ids) => json!({ "add": audited_ids(ids) }),
            MemberOp::Remove(ids) => json!({ "remove": audited_ids(ids) }),
            MemberOp::Clear => json!("clear"),
        })
        .collect();
    json!({ "display_name": change.display_name, "external_id": change.external_id, "members": members })
}

/// A cursor is the last id of the previous page: a UUID.
fn cursor_id(cursor: &str) -> Result<String, DomainError> {
    uuid::Uuid::try_parse(cursor)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| DomainError::invalid("cursor", FieldCode::InvalidUuid, "cursor must be a next_cursor of a previous page"))
}

/// The first `limit` of `items` (fetched `limit + 1`), and a cursor when more follow.
fn page<T>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = (items.len() > limit as usize).then(|| {
        items.truncate(limit as usize);
        items.last().map(&key).unwrap_or_default()
    });
    Page { items, next_cursor }
}

/// A taken display name or external id as the caller's conflict.
fn conflict(e: StoreError) -> DomainError {
    match e {
        // An account deleted while it was being added.
        StoreError::Conflict("member") => {
            DomainError::invalid("members", FieldCode::InvalidItem, "a member is no User of this environment")
        }
        StoreError::Conflict("external_id") => DomainError::Conflict("a Group with this externalId already exists".into()),
        StoreError::Conflict(_) => DomainError::Conflict("a Group with this displayName already exists".into()),
        other => other.into(),
    }
}
