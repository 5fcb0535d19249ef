//! Reading the audit log; events are written by `db::insert_audit` inside
//! the transaction of the change they record.

use async_trait::async_trait;
use onramp_domain::audit::{AuditEvent, AuditFilter};
use onramp_domain::ids::{AuditEventId, PlatformId};
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
            platform_id: if self.platform_id.is_empty() {
                PlatformId::deployment()
            } else {
                platform_id(&self.platform_id)?
            },
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
    async fn append_audit(&self, event: &AuditEvent) -> R<()> {
        self.audited(Some(event), async |_| Ok(())).await
    }

    async fn audit_events(&self, f: &AuditFilter) -> R<Vec<AuditEvent>> {
        // An actor filter without `:` matches the kind (`operator` finds
        // `operator` and `operator:…`); an action ending in `.` is a prefix.
        let actor_prefix = f
            .actor
            .as_deref()
            .filter(|a| !a.contains(':'))
            .map(|a| format!("{}:%", like_escaped(a)));
        let action_prefix = f
            .action
            .as_deref()
            .filter(|a| a.ends_with('.'))
            .map(|a| format!("{}%", like_escaped(a)));
        let action_exact = f.action.as_deref().filter(|a| !a.ends_with('.'));
        sqlx::query(
            "SELECT * FROM audit_events WHERE ($1 IS NULL OR platform_id = $1) AND ($2 IS NULL OR environment = $2)
             AND ($4 IS NULL OR actor = $4 OR actor LIKE $5 ESCAPE '\\')
             AND ($6 IS NULL OR action = $6) AND ($7 IS NULL OR action LIKE $7 ESCAPE '\\')
             AND ($8 IS NULL OR target = $8)
             AND ($9 IS NULL OR created_at >= $9) AND ($10 IS NULL OR created_at < $10)
             AND ($11 IS NULL OR id < $11)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(f.platform_id.as_deref())
        .bind(f.environment.as_deref())
        .bind(i64::from(f.limit))
        .bind(f.actor.as_deref())
        .bind(actor_prefix.as_deref().unwrap_or(""))
        .bind(action_exact)
        .bind(action_prefix.as_deref())
        .bind(f.target.as_deref())
        .bind(f.from)
        .bind(f.to)
        .bind(f.before.as_ref().map(AuditEventId::as_str))
        .all::<AuditRow, _>(&self.pool)
        .await
    }
}

/// `raw` with LIKE's wildcards and the escape character escaped.
pub(crate) fn like_escaped(raw: &str) -> String {
    raw.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
