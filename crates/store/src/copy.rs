//! Copying a whole deployment between databases (SQLite ⇄ PostgreSQL):
//! every table, in dependency order, in transactions of a few hundred rows,
//! with the row counts verified at the end.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{SqlStore, map_err};
use onramp_domain::store::{SecretsStore, StoreError};

type R<T> = Result<T, StoreError>;

pub(crate) use crate::copy_tables::{Kind, tables};
use Kind::{Blob, Int, Text};

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
        for (table, columns) in tables() {
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
