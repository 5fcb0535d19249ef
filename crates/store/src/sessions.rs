//! Client sessions (only token hashes are stored) and the purge of expired
//! rows.

use async_trait::async_trait;
use onramp_domain::accounts::Session;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{AccountId, EnvId};
use onramp_domain::store::SessionStore;
use sqlx::AnyConnection;

use crate::db::{R, Record, Sql};
use crate::{SqlStore, map_err};

#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    env_id: String,
    account_id: String,
    created_at: i64,
    expires_at: i64,
}

impl Record for SessionRow {
    type Domain = Session;
    fn into_domain(self) -> R<Session> {
        Ok(Session {
            token_hash: self.token_hash,
            env_id: self.env_id.into(),
            account_id: self.account_id.into(),
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

pub(crate) async fn insert_session(c: &mut AnyConnection, s: &Session) -> R<()> {
    sqlx::query("INSERT INTO sessions (token_hash, env_id, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&s.token_hash)
        .bind(s.env_id.as_str())
        .bind(s.account_id.as_str())
        .bind(s.created_at)
        .bind(s.expires_at)
        .run(c)
        .await?;
    Ok(())
}

pub(crate) async fn delete_sessions(c: &mut AnyConnection, env_id: &EnvId, account_id: &AccountId) -> R<()> {
    sqlx::query("DELETE FROM sessions WHERE env_id = $1 AND account_id = $2")
        .bind(env_id.as_str())
        .bind(account_id.as_str())
        .run(c)
        .await?;
    Ok(())
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, session: &Session) -> R<()> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        insert_session(&mut conn, session).await
    }

    async fn open_session_checked(&self, session: &Session, verified_hash: &str, rehash: Option<&str>) -> R<bool> {
        self.audited(None, async |c| {
            // Taking the row first serialises this login with password
            // changes and deactivations: either wins over the login.
            let unchanged = sqlx::query(
                "UPDATE accounts SET password_hash = COALESCE($4, password_hash)
                 WHERE env_id = $1 AND id = $2 AND password_hash = $3 AND active = 1",
            )
            .bind(session.env_id.as_str())
            .bind(session.account_id.as_str())
            .bind(verified_hash)
            .bind(rehash)
            .run(&mut *c)
            .await?
                == 1;
            if unchanged {
                insert_session(c, session).await?;
            }
            Ok(unchanged)
        })
        .await
    }

    async fn session(&self, env_id: &EnvId, token_hash: &str) -> R<Option<Session>> {
        sqlx::query("SELECT * FROM sessions WHERE env_id = $1 AND token_hash = $2")
            .bind(env_id.as_str())
            .bind(token_hash)
            .optional::<SessionRow, _>(&mut *self.reader().await?)
            .await
    }

    async fn live_sessions(&self, env_id: &EnvId, account_id: &AccountId, now: i64) -> R<(u64, Option<i64>)> {
        use sqlx::Row as _;
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, MAX(created_at) AS newest FROM sessions
             WHERE env_id = $1 AND account_id = $2 AND expires_at > $3",
        )
        .bind(env_id.as_str())
        .bind(account_id.as_str())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        let n: i64 = row.try_get("n").map_err(map_err)?;
        let newest: Option<i64> = row.try_get("newest").map_err(map_err)?;
        Ok((u64::try_from(n).unwrap_or(0), newest))
    }

    async fn end_account_sessions(&self, env_id: &EnvId, account_id: &AccountId, audit: &AuditEvent) -> R<u64> {
        self.audited(Some(audit), async |c| {
            sqlx::query("DELETE FROM sessions WHERE env_id = $1 AND account_id = $2")
                .bind(env_id.as_str())
                .bind(account_id.as_str())
                .run(c)
                .await
        })
        .await
    }

    async fn delete_session(&self, env_id: &EnvId, token_hash: &str) -> R<bool> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE env_id = $1 AND token_hash = $2")
            .bind(env_id.as_str())
            .bind(token_hash)
            .run(&self.pool)
            .await?;
        Ok(deleted > 0)
    }

    async fn put_flash(&self, env_id: &EnvId, token_hash: &str, sealed: &[u8], expires_at: i64) -> R<()> {
        sqlx::query(
            "INSERT INTO session_flashes (env_id, token_hash, sealed, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (env_id, token_hash) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at",
        )
        .bind(env_id.as_str())
        .bind(token_hash)
        .bind(sealed.to_vec())
        .bind(expires_at)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_flash(&self, env_id: &EnvId, token_hash: &str, now: i64) -> R<Option<Vec<u8>>> {
        // DELETE … RETURNING: of two concurrent page loads, one gets the note.
        let taken = sqlx::query("DELETE FROM session_flashes WHERE env_id = $1 AND token_hash = $2 RETURNING sealed, expires_at")
            .bind(env_id.as_str())
            .bind(token_hash)
            .optional::<FlashRow, _>(&self.pool)
            .await?;
        Ok(taken.filter(|f| f.expires_at > now).map(|f| f.sealed))
    }
}

#[derive(sqlx::FromRow)]
struct FlashRow {
    sealed: Vec<u8>,
    expires_at: i64,
}

impl Record for FlashRow {
    type Domain = Self;
    fn into_domain(self) -> R<Self> {
        Ok(self)
    }
}
