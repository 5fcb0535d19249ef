//! The partner portal: applications, portal users, their sessions and
//! invitations.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{EnvId, PartnerId, PortalUserId};
use onramp_domain::partners::Partner;
use onramp_domain::portal::{Application, Invitation, PortalSession, PortalUser, Stage};
use onramp_domain::store::{PortalStore, StoreError};
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::db::{R, Record, Sql, insert_audit};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    env_id: String,
    partner_id: String,
    email: String,
    name: String,
    password_hash: String,
    totp_secret: Option<Vec<u8>>,
    totp_last_step: i64,
    created_at: i64,
    updated_at: i64,
}

impl Record for UserRow {
    type Domain = PortalUser;
    fn into_domain(self) -> R<PortalUser> {
        Ok(PortalUser {
            id: self.id.into(),
            env_id: self.env_id.into(),
            partner_id: self.partner_id.into(),
            email: self.email,
            name: self.name,
            password_hash: self.password_hash,
            totp_secret: self.totp_secret,
            totp_last_step: self.totp_last_step,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    user_id: String,
    stage: String,
    pending_totp: Option<Vec<u8>>,
    created_at: i64,
    last_seen_at: i64,
}

impl Record for SessionRow {
    type Domain = PortalSession;
    fn into_domain(self) -> R<PortalSession> {
        let stage = Stage::from_stored(&self.stage).ok_or_else(|| StoreError::other(format!("portal session stage `{}`", self.stage)))?;
        Ok(PortalSession {
            token_hash: self.token_hash,
            user_id: self.user_id.into(),
            stage,
            pending_totp: self.pending_totp,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    token_hash: String,
    env_id: String,
    partner_id: String,
    email: String,
    invited_by: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl Record for InvitationRow {
    type Domain = Invitation;
    fn into_domain(self) -> R<Invitation> {
        Ok(Invitation {
            token_hash: self.token_hash,
            env_id: self.env_id.into(),
            partner_id: self.partner_id.into(),
            email: self.email,
            invited_by: self.invited_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            used_at: self.used_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ApplicationRow {
    partner_id: String,
    contact_name: String,
    contact_email: String,
    intended_use: String,
    created_at: i64,
}

impl Record for ApplicationRow {
    type Domain = Application;
    fn into_domain(self) -> R<Application> {
        Ok(Application {
            partner_id: self.partner_id.into(),
            contact_name: self.contact_name,
            contact_email: self.contact_email,
            intended_use: self.intended_use,
            created_at: self.created_at,
        })
    }
}

/// Inserts a portal user. The id is a fresh UUID, so the only uniqueness
/// that can fail is the email's within its environment.
async fn insert_user(c: &mut AnyConnection, u: &PortalUser) -> R<()> {
    let inserted = sqlx::query(
        "INSERT INTO portal_users (id, env_id, partner_id, email, name, password_hash, totp_secret, totp_last_step, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(u.id.as_str())
    .bind(u.env_id.as_str())
    .bind(u.partner_id.as_str())
    .bind(&u.email)
    .bind(&u.name)
    .bind(&u.password_hash)
    .bind(u.totp_secret.as_deref())
    .bind(u.totp_last_step)
    .bind(u.created_at)
    .bind(u.updated_at)
    .run(c)
    .await;
    match inserted {
        Err(StoreError::Conflict(_)) => Err(StoreError::Conflict("email")),
        other => other.map(|_| ()),
    }
}

#[async_trait]
impl PortalStore for SqlStore {
    async fn create_application(&self, p: &Partner, a: &Application, u: &PortalUser, audits: &[AuditEvent]) -> R<()> {
        self.audited(None, async |c| {
            crate::partners::insert_partner(&mut *c, p).await?;
            sqlx::query(
                "INSERT INTO partner_applications (partner_id, contact_name, contact_email, intended_use, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(a.partner_id.as_str())
            .bind(&a.contact_name)
            .bind(&a.contact_email)
            .bind(&a.intended_use)
            .bind(a.created_at)
            .run(&mut *c)
            .await?;
            insert_user(c, u).await?;
            for audit in audits {
                insert_audit(c, audit).await?;
            }
            Ok(())
        })
        .await
    }

    async fn partner_application(&self, partner_id: &PartnerId) -> R<Option<Application>> {
        sqlx::query("SELECT * FROM partner_applications WHERE partner_id = $1")
            .bind(partner_id.as_str())
            .optional::<ApplicationRow, _>(&self.pool)
            .await
    }

    async fn portal_user(&self, id: &PortalUserId) -> R<Option<PortalUser>> {
        sqlx::query("SELECT * FROM portal_users WHERE id = $1")
            .bind(id.as_str())
            .optional::<UserRow, _>(&self.pool)
            .await
    }

    async fn portal_user_by_email(&self, env_id: &EnvId, email: &str) -> R<Option<PortalUser>> {
        sqlx::query("SELECT * FROM portal_users WHERE env_id = $1 AND email = $2")
            .bind(env_id.as_str())
            .bind(email)
            .optional::<UserRow, _>(&self.pool)
            .await
    }

    async fn portal_users(&self, partner_id: &PartnerId) -> R<Vec<PortalUser>> {
        sqlx::query("SELECT * FROM portal_users WHERE partner_id = $1 ORDER BY id")
            .bind(partner_id.as_str())
            .all::<UserRow, _>(&self.pool)
            .await
    }

    async fn delete_portal_user(&self, id: &PortalUserId, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            // Explicit, not left to the cascade: the sessions must end (and
            // the recovery codes go) even where foreign keys are not enforced.
            sqlx::query("DELETE FROM portal_sessions WHERE user_id = $1")
                .bind(id.as_str())
                .run(&mut *c)
                .await?;
            sqlx::query("DELETE FROM portal_recovery_codes WHERE user_id = $1")
                .bind(id.as_str())
                .run(&mut *c)
                .await?;
            sqlx::query("DELETE FROM portal_users WHERE id = $1")
                .bind(id.as_str())
                .expect_row(c)
                .await
        })
        .await
    }

    async fn create_portal_session(&self, s: &PortalSession, audit: Option<&AuditEvent>) -> R<()> {
        self.audited(audit, async |c| {
            sqlx::query(
                "INSERT INTO portal_sessions (token_hash, user_id, stage, pending_totp, created_at, last_seen_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&s.token_hash)
            .bind(s.user_id.as_str())
            .bind(s.stage.as_str())
            .bind(s.pending_totp.as_deref())
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .run(c)
            .await
            .map(|_| ())
        })
        .await
    }

    async fn portal_session(&self, token_hash: &str) -> R<Option<PortalSession>> {
        sqlx::query("SELECT * FROM portal_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .optional::<SessionRow, _>(&self.pool)
            .await
    }

    async fn touch_portal_session(&self, token_hash: &str, last_seen_at: i64) -> R<()> {
        sqlx::query("UPDATE portal_sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(last_seen_at)
            .run(&self.pool)
            .await
            .map(|_| ())
    }

    async fn delete_portal_session(&self, token_hash: &str, audit: Option<&AuditEvent>) -> R<()> {
        self.audited(audit, async |c| {
            sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .run(c)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn create_invitation(&self, i: &Invitation, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO portal_invitations (token_hash, env_id, partner_id, email, invited_by, created_at, expires_at, used_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&i.token_hash)
            .bind(i.env_id.as_str())
            .bind(i.partner_id.as_str())
            .bind(&i.email)
            .bind(&i.invited_by)
            .bind(i.created_at)
            .bind(i.expires_at)
            .bind(i.used_at)
            .run(c)
            .await
            .map(|_| ())
        })
        .await
    }

    async fn invitation(&self, token_hash: &str) -> R<Option<Invitation>> {
        sqlx::query("SELECT * FROM portal_invitations WHERE token_hash = $1")
            .bind(token_hash)
            .optional::<InvitationRow, _>(&self.pool)
            .await
    }

    async fn accept_invitation(&self, token_hash: &str, now: i64, user: &PortalUser, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            // A conditional update: of two acceptances at once, one moves the row.
            sqlx::query("UPDATE portal_invitations SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
                .bind(token_hash)
                .bind(now)
                .expect_row(&mut *c)
                .await?;
            insert_user(c, user).await
        })
        .await
    }

    async fn purge_portal(&self, idle_before: i64, expired_before: i64) -> R<u64> {
        let sessions = sqlx::query("DELETE FROM portal_sessions WHERE last_seen_at < $1")
            .bind(idle_before)
            .run(&self.pool)
            .await?;
        let invitations = sqlx::query("DELETE FROM portal_invitations WHERE expires_at < $1")
            .bind(expired_before)
            .run(&self.pool)
            .await?;
        Ok(sessions + invitations)
    }
}
