//! SQL for partners, API keys and sign-in links that runs inside transactions.

use onramp_domain::partner::{ApiKey, Partner};
use onramp_domain::store::{LoginToken, Redeemed, Session, StoreError};
use sqlx::{AnyConnection, Row};

use crate::map_err;

type R<T> = Result<T, StoreError>;

pub async fn insert_partner(c: &mut AnyConnection, p: &Partner) -> R<()> {
    sqlx::query("INSERT INTO partners (id, env_id, name, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&p.id)
        .bind(&p.env_id)
        .bind(&p.name)
        .bind(p.status.as_str())
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn insert_api_key(c: &mut AnyConnection, k: &ApiKey) -> R<()> {
    sqlx::query(
        "INSERT INTO api_keys (key_id, partner_id, env_id, key_hash, scopes, created_at, expires_at, revoked_at, last_used_at, retires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&k.key_id)
    .bind(&k.partner_id)
    .bind(&k.env_id)
    .bind(&k.key_hash)
    .bind(serde_json::to_string(&k.scopes).unwrap_or_else(|_| "[]".into()))
    .bind(k.created_at)
    .bind(k.expires_at)
    .bind(k.revoked_at)
    .bind(k.last_used_at)
    .bind(k.retires_at)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_login_token(c: &mut AnyConnection, t: &LoginToken) -> R<()> {
    sqlx::query(
        "INSERT INTO login_tokens (token_hash, env_id, account_id, redirect, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.token_hash)
    .bind(&t.env_id)
    .bind(&t.account_id)
    .bind(&t.redirect)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Marks a live link used and opens the session; says why otherwise. The
/// conditional UPDATE is what makes a link single-use under concurrency.
pub async fn redeem(c: &mut AnyConnection, env_id: &str, token_hash: &str, now: i64, session: &Session) -> R<Redeemed> {
    let claimed = sqlx::query(
        "UPDATE login_tokens SET used_at = $3 WHERE env_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING account_id, redirect",
    )
    .bind(env_id)
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *c)
    .await
    .map_err(map_err)?;
    if let Some(row) = claimed {
        let account_id: String = row.try_get("account_id").map_err(map_err)?;
        let redirect: String = row.try_get("redirect").map_err(map_err)?;
        let session = Session {
            account_id: account_id.clone(),
            ..session.clone()
        };
        crate::sql::insert_session(c, &session).await?;
        return Ok(Redeemed::Ok { account_id, redirect });
    }
    let row = sqlx::query("SELECT used_at, expires_at FROM login_tokens WHERE env_id = $1 AND token_hash = $2")
        .bind(env_id)
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
    Ok(match row {
        None => Redeemed::Unknown,
        Some(row) => {
            let used: Option<i64> = row.try_get("used_at").map_err(map_err)?;
            if used.is_some() { Redeemed::AlreadyUsed } else { Redeemed::Expired }
        }
    })
}
