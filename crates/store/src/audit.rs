//! Reading the audit log; events are written by `db::insert_audit` inside
//! the transaction of the change they record.

use async_trait::async_trait;
use onramp_domain::audit::{AuditEvent, AuditFilter};
use onramp_domain::store::AuditStore;

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json};
use crate::tenancy::platform_id;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    platform_id: String,
    environment: Option<String>,
    actor: String,
    action: String,
    target: String,
    request_id: Option<String>,
    detail: String,
    created_at: i64,
}

impl Record for AuditRow {
    type Domain = AuditEvent;
    fn into_domain(self) -> R<AuditEvent> {
        Ok(AuditEvent {
            id: self.id.into(),
            platform_id: platform_id(&self.platform_id)?,
            environment: self.environment,
            actor: self.actor,
            action: self.action,
            target: self.target,
            request_id: self.request_id,
            detail: from_json("detail", &self.detail)?,
            created_at: self.created_at,
            events: Vec::new(),
        })
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn audit_events(&self, f: &AuditFilter) -> R<Vec<AuditEvent>> {
        sqlx::query(
            "SELECT * FROM audit_events WHERE ($1 IS NULL OR platform_id = $1) AND ($2 IS NULL OR environment = $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(f.platform_id.as_deref())
        .bind(f.environment.as_deref())
        .bind(i64::from(f.limit))
        .all::<AuditRow, _>(&self.pool)
        .await
    }
}
