//! SQL for usage counts and alerts.

use onramp_domain::store::StoreError;
use onramp_domain::usage::{Alert, KeyActivity, UsageRow};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::map_err;

type R<T> = Result<T, StoreError>;

pub async fn add_usage(c: &mut AnyConnection, r: &UsageRow) -> R<()> {
    sqlx::query(
        "INSERT INTO usage_minutes (key_id, partner_id, env_id, route, status_class, minute, count, denied)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (key_id, route, status_class, minute)
         DO UPDATE SET count = usage_minutes.count + excluded.count, denied = usage_minutes.denied + excluded.denied",
    )
    .bind(&r.key_id)
    .bind(&r.partner_id)
    .bind(&r.env_id)
    .bind(&r.route)
    .bind(&r.status_class)
    .bind(r.minute)
    .bind(r.count)
    .bind(r.denied)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub fn usage_row(row: &AnyRow) -> R<UsageRow> {
    Ok(UsageRow {
        key_id: row.try_get("key_id").map_err(map_err)?,
        partner_id: row.try_get("partner_id").map_err(map_err)?,
        env_id: row.try_get("env_id").map_err(map_err)?,
        route: row.try_get("route").map_err(map_err)?,
        status_class: row.try_get("status_class").map_err(map_err)?,
        minute: row.try_get("minute").map_err(map_err)?,
        count: row.try_get("count").map_err(map_err)?,
        denied: row.try_get("denied").map_err(map_err)?,
    })
}

/// Sums are cast to BIGINT: PostgreSQL sums BIGINTs as NUMERIC.
pub const KEY_ACTIVITY: &str = "SELECT key_id, MIN(partner_id) AS partner_id, MIN(env_id) AS env_id,
     CAST(COALESCE(SUM(CASE WHEN minute >= $2 THEN count ELSE 0 END), 0) AS BIGINT) AS recent,
     CAST(COALESCE(SUM(CASE WHEN minute >= $2 THEN denied ELSE 0 END), 0) AS BIGINT) AS recent_denied,
     CAST(COALESCE(SUM(CASE WHEN minute < $2 THEN count ELSE 0 END), 0) AS BIGINT) AS trailing
     FROM usage_minutes WHERE minute >= $1
     GROUP BY key_id HAVING SUM(CASE WHEN minute >= $2 THEN count ELSE 0 END) > 0";

pub fn key_activity(row: &AnyRow) -> R<KeyActivity> {
    Ok(KeyActivity {
        key_id: row.try_get("key_id").map_err(map_err)?,
        partner_id: row.try_get("partner_id").map_err(map_err)?,
        env_id: row.try_get("env_id").map_err(map_err)?,
        recent: row.try_get("recent").map_err(map_err)?,
        recent_denied: row.try_get("recent_denied").map_err(map_err)?,
        trailing: row.try_get("trailing").map_err(map_err)?,
    })
}

pub async fn insert_alert(c: &mut AnyConnection, a: &Alert) -> R<()> {
    sqlx::query(
        "INSERT INTO alerts (id, env_id, partner_id, key_id, kind, detail, created_at, delivery, attempts, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&a.id)
    .bind(&a.env_id)
    .bind(&a.partner_id)
    .bind(&a.key_id)
    .bind(&a.kind)
    .bind(a.detail.to_string())
    .bind(a.created_at)
    .bind(&a.delivery)
    .bind(a.attempts)
    .bind(a.delivered_at)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub fn alert(row: &AnyRow) -> R<Alert> {
    let detail: String = row.try_get("detail").map_err(map_err)?;
    Ok(Alert {
        id: row.try_get("id").map_err(map_err)?,
        env_id: row.try_get("env_id").map_err(map_err)?,
        partner_id: row.try_get("partner_id").map_err(map_err)?,
        key_id: row.try_get("key_id").map_err(map_err)?,
        kind: row.try_get("kind").map_err(map_err)?,
        detail: serde_json::from_str(&detail).map_err(StoreError::other)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        delivery: row.try_get("delivery").map_err(map_err)?,
        attempts: row.try_get("attempts").map_err(map_err)?,
        delivered_at: row.try_get("delivered_at").map_err(map_err)?,
    })
}
