//! Client accounts. A new password or a deactivation ends the account's
//! sessions in the same transaction; uniqueness of emails is the unique index's job.

use async_trait::async_trait;
use onramp_domain::accounts::{Account, AccountQuery, AccountUpdate, PersonName, Session, canonical_email};
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{AccountId, EnvId, PartnerId};
use onramp_domain::signin_links::LoginToken;
use onramp_domain::store::{AccountStore, StoreError};
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::db::{R, Record, Sql, insert_audit};
use crate::sessions::{delete_sessions, insert_session};
use crate::signin_links::insert_login_token;

pub(crate) const ACCOUNT_COLUMNS: &str =
    "env_id, id, email, first_name, last_name, password_hash, partner_id, active, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: String,
    env_id: String,
    email: String,
    first_name: String,
    last_name: String,
    password_hash: String,
    partner_id: Option<String>,
    active: i64,
    created_at: i64,
    updated_at: i64,
}

impl AccountRow {
    /// The row as an in-place reader (`inline.rs`) reads it.
    pub(crate) fn of_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            env_id: row.get("env_id")?,
            email: row.get("email")?,
            first_name: row.get("first_name")?,
            last_name: row.get("last_name")?,
            password_hash: row.get("password_hash")?,
            partner_id: row.get("partner_id")?,
            active: row.get("active")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }
}

impl Record for AccountRow {
    type Domain = Account;
    fn into_domain(self) -> R<Account> {
        Ok(Account {
            id: self.id.into(),
            env_id: self.env_id.into(),
            email: self.email,
            name: PersonName {
                first_name: self.first_name,
                last_name: self.last_name,
            },
            password_hash: self.password_hash,
            partner_id: self.partner_id.map(Into::into),
            active: self.active != 0,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// What to do when an account's id or email is taken.
pub(crate) enum OnDuplicate {
    /// Fail with `StoreError::Conflict`.
    Fail,
    /// Insert nothing and report `false`.
    Skip,
}

pub(crate) async fn insert_account(c: &mut AnyConnection, a: &Account, on_duplicate: OnDuplicate) -> R<bool> {
    let sql = match on_duplicate {
        OnDuplicate::Fail => {
            "INSERT INTO accounts (env_id, id, email, email_normalized, first_name, last_name, password_hash, partner_id, active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        }
        OnDuplicate::Skip => {
            "INSERT INTO accounts (env_id, id, email, email_normalized, first_name, last_name, password_hash, partner_id, active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
        }
    };
    let inserted = sqlx::query(sql)
        .bind(a.env_id.as_str())
        .bind(a.id.as_str())
        .bind(&a.email)
        .bind(canonical_email(&a.email))
        .bind(&a.name.first_name)
        .bind(&a.name.last_name)
        .bind(&a.password_hash)
        .bind(a.partner_id.as_ref().map(PartnerId::as_str))
        .bind(i64::from(a.active))
        .bind(a.created_at)
        .bind(a.updated_at)
        .run(c)
        .await?;
    Ok(inserted == 1)
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_account(&self, a: &Account, session: Option<&Session>, link: Option<&LoginToken>, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            insert_account(c, a, OnDuplicate::Fail).await?;
            if let Some(session) = session {
                insert_session(c, session).await?;
            }
            if let Some(link) = link {
                insert_login_token(c, link).await?;
            }
            Ok(())
        })
        .await
    }

    async fn create_accounts_batch(&self, entries: &[(Account, LoginToken, AuditEvent)]) -> R<Vec<bool>> {
        self.audited(None, async |c| {
            let mut created = Vec::with_capacity(entries.len());
            for (a, token, audit) in entries {
                let ok = insert_account(c, a, OnDuplicate::Skip).await?;
                if ok {
                    insert_login_token(c, token).await?;
                    insert_audit(c, audit).await?;
                }
                created.push(ok);
            }
            Ok(created)
        })
        .await
    }

    async fn account(&self, env_id: &EnvId, id: &AccountId) -> R<Option<Account>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE env_id = $1 AND id = $2"));
        sqlx::query(sql)
            .bind(env_id.as_str())
            .bind(id.as_str())
            .optional::<AccountRow, _>(&self.pool)
            .await
    }

    async fn account_by_email(&self, env_id: &EnvId, email_normalized: &str) -> R<Option<Account>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE env_id = $1 AND email_normalized = $2"
        ));
        sqlx::query(sql)
            .bind(env_id.as_str())
            .bind(email_normalized)
            .optional::<AccountRow, _>(&self.pool)
            .await
    }

    async fn accounts(&self, env_id: &EnvId, query: &AccountQuery) -> R<Vec<Account>> {
        // Each filter only when it is given: `($2 IS NULL OR email = $2)`
        // kept the planner from the (env_id, email_normalized) and
        // (env_id, id) indexes, so an email lookup scanned the environment
        // and a deep page read every row before its cursor.
        let mut sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE env_id = $1");
        let filters = [
            ("email_normalized =", query.email_normalized.as_deref()),
            ("partner_id =", query.partner_id.as_ref().map(PartnerId::as_str)),
            ("id >", query.after.as_ref().map(AccountId::as_str)),
        ];
        let mut values = Vec::new();
        for (condition, value) in filters {
            if let Some(value) = value {
                values.push(value);
                sql.push_str(&format!(" AND {condition} ${}", values.len() + 1));
            }
        }
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", values.len() + 2));
        let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(env_id.as_str());
        for value in values {
            statement = statement.bind(value);
        }
        statement.bind(i64::from(query.limit)).all::<AccountRow, _>(&self.pool).await
    }

    async fn update_account(&self, env_id: &EnvId, id: &AccountId, u: &AccountUpdate, audit: &AuditEvent) -> R<Account> {
        self.audited(Some(audit), async |c| {
            let updated = sqlx::query(
                "UPDATE accounts SET email = COALESCE($3, email), email_normalized = COALESCE($4, email_normalized),
                 first_name = COALESCE($5, first_name), last_name = COALESCE($6, last_name),
                 password_hash = COALESCE($7, password_hash), active = COALESCE($9, active),
                 updated_at = CASE WHEN $8 > updated_at THEN $8 ELSE updated_at + 1 END
                 WHERE env_id = $1 AND id = $2 AND ($10 IS NULL OR updated_at = $10)",
            )
            .bind(env_id.as_str())
            .bind(id.as_str())
            .bind(u.email.as_deref())
            .bind(u.email.as_deref().map(canonical_email))
            .bind(u.first_name.as_deref())
            .bind(u.last_name.as_deref())
            .bind(u.password_hash.as_deref())
            .bind(u.updated_at)
            .bind(u.active.map(i64::from))
            .bind(u.if_version)
            .run(&mut *c)
            .await?;
            if updated == 0 {
                return Err(stale_or_missing(c, env_id, id, u.if_version).await);
            }
            // A deactivated account is signed out everywhere at once: the
            // sessions go in the same transaction as the flag.
            if u.password_hash.is_some() || u.active == Some(false) {
                delete_sessions(c, env_id, id).await?;
            }
            if let Some(extra) = &u.scim {
                crate::scim::put_extra(c, env_id, id, extra).await?;
            }
            Ok(())
        })
        .await?;
        self.account(env_id, id).await?.ok_or(StoreError::NotFound)
    }

    async fn delete_account(&self, env_id: &EnvId, id: &AccountId, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            delete_sessions(c, env_id, id).await?;
            sqlx::query("DELETE FROM accounts WHERE env_id = $1 AND id = $2")
                .bind(env_id.as_str())
                .bind(id.as_str())
                .expect_row(c)
                .await
        })
        .await
    }
}

/// Why an update touched no row: a stale `if_version` of an account that
/// exists (`Conflict("version")`), or no such account.
async fn stale_or_missing(c: &mut AnyConnection, env_id: &EnvId, id: &AccountId, if_version: Option<i64>) -> StoreError {
    if if_version.is_none() {
        return StoreError::NotFound;
    }
    let exists = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts WHERE env_id = $1 AND id = $2")
        .bind(env_id.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *c)
        .await;
    match exists {
        Ok(n) if n > 0 => StoreError::Conflict("version"),
        Ok(_) => StoreError::NotFound,
        Err(e) => crate::map_err(e),
    }
}
