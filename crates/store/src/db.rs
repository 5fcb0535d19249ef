//! What every role file shares: the query extension that maps sqlx's errors
//! once (so `?` works on statements), row records, JSON columns, and
//! transactions that carry their audit event.

use std::future::Future;

use onramp_domain::audit::AuditEvent;
use onramp_domain::store::StoreError;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AnyConnection, Executor, FromRow};

use crate::{SqlStore, map_err};

pub(crate) type R<T> = Result<T, StoreError>;
pub(crate) type Query<'q> = sqlx::query::Query<'q, Any, AnyArguments>;

/// A `#[derive(FromRow)]` row struct and the domain record it becomes.
pub(crate) trait Record: for<'r> FromRow<'r, AnyRow> + Send + Unpin {
    type Domain: Send;
    fn into_domain(self) -> R<Self::Domain>;
}

fn record<T: Record>(row: &AnyRow) -> R<T::Domain> {
    T::from_row(row).map_err(map_err)?.into_domain()
}

/// Statements that report failures as `StoreError`.
pub(crate) trait Sql<'q>: Sized {
    /// Executes and returns the number of rows touched.
    fn run<'e, 'c: 'e, E>(self, e: E) -> impl Future<Output = R<u64>> + Send + 'e
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = Any>;

    /// Executes and fails with `NotFound` when no row was touched.
    fn expect_row<'e, 'c: 'e, E>(self, e: E) -> impl Future<Output = R<()>> + Send + 'e
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = Any>,
    {
        let done = self.run(e);
        async move { if done.await? == 0 { Err(StoreError::NotFound) } else { Ok(()) } }
    }

    fn optional<'e, 'c: 'e, T: Record + 'e, E>(self, e: E) -> impl Future<Output = R<Option<T::Domain>>> + Send + 'e
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = Any>;

    fn all<'e, 'c: 'e, T: Record + 'e, E>(self, e: E) -> impl Future<Output = R<Vec<T::Domain>>> + Send + 'e
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = Any>;
}

impl<'q> Sql<'q> for Query<'q> {
    async fn run<'e, 'c: 'e, E>(self, e: E) -> R<u64>
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = Any>,
    {
        Ok(self.execute(e).await.map_err(map_err)?.rows_affected())
    }

    async fn optional<'e, 'c: 'e, T: Record + 'e, E>(self, e: E) -> R<Option<T::Domain>>
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = Any>,
    {
        self.fetch_optional(e).await.map_err(map_err)?.as_ref().map(record::<T>).transpose()
    }

    async fn all<'e, 'c: 'e, T: Record + 'e, E>(self, e: E) -> R<Vec<T::Domain>>
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = Any>,
    {
        self.fetch_all(e).await.map_err(map_err)?.iter().map(record::<T>).collect()
    }
}

/// A list or object stored as JSON text.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Reads a JSON text column back; `column` names it in the error.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> R<T> {
    serde_json::from_str(text).map_err(|e| StoreError::other(format!("column {column}: {e}")))
}

pub(crate) async fn insert_audit(c: &mut AnyConnection, e: &AuditEvent) -> R<()> {
    sqlx::query(
        "INSERT INTO audit_events (id, platform_id, environment, actor, action, target, request_id, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.id.as_str())
    .bind(e.platform_id.as_str())
    .bind(e.environment.as_deref())
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.target)
    .bind(e.request_id.as_deref())
    .bind(to_json(&e.detail))
    .bind(e.created_at)
    .run(&mut *c)
    .await?;
    for event in &e.events {
        crate::events::insert_event(c, e, event).await?;
    }
    Ok(())
}

impl SqlStore {
    /// Runs `work` in one transaction that also appends `audit`, so a change
    /// and its audit event commit or roll back together.
    pub(crate) async fn audited<T, F>(&self, audit: Option<&AuditEvent>, work: F) -> R<T>
    where
        F: AsyncFnOnce(&mut AnyConnection) -> R<T>,
    {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let out = work(&mut tx).await?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(out)
    }
}
