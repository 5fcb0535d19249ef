//! Copying a whole deployment between databases (SQLite ⇄ PostgreSQL):
//! every table, in dependency order, in transactions of a few hundred rows,
//! with the row counts verified at the end.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{SqlStore, map_err};
use onramp_domain::store::{SecretsStore, StoreError};

type R<T> = Result<T, StoreError>;

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Text,
    Int,
    Blob,
}

use Kind::{Blob, Int, Text};

/// Every table and column, parents before children (foreign keys).
pub(crate) const TABLES: &[(&str, &[(&str, Kind)])] = &[
    // Which master key sealed the signing seeds below: they are copied
    // sealed, so the target serves with the same master key file.
    ("master_key_check", &[("id", Text), ("check_value", Text), ("created_at", Int)]),
    (
        "instances",
        &[
            ("platform_id", Text),
            ("name", Text),
            ("region", Text),
            ("app_url", Text),
            ("features", Text),
            ("rate_limits", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("link_template", Text),
            ("login_link_ttl_secs", Int),
        ],
    ),
    (
        "environments",
        &[("id", Text), ("platform_id", Text), ("kind", Text), ("cors_origins", Text)],
    ),
    ("hostnames", &[("hostname", Text), ("env_id", Text)]),
    (
        "signing_keys",
        &[
            ("kid", Text),
            ("env_id", Text),
            ("seed", Blob),
            ("created_at", Int),
            ("retired_at", Int),
        ],
    ),
    (
        "service_users",
        &[
            ("id", Text),
            ("env_id", Text),
            ("username", Text),
            ("password_hash", Text),
            ("roles", Text),
            ("disabled_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "accounts",
        &[
            ("env_id", Text),
            ("id", Text),
            ("email", Text),
            ("email_normalized", Text),
            ("first_name", Text),
            ("last_name", Text),
            ("password_hash", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("partner_id", Text),
        ],
    ),
    (
        "partners",
        &[
            ("id", Text),
            ("env_id", Text),
            ("name", Text),
            ("status", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "api_keys",
        &[
            ("key_id", Text),
            ("partner_id", Text),
            ("env_id", Text),
            ("key_hash", Text),
            ("scopes", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("retires_at", Int),
            ("revoked_at", Int),
            ("last_used_at", Int),
            ("rotated_to", Text),
        ],
    ),
    (
        "webhook_endpoints",
        &[
            ("id", Text),
            ("env_id", Text),
            ("partner_id", Text),
            ("url", Text),
            ("description", Text),
            ("event_types", Text),
            ("secret", Blob),
            ("previous_secret", Blob),
            ("previous_secret_expires_at", Int),
            ("event_cursor", Int),
            ("disabled_at", Int),
            ("disabled_reason", Text),
            ("failing_since", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "webhook_messages",
        &[
            ("endpoint_id", Text),
            ("event_id", Text),
            ("env_id", Text),
            ("sequence", Int),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("lease_until", Int),
            ("state", Text),
            ("created_at", Int),
        ],
    ),
    (
        "webhook_attempts",
        &[
            ("endpoint_id", Text),
            ("event_id", Text),
            ("event_type", Text),
            ("attempt", Int),
            ("attempted_at", Int),
            ("status_code", Int),
            ("error", Text),
            ("latency_ms", Int),
            ("response_snippet", Text),
        ],
    ),
    (
        "sessions",
        &[
            ("token_hash", Text),
            ("env_id", Text),
            ("account_id", Text),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "session_flashes",
        &[("env_id", Text), ("token_hash", Text), ("sealed", Blob), ("expires_at", Int)],
    ),
    (
        "login_tokens",
        &[
            ("token_hash", Text),
            ("env_id", Text),
            ("account_id", Text),
            ("redirect", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
        ],
    ),
    (
        "idempotency_keys",
        &[
            ("env_id", Text),
            ("key_hash", Text),
            ("fingerprint", Text),
            ("status", Int),
            ("body", Blob),
            ("created_at", Int),
        ],
    ),
    (
        "audit_events",
        &[
            ("id", Text),
            ("platform_id", Text),
            ("environment", Text),
            ("actor", Text),
            ("action", Text),
            ("target", Text),
            ("request_id", Text),
            ("detail", Text),
            ("created_at", Int),
        ],
    ),
    ("event_sequences", &[("env_id", Text), ("last_sequence", Int)]),
    (
        "events",
        &[
            ("env_id", Text),
            ("sequence", Int),
            ("id", Text),
            ("type", Text),
            ("partner_id", Text),
            ("platform_id", Text),
            ("environment", Text),
            ("actor_type", Text),
            ("actor_id", Text),
            ("data", Text),
            ("created_at", Int),
        ],
    ),
    (
        "usage_minutes",
        &[
            ("key_id", Text),
            ("partner_id", Text),
            ("env_id", Text),
            ("route", Text),
            ("status_class", Text),
            ("minute", Int),
            ("count", Int),
            ("denied", Int),
        ],
    ),
    (
        "alerts",
        &[
            ("id", Text),
            ("env_id", Text),
            ("partner_id", Text),
            ("key_id", Text),
            ("kind", Text),
            ("detail", Text),
            ("created_at", Int),
            ("delivery", Text),
            ("attempts", Int),
            ("delivered_at", Int),
        ],
    ),
    (
        "alert_settings",
        &[
            ("env_id", Text),
            ("partner_id", Text),
            ("volume_factor", Text),
            ("volume_min", Int),
            ("error_share", Text),
            ("error_min", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "vendor_apps",
        &[
            ("id", Text),
            ("env_id", Text),
            ("account_id", Text),
            ("name", Text),
            ("origins", Text),
            ("key_id", Text),
            ("key_hash", Text),
            ("key_created_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "grants",
        &[
            ("env_id", Text),
            ("account_id", Text),
            ("app_id", Text),
            ("scopes", Text),
            ("granted_at", Int),
        ],
    ),
    (
        "auth_codes",
        &[
            ("code_hash", Text),
            ("env_id", Text),
            ("app_id", Text),
            ("account_id", Text),
            ("code_challenge", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
        ],
    ),
];

/// Rows per transaction on the target.
const BATCH: usize = 500;

/// What a copy did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    pub table: &'static str,
    pub source_rows: i64,
    pub target_rows: i64,
}

async fn count(store: &SqlStore, table: &str) -> R<i64> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}")))
        .fetch_one(&store.pool)
        .await
        .map_err(map_err)?;
    row.try_get("n").map_err(map_err)
}

async fn insert(c: &mut AnyConnection, table: &str, columns: &[(&str, Kind)], row: &AnyRow, merge: bool) -> R<()> {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let conflict = if merge { " ON CONFLICT DO NOTHING" } else { "" };
    let sql = format!("INSERT INTO {table} ({}) VALUES ({}){conflict}", names.join(", "), marks.join(", "));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (name, kind) in columns {
        q = match kind {
            Text => q.bind(row.try_get::<Option<String>, _>(*name).map_err(map_err)?),
            Int => q.bind(row.try_get::<Option<i64>, _>(*name).map_err(map_err)?),
            Blob => q.bind(row.try_get::<Option<Vec<u8>>, _>(*name).map_err(map_err)?),
        };
    }
    q.execute(c).await.map_err(map_err)?;
    Ok(())
}

impl SqlStore {
    /// Whether the deployment holds any instance, account or audit event.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn is_empty(&self) -> R<bool> {
        for table in ["instances", "accounts", "audit_events"] {
            if count(self, table).await? > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Copies every table of `self` into `target`. With `merge`, rows whose
    /// keys the target already has are kept as they are (for a non-empty
    /// target); `progress(table, done, total)` is called as batches land.
    /// Secrets are copied as they are stored, sealed: the target needs the
    /// source's master key.
    ///
    /// # Errors
    /// Storage failures, a target sealed with another master key, or a
    /// target that ends with fewer rows than the source.
    pub async fn copy_into(&self, target: &SqlStore, merge: bool, progress: &dyn Fn(&str, usize, usize)) -> R<Vec<CopiedTable>> {
        let (ours, theirs) = (self.master_key_check().await?, target.master_key_check().await?);
        if ours.is_some() && theirs.is_some() && ours != theirs {
            return Err(StoreError::other(
                "the target was sealed with another master key than the source: the source's signing keys would not open there",
            ));
        }
        let mut report = Vec::new();
        for (table, columns) in TABLES {
            // A server started on an empty target wrote the same check value.
            let merge = merge || *table == "master_key_check";
            let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {} FROM {table}", names.join(", "))))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
            progress(table, 0, rows.len());
            for (i, batch) in rows.chunks(BATCH).enumerate() {
                let mut tx = target.pool.begin().await.map_err(map_err)?;
                for row in batch {
                    insert(&mut tx, table, columns, row, merge).await?;
                }
                tx.commit().await.map_err(map_err)?;
                progress(table, (i * BATCH + batch.len()).min(rows.len()), rows.len());
            }
            let copied = CopiedTable {
                table,
                source_rows: count(self, table).await?,
                target_rows: count(target, table).await?,
            };
            if copied.target_rows < rows.len() as i64 {
                return Err(StoreError::other(format!(
                    "{table}: the target has {} rows, the source {}",
                    copied.target_rows,
                    rows.len()
                )));
            }
            report.push(copied);
        }
        Ok(report)
    }
}
