//! The `Store` implementation. Every statement is portable SQL with `$n`
//! placeholders; every change and its audit event share one transaction.

use async_trait::async_trait;
use onramp_domain::account::Account;
use onramp_domain::audit::AuditEvent;
use onramp_domain::integration::{AuthCode, Grant, VendorApp};
use onramp_domain::partner::{ApiKey, Partner, PartnerStatus};
use onramp_domain::signing::SigningKey;
use onramp_domain::store::{
    AccountQuery, AccountUpdate, AuditFilter, IdempotencyRecord, LoginToken, Redeemed, ServiceUser, Session, Store, StoreError,
};
use onramp_domain::tenancy::{EnvKind, Environment, Instance, PlatformId};
use onramp_domain::usage::{Alert, KeyActivity, UsageRow};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection};

use crate::{SqlStore, map_err, rows};

type R<T> = Result<T, StoreError>;
type Query<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

async fn insert_audit(conn: &mut AnyConnection, e: &AuditEvent) -> R<()> {
    sqlx::query(
        "INSERT INTO audit_events (id, platform_id, environment, actor, action, target, request_id, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.id)
    .bind(&e.platform_id)
    .bind(e.environment.as_deref())
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.target)
    .bind(e.request_id.as_deref())
    .bind(to_json(&e.detail))
    .bind(e.created_at)
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Runs `statement` and fails with `NotFound` when it touched no row.
async fn expect_row(conn: &mut AnyConnection, statement: Query<'_>) -> R<()> {
    let done = statement.execute(conn).await.map_err(map_err)?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl SqlStore {
    async fn one<T>(&self, q: Query<'_>, map: fn(&AnyRow) -> R<T>) -> R<Option<T>> {
        q.fetch_optional(&self.pool).await.map_err(map_err)?.as_ref().map(map).transpose()
    }

    async fn all<T>(&self, q: Query<'_>, map: fn(&AnyRow) -> R<T>) -> R<Vec<T>> {
        q.fetch_all(&self.pool).await.map_err(map_err)?.iter().map(map).collect()
    }

    async fn hostnames(&self, env_id: &str) -> R<Vec<String>> {
        let rows = sqlx::query("SELECT hostname FROM hostnames WHERE env_id = $1 ORDER BY hostname")
            .bind(env_id)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(|r| sqlx::Row::try_get(r, "hostname").map_err(map_err)).collect()
    }

    /// Runs `work` in a transaction that also appends `audit`.
    async fn audited<F>(&self, audit: Option<&AuditEvent>, work: F) -> R<()>
    where
        F: AsyncFnOnce(&mut AnyConnection) -> R<()>,
    {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        work(&mut tx).await?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(map_err)
    }
}

const PARTNER_SELECT_BY_ID: &str =
    "SELECT p.*, e.platform_id, e.kind FROM partners p JOIN environments e ON e.id = p.env_id WHERE p.id = $1";
const PARTNER_SELECT_BY_ENV: &str = "SELECT p.*, e.platform_id, e.kind FROM partners p JOIN environments e ON e.id = p.env_id WHERE ($1 IS NULL OR p.env_id = $1) ORDER BY p.id";

const ACCOUNT_COLUMNS: &str = "env_id, id, email, first_name, last_name, password_hash, partner_id, created_at, updated_at";

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> R<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(map_err)?;
        Ok(())
    }

    async fn create_instance(&self, i: &Instance, envs: &[Environment], keys: &[SigningKey], audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO instances (platform_id, name, region, app_url, features, rate_limits, link_template, login_link_ttl_secs, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(i.platform_id.as_str())
            .bind(&i.name)
            .bind(&i.region)
            .bind(&i.app_url)
            .bind(to_json(&i.features))
            .bind(to_json(&i.rate_limits))
            .bind(i.link_template.as_deref())
            .bind(i.login_link_ttl_secs)
            .bind(i.created_at)
            .bind(i.updated_at)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
            for env in envs {
                sqlx::query("INSERT INTO environments (id, platform_id, kind, cors_origins) VALUES ($1, $2, $3, $4)")
                    .bind(&env.id)
                    .bind(env.platform_id.as_str())
                    .bind(env.kind.as_str())
                    .bind(to_json(&env.cors_origins))
                    .execute(&mut *c)
                    .await
                    .map_err(map_err)?;
            }
            for key in keys {
                insert_key(c, key).await?;
            }
            Ok(())
        })
        .await
    }

    async fn update_instance(&self, i: &Instance, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            let q = sqlx::query(
                "UPDATE instances SET name = $2, region = $3, app_url = $4, features = $5, rate_limits = $6, updated_at = $7,
                 link_template = $8, login_link_ttl_secs = $9 WHERE platform_id = $1",
            )
            .bind(i.platform_id.as_str())
            .bind(&i.name)
            .bind(&i.region)
            .bind(&i.app_url)
            .bind(to_json(&i.features))
            .bind(to_json(&i.rate_limits))
            .bind(i.updated_at)
            .bind(i.link_template.as_deref())
            .bind(i.login_link_ttl_secs);
            expect_row(c, q).await
        })
        .await
    }

    async fn instance(&self, id: &PlatformId) -> R<Option<Instance>> {
        self.one(
            sqlx::query("SELECT * FROM instances WHERE platform_id = $1").bind(id.as_str()),
            rows::instance,
        )
        .await
    }

    async fn instances(&self) -> R<Vec<Instance>> {
        self.all(sqlx::query("SELECT * FROM instances ORDER BY platform_id"), rows::instance)
            .await
    }

    async fn environment(&self, id: &PlatformId, kind: EnvKind) -> R<Option<Environment>> {
        let row = sqlx::query("SELECT * FROM environments WHERE platform_id = $1 AND kind = $2")
            .bind(id.as_str())
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        match row {
            Some(row) => {
                let env_id: String = sqlx::Row::try_get(&row, "id").map_err(map_err)?;
                Ok(Some(rows::environment(&row, self.hostnames(&env_id).await?)?))
            }
            None => Ok(None),
        }
    }

    async fn environment_by_hostname(&self, host: &str) -> R<Option<(PlatformId, EnvKind)>> {
        let q = sqlx::query("SELECT e.platform_id, e.kind FROM hostnames h JOIN environments e ON e.id = h.env_id WHERE h.hostname = $1")
            .bind(host);
        self.one(q, |row| {
            let env = rows::environment_ref(row)?;
            Ok(env)
        })
        .await
    }

    async fn update_environment(&self, env: &Environment, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            let q = sqlx::query("UPDATE environments SET cors_origins = $2 WHERE id = $1")
                .bind(&env.id)
                .bind(to_json(&env.cors_origins));
            expect_row(c, q).await?;
            sqlx::query("DELETE FROM hostnames WHERE env_id = $1")
                .bind(&env.id)
                .execute(&mut *c)
                .await
                .map_err(map_err)?;
            for host in &env.hostnames {
                sqlx::query("INSERT INTO hostnames (hostname, env_id) VALUES ($1, $2)")
                    .bind(host)
                    .bind(&env.id)
                    .execute(&mut *c)
                    .await
                    .map_err(map_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn signing_keys(&self, env_id: &str) -> R<Vec<SigningKey>> {
        self.all(
            sqlx::query("SELECT * FROM signing_keys WHERE env_id = $1 ORDER BY created_at").bind(env_id),
            rows::signing_key,
        )
        .await
    }

    async fn rotate_signing_key(&self, new: &SigningKey, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE env_id = $1 AND retired_at IS NULL")
                .bind(&new.env_id)
                .bind(new.created_at)
                .execute(&mut *c)
                .await
                .map_err(map_err)?;
            insert_key(c, new).await
        })
        .await
    }

    async fn create_service_user(&self, u: &ServiceUser, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO service_users (id, env_id, username, password_hash, roles, disabled_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&u.id)
            .bind(&u.env_id)
            .bind(&u.username)
            .bind(&u.password_hash)
            .bind(to_json(&u.roles))
            .bind(u.disabled_at)
            .bind(u.created_at)
            .bind(u.updated_at)
            .execute(c)
            .await
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn service_user_by_name(&self, env_id: &str, username: &str) -> R<Option<ServiceUser>> {
        let q = sqlx::query("SELECT * FROM service_users WHERE env_id = $1 AND username = $2")
            .bind(env_id)
            .bind(username);
        self.one(q, rows::service_user).await
    }

    async fn service_user(&self, env_id: &str, id: &str) -> R<Option<ServiceUser>> {
        let q = sqlx::query("SELECT * FROM service_users WHERE env_id = $1 AND id = $2")
            .bind(env_id)
            .bind(id);
        self.one(q, rows::service_user).await
    }

    async fn service_users(&self, env_id: &str) -> R<Vec<ServiceUser>> {
        self.all(
            sqlx::query("SELECT * FROM service_users WHERE env_id = $1 ORDER BY username").bind(env_id),
            rows::service_user,
        )
        .await
    }

    async fn update_service_user(&self, u: &ServiceUser, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            let q = sqlx::query(
                "UPDATE service_users SET password_hash = $3, roles = $4, disabled_at = $5, updated_at = $6 WHERE env_id = $1 AND id = $2",
            )
            .bind(&u.env_id)
            .bind(&u.id)
            .bind(&u.password_hash)
            .bind(to_json(&u.roles))
            .bind(u.disabled_at)
            .bind(u.updated_at);
            expect_row(c, q).await
        })
        .await
    }

    async fn create_account(&self, a: &Account, session: Option<&Session>, link: Option<&LoginToken>, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            insert_account(c, a, OnDuplicate::Fail).await?;
            if let Some(session) = session {
                insert_session(c, session).await?;
            }
            if let Some(link) = link {
                crate::partners::insert_login_token(c, link).await?;
            }
            Ok(())
        })
        .await
    }

    async fn account(&self, env_id: &str, id: &str) -> R<Option<Account>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE env_id = $1 AND id = $2"));
        self.one(sqlx::query(sql).bind(env_id).bind(id), rows::account).await
    }

    async fn account_by_email(&self, env_id: &str, email_normalized: &str) -> R<Option<Account>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE env_id = $1 AND email_normalized = $2"
        ));
        self.one(sqlx::query(sql).bind(env_id).bind(email_normalized), rows::account).await
    }

    async fn accounts(&self, env_id: &str, query: &AccountQuery) -> R<Vec<Account>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE env_id = $1 AND ($2 IS NULL OR email_normalized = $2)
             AND ($3 IS NULL OR id > $3) AND ($5 IS NULL OR partner_id = $5) ORDER BY id LIMIT $4"
        ));
        let q = sqlx::query(sql)
            .bind(env_id)
            .bind(query.email_normalized.as_deref())
            .bind(query.after.as_deref())
            .bind(i64::from(query.limit))
            .bind(query.partner_id.as_deref());
        self.all(q, rows::account).await
    }

    async fn update_account(&self, env_id: &str, id: &str, u: &AccountUpdate, audit: &AuditEvent) -> R<Account> {
        self.audited(Some(audit), async |c| {
            let q = sqlx::query(
                "UPDATE accounts SET email = COALESCE($3, email), email_normalized = COALESCE($4, email_normalized),
                 first_name = COALESCE($5, first_name), last_name = COALESCE($6, last_name),
                 password_hash = COALESCE($7, password_hash), updated_at = $8
                 WHERE env_id = $1 AND id = $2",
            )
            .bind(env_id)
            .bind(id)
            .bind(u.email.as_deref())
            .bind(u.email.as_ref().map(|e| e.to_lowercase()))
            .bind(u.first_name.as_deref())
            .bind(u.last_name.as_deref())
            .bind(u.password_hash.as_deref())
            .bind(u.updated_at);
            expect_row(c, q).await?;
            if u.password_hash.is_some() {
                delete_sessions(c, env_id, id).await?;
            }
            Ok(())
        })
        .await?;
        self.account(env_id, id).await?.ok_or(StoreError::NotFound)
    }

    async fn open_session_checked(&self, session: &Session, verified_hash: &str, rehash: Option<&str>) -> R<bool> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // Taking the row first serialises this login with password changes.
        let unchanged = sqlx::query(
            "UPDATE accounts SET password_hash = COALESCE($4, password_hash) WHERE env_id = $1 AND id = $2 AND password_hash = $3",
        )
        .bind(&session.env_id)
        .bind(&session.account_id)
        .bind(verified_hash)
        .bind(rehash)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected()
            == 1;
        if !unchanged {
            return Ok(false);
        }
        insert_session(&mut tx, session).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn delete_account(&self, env_id: &str, id: &str, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            delete_sessions(c, env_id, id).await?;
            expect_row(
                c,
                sqlx::query("DELETE FROM accounts WHERE env_id = $1 AND id = $2")
                    .bind(env_id)
                    .bind(id),
            )
            .await
        })
        .await
    }

    async fn create_session(&self, session: &Session) -> R<()> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        insert_session(&mut conn, session).await
    }

    async fn session(&self, env_id: &str, token_hash: &str) -> R<Option<Session>> {
        let q = sqlx::query("SELECT * FROM sessions WHERE env_id = $1 AND token_hash = $2")
            .bind(env_id)
            .bind(token_hash);
        self.one(q, rows::session).await
    }

    async fn delete_session(&self, env_id: &str, token_hash: &str) -> R<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE env_id = $1 AND token_hash = $2")
            .bind(env_id)
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn audit_events(&self, f: &AuditFilter) -> R<Vec<AuditEvent>> {
        let q = sqlx::query(
            "SELECT * FROM audit_events WHERE ($1 IS NULL OR platform_id = $1) AND ($2 IS NULL OR environment = $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(f.platform_id.as_deref())
        .bind(f.environment.as_deref())
        .bind(i64::from(f.limit));
        self.all(q, rows::audit_event).await
    }

    async fn claim_idempotency_key(&self, r: &IdempotencyRecord, expired_before: i64) -> R<Option<IdempotencyRecord>> {
        sqlx::query("DELETE FROM idempotency_keys WHERE env_id = $1 AND key_hash = $2 AND created_at < $3")
            .bind(&r.env_id)
            .bind(&r.key_hash)
            .bind(expired_before)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (env_id, key_hash, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (env_id, key_hash) DO NOTHING",
        )
        .bind(&r.env_id)
        .bind(&r.key_hash)
        .bind(&r.fingerprint)
        .bind(r.status)
        .bind(r.body.as_slice())
        .bind(r.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if inserted.rows_affected() == 1 {
            return Ok(None);
        }
        let q = sqlx::query("SELECT * FROM idempotency_keys WHERE env_id = $1 AND key_hash = $2")
            .bind(&r.env_id)
            .bind(&r.key_hash);
        self.one(q, rows::idempotency).await
    }

    async fn complete_idempotency_key(&self, env_id: &str, key_hash: &str, status: i64, body: &[u8]) -> R<()> {
        sqlx::query("UPDATE idempotency_keys SET status = $3, body = $4 WHERE env_id = $1 AND key_hash = $2")
            .bind(env_id)
            .bind(key_hash)
            .bind(status)
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn release_idempotency_key(&self, env_id: &str, key_hash: &str) -> R<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE env_id = $1 AND key_hash = $2")
            .bind(env_id)
            .bind(key_hash)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_partner(&self, partner: &Partner, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| crate::partners::insert_partner(c, partner).await)
            .await
    }

    async fn partner(&self, id: &str) -> R<Option<Partner>> {
        self.one(sqlx::query(PARTNER_SELECT_BY_ID).bind(id), rows::partner).await
    }

    async fn partners(&self, env_id: Option<&str>) -> R<Vec<Partner>> {
        let q = sqlx::query(PARTNER_SELECT_BY_ENV).bind(env_id);
        self.all(q, rows::partner).await
    }

    async fn set_partner_status(&self, id: &str, status: PartnerStatus, now: i64, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            let q = sqlx::query("UPDATE partners SET status = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(status.as_str())
                .bind(now);
            expect_row(c, q).await
        })
        .await
    }

    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| crate::partners::insert_api_key(c, key).await)
            .await
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> R<Option<(ApiKey, Partner)>> {
        let Some(key) = self
            .one(
                sqlx::query("SELECT * FROM api_keys WHERE key_hash = $1").bind(key_hash),
                rows::api_key,
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(self.partner(&key.partner_id).await?.map(|p| (key, p)))
    }

    async fn api_key(&self, key_id: &str) -> R<Option<ApiKey>> {
        self.one(sqlx::query("SELECT * FROM api_keys WHERE key_id = $1").bind(key_id), rows::api_key)
            .await
    }

    async fn api_keys(&self, partner_id: &str) -> R<Vec<ApiKey>> {
        self.all(
            sqlx::query("SELECT * FROM api_keys WHERE partner_id = $1 ORDER BY created_at, key_id").bind(partner_id),
            rows::api_key,
        )
        .await
    }

    async fn revoke_api_key(&self, key_id: &str, now: i64, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            let q = sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE key_id = $1")
                .bind(key_id)
                .bind(now);
            expect_row(c, q).await
        })
        .await
    }

    async fn rotate_api_key(&self, old_key_id: &str, old_expires_at: i64, new: &ApiKey, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            let q = sqlx::query("UPDATE api_keys SET retires_at = CASE WHEN retires_at IS NULL OR retires_at > $2 THEN $2 ELSE retires_at END WHERE key_id = $1")
                .bind(old_key_id)
                .bind(old_expires_at);
            expect_row(c, q).await?;
            crate::partners::insert_api_key(c, new).await
        })
        .await
    }

    async fn touch_api_key(&self, key_id: &str, now: i64) -> R<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE key_id = $1")
            .bind(key_id)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_login_token(&self, token: &LoginToken) -> R<()> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        crate::partners::insert_login_token(&mut conn, token).await
    }

    async fn create_vendor_app(&self, a: &VendorApp, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO vendor_apps (id, env_id, account_id, name, origins, key_id, key_hash, key_created_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&a.id)
            .bind(&a.env_id)
            .bind(&a.account_id)
            .bind(&a.name)
            .bind(to_json(&a.origins))
            .bind(a.key_id.as_deref())
            .bind(a.key_hash.as_deref())
            .bind(a.key_created_at)
            .bind(a.created_at)
            .bind(a.updated_at)
            .execute(c)
            .await
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn vendor_app(&self, env_id: &str, id: &str) -> R<Option<VendorApp>> {
        self.one(
            sqlx::query("SELECT * FROM vendor_apps WHERE env_id = $1 AND id = $2")
                .bind(env_id)
                .bind(id),
            crate::integration::vendor_app,
        )
        .await
    }

    async fn vendor_apps(&self, env_id: &str, account_id: &str) -> R<Vec<VendorApp>> {
        let q = sqlx::query("SELECT * FROM vendor_apps WHERE env_id = $1 AND account_id = $2 ORDER BY id")
            .bind(env_id)
            .bind(account_id);
        self.all(q, crate::integration::vendor_app).await
    }

    async fn vendor_app_by_key_hash(&self, key_hash: &str) -> R<Option<VendorApp>> {
        self.one(
            sqlx::query("SELECT * FROM vendor_apps WHERE key_hash = $1").bind(key_hash),
            crate::integration::vendor_app,
        )
        .await
    }

    async fn set_vendor_key(&self, app_id: &str, key_id: &str, key_hash: &str, now: i64, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            let q = sqlx::query("UPDATE vendor_apps SET key_id = $2, key_hash = $3, key_created_at = $4, updated_at = $4 WHERE id = $1")
                .bind(app_id)
                .bind(key_id)
                .bind(key_hash)
                .bind(now);
            expect_row(c, q).await
        })
        .await
    }

    async fn create_grant(&self, g: &Grant, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO grants (env_id, account_id, app_id, scopes, granted_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (account_id, app_id) DO NOTHING",
            )
            .bind(&g.env_id)
            .bind(&g.account_id)
            .bind(&g.app_id)
            .bind(to_json(&g.scopes))
            .bind(g.granted_at)
            .execute(c)
            .await
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn grant(&self, account_id: &str, app_id: &str) -> R<Option<Grant>> {
        self.one(
            sqlx::query("SELECT * FROM grants WHERE account_id = $1 AND app_id = $2")
                .bind(account_id)
                .bind(app_id),
            crate::integration::grant,
        )
        .await
    }

    async fn grants(&self, env_id: &str, account_id: &str) -> R<Vec<Grant>> {
        let q = sqlx::query("SELECT * FROM grants WHERE env_id = $1 AND account_id = $2 ORDER BY granted_at")
            .bind(env_id)
            .bind(account_id);
        self.all(q, crate::integration::grant).await
    }

    async fn delete_grant(&self, account_id: &str, app_id: &str, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            expect_row(
                c,
                sqlx::query("DELETE FROM grants WHERE account_id = $1 AND app_id = $2")
                    .bind(account_id)
                    .bind(app_id),
            )
            .await
        })
        .await
    }

    async fn create_auth_code(&self, code: &AuthCode) -> R<()> {
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&code.code_hash)
        .bind(&code.env_id)
        .bind(&code.app_id)
        .bind(&code.account_id)
        .bind(&code.code_challenge)
        .bind(code.created_at)
        .bind(code.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn redeem_auth_code(&self, code_hash: &str, now: i64) -> R<Option<AuthCode>> {
        let q = sqlx::query(
            "UPDATE auth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at",
        )
        .bind(code_hash)
        .bind(now);
        self.one(q, crate::integration::auth_code).await
    }

    async fn add_usage(&self, rows: &[UsageRow]) -> R<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        for row in rows {
            crate::usage::add_usage(&mut tx, row).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn usage(&self, partner_id: &str, from: i64, to: i64) -> R<Vec<UsageRow>> {
        let q = sqlx::query("SELECT * FROM usage_minutes WHERE partner_id = $1 AND minute >= $2 AND minute < $3 ORDER BY minute")
            .bind(partner_id)
            .bind(from)
            .bind(to);
        self.all(q, crate::usage::usage_row).await
    }

    async fn key_activity(&self, trailing_start: i64, window_start: i64) -> R<Vec<KeyActivity>> {
        let q = sqlx::query(crate::usage::KEY_ACTIVITY).bind(trailing_start).bind(window_start);
        self.all(q, crate::usage::key_activity).await
    }

    async fn create_alert(&self, alert: &Alert, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| crate::usage::insert_alert(c, alert).await)
            .await
    }

    async fn set_alert_delivery(&self, id: &str, delivery: &str, attempts: i64, delivered_at: Option<i64>) -> R<()> {
        sqlx::query("UPDATE alerts SET delivery = $2, attempts = $3, delivered_at = $4 WHERE id = $1")
            .bind(id)
            .bind(delivery)
            .bind(attempts)
            .bind(delivered_at)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn alerts(&self, limit: u32) -> R<Vec<Alert>> {
        self.all(
            sqlx::query("SELECT * FROM alerts ORDER BY id DESC LIMIT $1").bind(i64::from(limit)),
            crate::usage::alert,
        )
        .await
    }

    async fn create_accounts_batch(&self, entries: &[(Account, LoginToken, AuditEvent)]) -> R<Vec<bool>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let mut created = Vec::with_capacity(entries.len());
        for (a, token, audit) in entries {
            let ok = insert_account(&mut tx, a, OnDuplicate::Skip).await?;
            if ok {
                crate::partners::insert_login_token(&mut tx, token).await?;
                insert_audit(&mut tx, audit).await?;
            }
            created.push(ok);
        }
        tx.commit().await.map_err(map_err)?;
        Ok(created)
    }

    async fn redeem_login_token(&self, env_id: &str, token_hash: &str, now: i64, session: &Session) -> R<Redeemed> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let outcome = crate::partners::redeem(&mut tx, env_id, token_hash, now, session).await?;
        if matches!(outcome, Redeemed::Ok { .. }) {
            tx.commit().await.map_err(map_err)?;
        }
        Ok(outcome)
    }

    async fn purge_expired(&self, now: i64, idempotency_before: i64) -> R<u64> {
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        let keys = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(idempotency_before)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(sessions.rows_affected() + keys.rows_affected())
    }
}

/// What to do when an account's id or email is taken.
enum OnDuplicate {
    /// Fail with `StoreError::Conflict`.
    Fail,
    /// Insert nothing and report `false`.
    Skip,
}

async fn insert_account(c: &mut AnyConnection, a: &Account, on_duplicate: OnDuplicate) -> R<bool> {
    let sql = match on_duplicate {
        OnDuplicate::Fail => {
            "INSERT INTO accounts (env_id, id, email, email_normalized, first_name, last_name, password_hash, partner_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        }
        OnDuplicate::Skip => {
            "INSERT INTO accounts (env_id, id, email, email_normalized, first_name, last_name, password_hash, partner_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
        }
    };
    let done = sqlx::query(sql)
        .bind(&a.env_id)
        .bind(&a.id)
        .bind(&a.email)
        .bind(a.email.to_lowercase())
        .bind(&a.name.first_name)
        .bind(&a.name.last_name)
        .bind(&a.password_hash)
        .bind(a.partner_id.as_deref())
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

async fn insert_key(c: &mut AnyConnection, key: &SigningKey) -> R<()> {
    sqlx::query("INSERT INTO signing_keys (kid, env_id, seed, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&key.kid)
        .bind(&key.env_id)
        .bind(key.seed.as_slice())
        .bind(key.created_at)
        .bind(key.retired_at)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn insert_session(c: &mut AnyConnection, s: &Session) -> R<()> {
    sqlx::query("INSERT INTO sessions (token_hash, env_id, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&s.token_hash)
        .bind(&s.env_id)
        .bind(&s.account_id)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn delete_sessions(c: &mut AnyConnection, env_id: &str, account_id: &str) -> R<()> {
    sqlx::query("DELETE FROM sessions WHERE env_id = $1 AND account_id = $2")
        .bind(env_id)
        .bind(account_id)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}
