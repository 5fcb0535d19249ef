//! Portal users' optional second factor: the sealed TOTP secret, the last
//! step accepted, recovery codes, and the stage of their sessions.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::PortalUserId;
use onramp_domain::portal::PortalSession;
use onramp_domain::store::PortalFactorStore;

use crate::SqlStore;
use crate::db::{R, Sql};
use crate::second_factor::PORTAL_USERS;

#[async_trait]
impl PortalFactorStore for SqlStore {
    async fn update_portal_session(&self, s: &PortalSession, audit: Option<&AuditEvent>) -> R<()> {
        self.audited(audit, async |c| {
            sqlx::query("UPDATE portal_sessions SET stage = $2, pending_totp = $3, last_seen_at = $4 WHERE token_hash = $1")
                .bind(&s.token_hash)
                .bind(s.stage.as_str())
                .bind(s.pending_totp.as_deref())
                .bind(s.last_seen_at)
                .run(c)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn enrol_portal_totp(
        &self,
        id: &PortalUserId,
        sealed: &[u8],
        step: i64,
        hashes: &[String],
        keep: &str,
        audit: &AuditEvent,
    ) -> R<()> {
        self.audited(Some(audit), async |c| {
            // Conditional: of two set-ups confirmed at once, one wins and
            // its recovery codes are the ones kept.
            sqlx::query("UPDATE portal_users SET totp_secret = $2, totp_last_step = $3 WHERE id = $1 AND totp_secret IS NULL")
                .bind(id.as_str())
                .bind(sealed)
                .bind(step)
                .expect_row(&mut *c)
                .await?;
            PORTAL_USERS.replace_codes(&mut *c, id.as_str(), hashes).await?;
            sqlx::query("DELETE FROM portal_sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(id.as_str())
                .bind(keep)
                .run(c)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn disable_portal_totp(&self, id: &PortalUserId, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            // totp_last_step stays: it only ever moves forward.
            sqlx::query("UPDATE portal_users SET totp_secret = NULL WHERE id = $1 AND totp_secret IS NOT NULL")
                .bind(id.as_str())
                .expect_row(&mut *c)
                .await?;
            sqlx::query("DELETE FROM portal_recovery_codes WHERE user_id = $1")
                .bind(id.as_str())
                .run(c)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn accept_portal_totp_step(&self, id: &PortalUserId, step: i64) -> R<bool> {
        PORTAL_USERS.accept_step(&self.pool, id.as_str(), step).await
    }

    async fn use_portal_recovery_code(&self, id: &PortalUserId, code_hash: &str) -> R<bool> {
        PORTAL_USERS.use_code(&self.pool, id.as_str(), code_hash).await
    }

    async fn portal_recovery_codes_left(&self, id: &PortalUserId) -> R<u32> {
        PORTAL_USERS.codes_left(&self.pool, id.as_str()).await
    }
}
