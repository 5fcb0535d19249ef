//! Groups and their memberships: one row per membership, so a change to a
//! group of thousands touches only the members it names. Lists of ids are
//! sent in chunks, well under either database's limit on parameters.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::groups::store::{GroupChange, GroupQuery, MemberOp, Written};
use onramp_domain::groups::{Group, GroupSummary, Member, display_key};
use onramp_domain::ids::{AccountId, EnvId, GroupId};
use onramp_domain::store::{GroupStore, StoreError};
use sqlx::AnyConnection;
use sqlx::error::ErrorKind;

use crate::SqlStore;
use crate::db::{R, Record, Sql, insert_audit};
use crate::map_err;
use crate::scim::filter_sql::{Writer, bind_all, count};

/// Ids per statement: far below SQLite's 32,766 and PostgreSQL's 65,535
/// parameters, large enough that a big push takes few statements.
const CHUNK: usize = 500;

const COLUMNS: &str = "g.id, g.env_id, g.display_name, g.external_id, g.version, g.created_at, g.updated_at";

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    env_id: String,
    display_name: String,
    external_id: Option<String>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl Record for GroupRow {
    type Domain = Group;
    fn into_domain(self) -> R<Group> {
        Ok(Group {
            id: self.id.into(),
            env_id: self.env_id.into(),
            display_name: self.display_name,
            external_id: self.external_id,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    group: GroupRow,
    member_count: i64,
}

impl Record for SummaryRow {
    type Domain = GroupSummary;
    fn into_domain(self) -> R<GroupSummary> {
        Ok(GroupSummary {
            group: self.group.into_domain()?,
            member_count: u64::try_from(self.member_count).unwrap_or(0),
        })
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    group_id: String,
    account_id: String,
    email: String,
}

impl Record for MemberRow {
    type Domain = (GroupId, Member);
    fn into_domain(self) -> R<(GroupId, Member)> {
        Ok((
            self.group_id.into(),
            Member {
                account_id: self.account_id.into(),
                email: self.email,
            },
        ))
    }
}

#[derive(sqlx::FromRow)]
struct RefRow {
    id: String,
    display_name: String,
}

impl Record for RefRow {
    type Domain = (GroupId, String);
    fn into_domain(self) -> R<(GroupId, String)> {
        Ok((self.id.into(), self.display_name))
    }
}

/// `$from, $from+1, …` for `n` values.
fn marks(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A membership whose account (or group) went away mid-change: a conflict
/// the service reports, not a storage failure.
fn member_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.kind() == ErrorKind::ForeignKeyViolation => StoreError::Conflict("member"),
        _ => map_err(e),
    }
}

/// Adds the ids that are accounts of the environment; members stay once.
async fn add_members(c: &mut AnyConnection, env_id: &EnvId, id: &GroupId, ids: &[AccountId]) -> R<()> {
    for chunk in ids.chunks(CHUNK) {
        // SQLite reads `ON CONFLICT` after `SELECT … WHERE` as an upsert.
        let sql = format!(
            "INSERT INTO group_members (env_id, group_id, account_id)
             SELECT env_id, $2, id FROM accounts WHERE env_id = $1 AND id IN ({}) ON CONFLICT DO NOTHING",
            marks(3, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(env_id.as_str()).bind(id.as_str());
        for account in chunk {
            query = query.bind(account.as_str());
        }
        query.execute(&mut *c).await.map_err(member_err)?;
    }
    Ok(())
}

async fn remove_members(c: &mut AnyConnection, env_id: &EnvId, id: &GroupId, ids: &[AccountId]) -> R<()> {
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM group_members WHERE env_id = $1 AND group_id = $2 AND account_id IN ({})",
            marks(3, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(env_id.as_str()).bind(id.as_str());
        for account in chunk {
            query = query.bind(account.as_str());
        }
        query.run(&mut *c).await?;
    }
    Ok(())
}

/// Whether the group exists, to tell a missing group from a stale version.
async fn exists(c: &mut AnyConnection, env_id: &EnvId, id: &GroupId) -> R<bool> {
    let found = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM account_groups WHERE env_id = $1 AND id = $2")
        .bind(env_id.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *c)
        .await
        .map_err(map_err)?;
    Ok(found > 0)
}

async fn select_group(c: &mut AnyConnection, env_id: &EnvId, id: &GroupId) -> R<Option<Group>> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM account_groups g WHERE g.env_id = $1 AND g.id = $2"
    )))
    .bind(env_id.as_str())
    .bind(id.as_str())
    .optional::<GroupRow, _>(&mut *c)
    .await
}

#[async_trait]
impl GroupStore for SqlStore {
    async fn create_group(&self, group: &Group, members: &[AccountId], audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO account_groups (env_id, id, display_name, display_key, external_id, version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(group.env_id.as_str())
            .bind(group.id.as_str())
            .bind(&group.display_name)
            .bind(display_key(&group.display_name))
            .bind(group.external_id.as_deref())
            .bind(group.version)
            .bind(group.created_at)
            .bind(group.updated_at)
            .run(&mut *c)
            .await?;
            add_members(c, &group.env_id, &group.id, members).await
        })
        .await
    }

    async fn group(&self, env_id: &EnvId, id: &GroupId) -> R<Option<Group>> {
        let mut c = self.pool.acquire().await.map_err(map_err)?;
        select_group(&mut c, env_id, id).await
    }

    async fn groups(&self, env_id: &EnvId, query: &GroupQuery, offset: u64, limit: u32) -> R<(Vec<Group>, u64)> {
        let mut writer = Writer::new(self.backend, 2);
        let conditions = match &query.filter {
            Some(filter) => format!(" AND {}", writer.write(filter)),
            None => String::new(),
        };
        let values = writer.binds;
        let count_sql = format!("SELECT COUNT(*) FROM account_groups g WHERE g.env_id = $1{conditions}");
        let total = count(&self.pool, count_sql, env_id.as_str(), &values).await?;
        let n = values.len();
        let page_sql = format!(
            "SELECT {COLUMNS} FROM account_groups g WHERE g.env_id = $1{conditions} ORDER BY g.id LIMIT ${} OFFSET ${}",
            n + 2,
            n + 3
        );
        let page = bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)).bind(env_id.as_str()), &values);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let groups = page.bind(i64::from(limit)).bind(offset).all::<GroupRow, _>(&self.pool).await?;
        Ok((groups, total))
    }

    async fn group_summaries(&self, env_id: &EnvId, after: Option<&GroupId>, limit: u32) -> R<Vec<GroupSummary>> {
        let sql = format!(
            "SELECT {COLUMNS}, (SELECT COUNT(*) FROM group_members m WHERE m.env_id = g.env_id AND m.group_id = g.id) AS member_count
             FROM account_groups g WHERE g.env_id = $1 AND g.id > $2 ORDER BY g.id LIMIT $3"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(env_id.as_str())
            .bind(after.map_or("", GroupId::as_str))
            .bind(i64::from(limit))
            .all::<SummaryRow, _>(&self.pool)
            .await
    }

    async fn member_count(&self, env_id: &EnvId, id: &GroupId) -> R<u64> {
        let n = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM group_members WHERE env_id = $1 AND group_id = $2")
            .bind(env_id.as_str())
            .bind(id.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn members_of(&self, env_id: &EnvId, ids: &[GroupId]) -> R<Vec<(GroupId, Member)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT m.group_id, m.account_id, a.email FROM group_members m
                 JOIN accounts a ON a.env_id = m.env_id AND a.id = m.account_id
                 WHERE m.env_id = $1 AND m.group_id IN ({}) ORDER BY m.group_id, m.account_id",
                marks(2, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(env_id.as_str());
            for id in chunk {
                query = query.bind(id.as_str());
            }
            out.extend(query.all::<MemberRow, _>(&self.pool).await?);
        }
        Ok(out)
    }

    async fn member_page(&self, env_id: &EnvId, id: &GroupId, after: Option<&AccountId>, limit: u32) -> R<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT m.group_id, m.account_id, a.email FROM group_members m
             JOIN accounts a ON a.env_id = m.env_id AND a.id = m.account_id
             WHERE m.env_id = $1 AND m.group_id = $2 AND m.account_id > $3 ORDER BY m.account_id LIMIT $4",
        )
        .bind(env_id.as_str())
        .bind(id.as_str())
        .bind(after.map_or("", AccountId::as_str))
        .bind(i64::from(limit))
        .all::<MemberRow, _>(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(_, m)| m).collect())
    }

    async fn known_accounts(&self, env_id: &EnvId, ids: &[AccountId]) -> R<Vec<AccountId>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!("SELECT id FROM accounts WHERE env_id = $1 AND id IN ({})", marks(2, chunk.len()));
            let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(env_id.as_str());
            for id in chunk {
                query = query.bind(id.as_str());
            }
            out.extend(query.fetch_all(&self.pool).await.map_err(map_err)?.into_iter().map(AccountId::from));
        }
        Ok(out)
    }

    async fn update_group(&self, env_id: &EnvId, id: &GroupId, change: &GroupChange, audit: &AuditEvent) -> R<Written<Group>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // The group's row first: in PostgreSQL its lock queues concurrent
        // changes of one group, so versions count every change.
        let mut sets = String::from("version = version + 1, updated_at = $3");
        let mut values: Vec<Option<String>> = Vec::new();
        if let Some(name) = &change.display_name {
            values.extend([Some(name.clone()), Some(display_key(name))]);
            sets.push_str(&format!(
                ", display_name = ${}, display_key = ${}",
                values.len() + 2,
                values.len() + 3
            ));
        }
        if let Some(external_id) = &change.external_id {
            values.push(external_id.clone());
            sets.push_str(&format!(", external_id = ${}", values.len() + 3));
        }
        let mut sql = format!("UPDATE account_groups SET {sets} WHERE env_id = $1 AND id = $2");
        if change.expected_version.is_some() {
            sql.push_str(&format!(" AND version = ${}", values.len() + 4));
        }
        let mut update = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(env_id.as_str())
            .bind(id.as_str())
            .bind(change.at);
        for value in values {
            update = update.bind(value);
        }
        if let Some(version) = change.expected_version {
            update = update.bind(version);
        }
        if update.run(&mut *tx).await? == 0 {
            let missing = !exists(&mut tx, env_id, id).await?;
            return Ok(if missing { Written::Missing } else { Written::Stale });
        }
        for op in &change.members {
            match op {
                MemberOp::Add(ids) => add_members(&mut tx, env_id, id, ids).await?,
                MemberOp::Remove(ids) => remove_members(&mut tx, env_id, id, ids).await?,
                MemberOp::Clear => {
                    sqlx::query("DELETE FROM group_members WHERE env_id = $1 AND group_id = $2")
                        .bind(env_id.as_str())
                        .bind(id.as_str())
                        .run(&mut *tx)
                        .await?;
                }
            }
        }
        let group = select_group(&mut tx, env_id, id).await?.ok_or(StoreError::NotFound)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Written::Done(group))
    }

    async fn delete_group(&self, env_id: &EnvId, id: &GroupId, expected_version: Option<i64>, audit: &AuditEvent) -> R<Written<()>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let sql = match expected_version {
            Some(_) => "DELETE FROM account_groups WHERE env_id = $1 AND id = $2 AND version = $3",
            None => "DELETE FROM account_groups WHERE env_id = $1 AND id = $2",
        };
        let mut delete = sqlx::query(sql).bind(env_id.as_str()).bind(id.as_str());
        if let Some(version) = expected_version {
            delete = delete.bind(version);
        }
        if delete.run(&mut *tx).await? == 0 {
            let missing = !exists(&mut tx, env_id, id).await?;
            return Ok(if missing { Written::Missing } else { Written::Stale });
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Written::Done(()))
    }

    async fn account_groups(&self, env_id: &EnvId, account_id: &AccountId) -> R<Vec<(GroupId, String)>> {
        sqlx::query(
            "SELECT g.id, g.display_name FROM group_members m
             JOIN account_groups g ON g.env_id = m.env_id AND g.id = m.group_id
             WHERE m.env_id = $1 AND m.account_id = $2 ORDER BY g.display_key, g.id",
        )
        .bind(env_id.as_str())
        .bind(account_id.as_str())
        .all::<RefRow, _>(&self.pool)
        .await
    }
}
