//! SCIM: bearer tokens (by the hash of their secret) and the account
//! listings of `/Users`.

use async_trait::async_trait;
use onramp_domain::accounts::Account;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{AccountId, EnvId, ScimTokenId};
use onramp_domain::scim::store::ScimExtra;
use onramp_domain::scim::tokens::ScimToken;
use onramp_domain::scim::users::UserQuery;
use onramp_domain::store::ScimStore;
use onramp_domain::store::StoreError;

mod columns;
pub(crate) mod filter_sql;
mod users;

use sqlx::AnyConnection;

use crate::SqlStore;
use crate::accounts::{OnDuplicate, insert_account};
use crate::db::{R, Record, Sql};
use crate::tenancy::{env_kind, platform_id};

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    env_id: String,
    platform_id: String,
    kind: String,
    name: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn of_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            env_id: row.get("env_id")?,
            platform_id: row.get("platform_id")?,
            kind: row.get("kind")?,
            name: row.get("name")?,
            created_at: row.get("created_at")?,
            revoked_at: row.get("revoked_at")?,
        })
    }
}

impl Record for TokenRow {
    type Domain = ScimToken;
    fn into_domain(self) -> R<ScimToken> {
        Ok(ScimToken {
            id: self.id.into(),
            env_id: self.env_id.into(),
            platform_id: platform_id(&self.platform_id)?,
            environment: env_kind(&self.kind)?,
            name: self.name,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ExtraRow {
    account_id: String,
    external_id: Option<String>,
    attributes: String,
}

impl Record for ExtraRow {
    type Domain = (AccountId, ScimExtra);
    fn into_domain(self) -> R<(AccountId, ScimExtra)> {
        let attributes = match serde_json::from_str(&self.attributes) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(StoreError::other(format!("SCIM attributes of {}", self.account_id))),
        };
        Ok((
            self.account_id.into(),
            ScimExtra {
                external_id: self.external_id,
                attributes,
            },
        ))
    }
}

/// The token's columns and its environment's, from `scim_tokens t JOIN environments e`.
const COLUMNS: &str = "t.id, t.env_id, e.platform_id, e.kind, t.name, t.created_at, t.revoked_at";
const FROM: &str = "scim_tokens t JOIN environments e ON e.id = t.env_id";

/// Writes what SCIM keeps of an account (inserted or replaced), on `c`, so
/// an account update can do it in its own transaction.
pub(crate) async fn put_extra(c: &mut AnyConnection, env_id: &EnvId, account_id: &AccountId, extra: &ScimExtra) -> R<()> {
    sqlx::query(
        "INSERT INTO scim_users (env_id, account_id, external_id, attributes) VALUES ($1, $2, $3, $4)
         ON CONFLICT (env_id, account_id) DO UPDATE SET external_id = $3, attributes = $4",
    )
    .bind(env_id.as_str())
    .bind(account_id.as_str())
    .bind(extra.external_id.as_deref())
    .bind(serde_json::Value::Object(extra.attributes.clone()).to_string())
    .run(c)
    .await
    .map(|_| ())
}

#[async_trait]
impl ScimStore for SqlStore {
    async fn create_scim_token(&self, t: &ScimToken, token_hash: &str, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("INSERT INTO scim_tokens (id, env_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(t.id.as_str())
                .bind(t.env_id.as_str())
                .bind(&t.name)
                .bind(token_hash)
                .bind(t.created_at)
                .run(c)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn scim_tokens(&self, env_id: &EnvId) -> R<Vec<ScimToken>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE t.env_id = $1 ORDER BY t.created_at, t.id"
        )))
        .bind(env_id.as_str())
        .all::<TokenRow, _>(&self.pool)
        .await
    }

    async fn scim_token(&self, id: &ScimTokenId) -> R<Option<ScimToken>> {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM {FROM} WHERE t.id = $1")))
            .bind(id.as_str())
            .optional::<TokenRow, _>(&self.pool)
            .await
    }

    async fn scim_token_by_hash(&self, token_hash: &str) -> R<Option<ScimToken>> {
        // Every SCIM request's statement, built once.
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} FROM {FROM} WHERE t.token_hash = $1"));
        let sql: &str = &SQL;
        if let Some(found) = self.inline_row(sql, &[("$1", &token_hash)], TokenRow::of_inline)? {
            return Ok(found);
        }
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .optional::<TokenRow, _>(&mut *self.reader().await?)
            .await
    }

    async fn scim_users(&self, env_id: &EnvId, query: &UserQuery, offset: u64, limit: u32) -> R<(Vec<(Account, ScimExtra)>, u64)> {
        users::page(self, env_id, query, offset, limit).await
    }

    async fn create_scim_user(&self, account: &Account, extra: &ScimExtra, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            insert_account(c, account, OnDuplicate::Fail).await?;
            sqlx::query("INSERT INTO scim_users (env_id, account_id, external_id, attributes) VALUES ($1, $2, $3, $4)")
                .bind(account.env_id.as_str())
                .bind(account.id.as_str())
                .bind(extra.external_id.as_deref())
                .bind(serde_json::Value::Object(extra.attributes.clone()).to_string())
                .run(c)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn scim_extras(&self, env_id: &EnvId, ids: &[AccountId]) -> R<Vec<(AccountId, ScimExtra)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT account_id, external_id, attributes FROM scim_users WHERE env_id = $1 AND account_id IN ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(env_id.as_str());
        for id in ids {
            query = query.bind(id.as_str());
        }
        let rows = query.all::<ExtraRow, _>(&self.pool).await?;
        Ok(rows)
    }

    async fn revoke_scim_token(&self, id: &ScimTokenId, at: i64, audit: &AuditEvent) -> R<bool> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE scim_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.as_str())
                .bind(at)
                .run(c)
                .await
                .map(|n| n == 1)
        })
        .await
    }
}
