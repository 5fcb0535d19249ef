//! One-time sign-in links. The conditional UPDATE is what makes a link
//! single-use under concurrency.

use async_trait::async_trait;
use onramp_domain::accounts::Session;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{AccountId, EnvId, PartnerId};
use onramp_domain::signin_links::{LinkState, LoginToken, Redeemed};
use onramp_domain::store::SigninLinkStore;
use sqlx::AnyConnection;

use crate::db::{R, Record, Sql, insert_audit};
use crate::sessions::insert_session;
use crate::{SqlStore, map_err};

#[derive(sqlx::FromRow)]
struct LinkRow {
    account_id: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl Record for LinkRow {
    type Domain = LinkState;
    fn into_domain(self) -> R<LinkState> {
        Ok(LinkState {
            account_id: self.account_id.into(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            used_at: self.used_at,
        })
    }
}

/// What a successful claim returns.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    account_id: String,
    redirect: String,
}

impl Record for ClaimedRow {
    type Domain = (String, String);
    fn into_domain(self) -> R<Self::Domain> {
        Ok((self.account_id, self.redirect))
    }
}

/// Why a link could not be claimed.
#[derive(sqlx::FromRow)]
struct UnclaimedRow {
    used_at: Option<i64>,
}

impl Record for UnclaimedRow {
    type Domain = Redeemed;
    fn into_domain(self) -> R<Redeemed> {
        Ok(if self.used_at.is_some() {
            Redeemed::AlreadyUsed
        } else {
            Redeemed::Expired
        })
    }
}

pub(crate) async fn insert_login_token(c: &mut AnyConnection, t: &LoginToken) -> R<()> {
    sqlx::query(
        "INSERT INTO login_tokens (token_hash, env_id, account_id, redirect, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.token_hash)
    .bind(t.env_id.as_str())
    .bind(t.account_id.as_str())
    .bind(&t.redirect)
    .bind(t.created_at)
    .bind(t.expires_at)
    .run(c)
    .await?;
    Ok(())
}

/// Marks a live link used and opens the session; says why otherwise.
async fn redeem(c: &mut AnyConnection, env_id: &EnvId, token_hash: &str, now: i64, session: &Session, audit: &AuditEvent) -> R<Redeemed> {
    let claimed = sqlx::query(
        "UPDATE login_tokens SET used_at = $3 WHERE env_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING account_id, redirect",
    )
    .bind(env_id.as_str())
    .bind(token_hash)
    .bind(now)
    .optional::<ClaimedRow, _>(&mut *c)
    .await?;
    if let Some((account_id, redirect)) = claimed {
        let account_id = AccountId::from(account_id);
        // Taking the account's row (a no-op UPDATE locks it) in the
        // transaction that claims the link serialises this with a
        // deactivation: either it ended the sessions before and is seen
        // here, or it waits and ends the session opened here.
        let (partner, active): (Option<String>, i64) =
            sqlx::query_as("UPDATE accounts SET active = active WHERE env_id = $1 AND id = $2 RETURNING partner_id, active")
                .bind(env_id.as_str())
                .bind(account_id.as_str())
                .fetch_one(&mut *c)
                .await
                .map_err(map_err)?;
        if active == 0 {
            return Ok(Redeemed::AccountDisabled);
        }
        let session = Session {
            account_id: account_id.clone(),
            ..session.clone()
        };
        insert_session(c, &session).await?;
        let partner = partner.map(PartnerId::from);
        insert_audit(c, &audit.about_account(&account_id, partner.as_ref())).await?;
        return Ok(Redeemed::Ok { account_id, redirect });
    }
    let why = sqlx::query("SELECT used_at FROM login_tokens WHERE env_id = $1 AND token_hash = $2")
        .bind(env_id.as_str())
        .bind(token_hash)
        .optional::<UnclaimedRow, _>(c)
        .await?;
    Ok(why.unwrap_or(Redeemed::Unknown))
}

#[async_trait]
impl SigninLinkStore for SqlStore {
    async fn create_login_token(&self, token: &LoginToken) -> R<()> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        insert_login_token(&mut conn, token).await
    }

    async fn redeem_login_token(&self, env_id: &EnvId, token_hash: &str, now: i64, session: &Session, audit: &AuditEvent) -> R<Redeemed> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let outcome = redeem(&mut tx, env_id, token_hash, now, session, audit).await?;
        if matches!(outcome, Redeemed::Ok { .. }) {
            tx.commit().await.map_err(map_err)?;
        }
        Ok(outcome)
    }

    async fn latest_login_links(&self, env_id: &EnvId, account_ids: &[AccountId]) -> R<Vec<LinkState>> {
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        // One placeholder per id (a page of accounts: at most a few hundred).
        let list: Vec<String> = (2..account_ids.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT account_id, created_at, expires_at, used_at FROM login_tokens
             WHERE env_id = $1 AND account_id IN ({}) ORDER BY account_id, created_at DESC",
            list.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(env_id.as_str());
        for id in account_ids {
            query = query.bind(id.as_str());
        }
        let mut rows = query.all::<LinkRow, _>(&self.pool).await?;
        rows.dedup_by(|later, newest| later.account_id == newest.account_id);
        Ok(rows)
    }
}
