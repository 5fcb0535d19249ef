//! Operators, their recovery codes and their console sessions.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::OperatorId;
use onramp_domain::operators::{Operator, OperatorRole, OperatorSession, Stage};
use onramp_domain::store::{OperatorStore, StoreError};

use crate::SqlStore;
use crate::db::{R, Record, Sql};
use crate::second_factor::OPERATORS;

#[derive(sqlx::FromRow)]
struct OperatorRow {
    id: String,
    email: String,
    role: String,
    password_hash: String,
    totp_secret: Option<Vec<u8>>,
    totp_last_step: i64,
    disabled_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl Record for OperatorRow {
    type Domain = Operator;
    fn into_domain(self) -> R<Operator> {
        let role = OperatorRole::parse(&self.role).map_err(|_| StoreError::other(format!("operator role `{}`", self.role)))?;
        Ok(Operator {
            id: self.id.into(),
            email: self.email,
            role,
            password_hash: self.password_hash,
            totp_secret: self.totp_secret,
            totp_last_step: self.totp_last_step,
            disabled_at: self.disabled_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    operator_id: String,
    stage: String,
    pending_totp: Option<Vec<u8>>,
    created_at: i64,
    last_seen_at: i64,
}

impl Record for SessionRow {
    type Domain = OperatorSession;
    fn into_domain(self) -> R<OperatorSession> {
        let stage = Stage::from_stored(&self.stage).ok_or_else(|| StoreError::other(format!("session stage `{}`", self.stage)))?;
        Ok(OperatorSession {
            token_hash: self.token_hash,
            operator_id: self.operator_id.into(),
            stage,
            pending_totp: self.pending_totp,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
        })
    }
}

#[async_trait]
impl OperatorStore for SqlStore {
    async fn create_operator(&self, o: &Operator, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO operators (id, email, role, password_hash, totp_secret, totp_last_step, disabled_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(o.id.as_str())
            .bind(&o.email)
            .bind(o.role.as_str())
            .bind(&o.password_hash)
            .bind(o.totp_secret.as_deref())
            .bind(o.totp_last_step)
            .bind(o.disabled_at)
            .bind(o.created_at)
            .bind(o.updated_at)
            .run(c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn operator(&self, id: &OperatorId) -> R<Option<Operator>> {
        sqlx::query("SELECT * FROM operators WHERE id = $1")
            .bind(id.as_str())
            .optional::<OperatorRow, _>(&self.pool)
            .await
    }

    async fn operator_by_email(&self, email: &str) -> R<Option<Operator>> {
        sqlx::query("SELECT * FROM operators WHERE email = $1")
            .bind(email)
            .optional::<OperatorRow, _>(&self.pool)
            .await
    }

    async fn operators(&self) -> R<Vec<Operator>> {
        sqlx::query("SELECT * FROM operators ORDER BY id")
            .all::<OperatorRow, _>(&self.pool)
            .await
    }

    async fn update_operator(&self, o: &Operator, end_sessions: bool, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE operators SET password_hash = $2, disabled_at = $3, updated_at = $4 WHERE id = $1")
                .bind(o.id.as_str())
                .bind(&o.password_hash)
                .bind(o.disabled_at)
                .bind(o.updated_at)
                .run(&mut *c)
                .await?;
            if end_sessions {
                sqlx::query("DELETE FROM operator_sessions WHERE operator_id = $1")
                    .bind(o.id.as_str())
                    .run(c)
                    .await?;
            }
            Ok(())
        })
        .await
    }

    async fn enrol_totp(&self, id: &OperatorId, sealed: &[u8], step: i64, hashes: &[String], audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE operators SET totp_secret = $2, totp_last_step = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(sealed)
                .bind(step)
                .run(&mut *c)
                .await?;
            OPERATORS.replace_codes(c, id.as_str(), hashes).await?;
            Ok(())
        })
        .await
    }

    async fn accept_totp_step(&self, id: &OperatorId, step: i64) -> R<bool> {
        OPERATORS.accept_step(&self.pool, id.as_str(), step).await
    }

    async fn use_recovery_code(&self, id: &OperatorId, code_hash: &str) -> R<bool> {
        OPERATORS.use_code(&self.pool, id.as_str(), code_hash).await
    }

    async fn recovery_codes_left(&self, id: &OperatorId) -> R<u32> {
        OPERATORS.codes_left(&self.pool, id.as_str()).await
    }

    async fn create_operator_session(&self, s: &OperatorSession) -> R<()> {
        sqlx::query(
            "INSERT INTO operator_sessions (token_hash, operator_id, stage, pending_totp, created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.token_hash)
        .bind(s.operator_id.as_str())
        .bind(s.stage.as_str())
        .bind(s.pending_totp.as_deref())
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .run(&self.pool)
        .await
        .map(|_| ())
    }

    async fn operator_session(&self, token_hash: &str) -> R<Option<OperatorSession>> {
        sqlx::query("SELECT * FROM operator_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .optional::<SessionRow, _>(&self.pool)
            .await
    }

    async fn update_operator_session(&self, s: &OperatorSession, audit: Option<&AuditEvent>) -> R<()> {
        self.audited(audit, async |c| {
            sqlx::query("UPDATE operator_sessions SET stage = $2, pending_totp = $3, last_seen_at = $4 WHERE token_hash = $1")
                .bind(&s.token_hash)
                .bind(s.stage.as_str())
                .bind(s.pending_totp.as_deref())
                .bind(s.last_seen_at)
                .run(c)
                .await?;
            Ok(())
        })
        .await
    }

    async fn delete_operator_session(&self, token_hash: &str, audit: Option<&AuditEvent>) -> R<()> {
        self.audited(audit, async |c| {
            sqlx::query("DELETE FROM operator_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .run(c)
                .await?;
            Ok(())
        })
        .await
    }

    async fn purge_operator_sessions(&self, idle_before: i64) -> R<u64> {
        sqlx::query("DELETE FROM operator_sessions WHERE last_seen_at < $1")
            .bind(idle_before)
            .run(&self.pool)
            .await
    }
}
