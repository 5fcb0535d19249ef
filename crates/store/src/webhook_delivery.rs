//! Webhook delivery: the fan-out's messages, their leases and the attempt log.

use async_trait::async_trait;
use onramp_domain::events::Event;
use onramp_domain::ids::{EndpointId, EnvId, EventId};
use onramp_domain::store::DeliveryStore;
use onramp_domain::webhooks::Endpoint;
use onramp_domain::webhooks::delivery::{Attempt, AttemptCursor, CursorClaim, CursorMove, CursorTake, Message, NextStep, Recorded};
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::db::{R, Record, Sql, insert_audit};
use crate::events::EventRow;
use crate::map_err;
use crate::webhooks::EndpointRow;

#[derive(sqlx::FromRow)]
struct MessageRow {
    endpoint_id: String,
    event_id: String,
    env_id: String,
    sequence: i64,
    attempts: i64,
}

impl Record for MessageRow {
    type Domain = Message;
    fn into_domain(self) -> R<Message> {
        Ok(Message {
            endpoint_id: self.endpoint_id.into(),
            event_id: self.event_id.into(),
            env_id: self.env_id.into(),
            sequence: self.sequence,
            attempts: self.attempts,
            queued: true,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    endpoint_id: String,
    event_id: String,
    event_type: String,
    attempt: i64,
    attempted_at: i64,
    status_code: Option<i64>,
    error: Option<String>,
    latency_ms: i64,
    response_snippet: String,
}

impl Record for AttemptRow {
    type Domain = Attempt;
    fn into_domain(self) -> R<Attempt> {
        Ok(Attempt {
            endpoint_id: self.endpoint_id.into(),
            event_id: self.event_id.into(),
            event_type: self.event_type,
            attempt: self.attempt,
            attempted_at: self.attempted_at,
            status_code: self.status_code.and_then(|s| u16::try_from(s).ok()),
            error: self.error,
            latency_ms: self.latency_ms,
            response_snippet: self.response_snippet,
        })
    }
}

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn event_by_id(&self, env_id: &EnvId, event_id: &EventId) -> R<Option<Event>> {
        sqlx::query("SELECT * FROM events WHERE env_id = $1 AND id = $2")
            .bind(env_id.as_str())
            .bind(event_id.as_str())
            .optional::<EventRow, _>(&self.pool)
            .await
    }

    async fn requeue_event(&self, endpoint_id: &EndpointId, event: &Event, now: i64) -> R<()> {
        // A message in flight keeps its lease: it is attempted again after.
        // An event delivered at its first attempt has no message: the new
        // one goes on from the attempts its log holds.
        sqlx::query(
            "INSERT INTO webhook_messages (endpoint_id, event_id, env_id, sequence, attempts, next_attempt_at, state, created_at)
             VALUES ($1, $2, $3, $4,
                     COALESCE((SELECT MAX(attempt) FROM webhook_attempts WHERE endpoint_id = $1 AND event_id = $2), 0),
                     $5, 'pending', $5)
             ON CONFLICT (endpoint_id, event_id) DO UPDATE SET state = 'pending', next_attempt_at = $5",
        )
        .bind(endpoint_id.as_str())
        .bind(event.id.as_str())
        .bind(event.env_id.as_str())
        .bind(event.sequence)
        .bind(now)
        .run(&self.pool)
        .await
        .map(|_| ())
    }

    async fn requeue_since(&self, endpoint_id: &EndpointId, env_id: &EnvId, since: i64, now: i64) -> R<u64> {
        sqlx::query(
            "UPDATE webhook_messages SET state = 'pending', next_attempt_at = $4
             WHERE endpoint_id = $1 AND state <> 'delivered'
             AND sequence IN (SELECT sequence FROM events WHERE env_id = $2 AND created_at >= $3)",
        )
        .bind(endpoint_id.as_str())
        .bind(env_id.as_str())
        .bind(since)
        .bind(now)
        .run(&self.pool)
        .await
    }

    async fn attempts(&self, endpoint_id: &EndpointId, cursor: Option<&AttemptCursor>, limit: u32) -> R<Vec<Attempt>> {
        let query = match cursor {
            None => sqlx::query(
                "SELECT * FROM webhook_attempts WHERE endpoint_id = $1
                 ORDER BY attempted_at DESC, event_id DESC, attempt DESC LIMIT $2",
            )
            .bind(endpoint_id.as_str())
            .bind(i64::from(limit)),
            Some(c) => sqlx::query(
                "SELECT * FROM webhook_attempts WHERE endpoint_id = $1
                 AND (attempted_at < $3 OR (attempted_at = $3 AND (event_id < $4 OR (event_id = $4 AND attempt < $5))))
                 ORDER BY attempted_at DESC, event_id DESC, attempt DESC LIMIT $2",
            )
            .bind(endpoint_id.as_str())
            .bind(i64::from(limit))
            .bind(c.attempted_at)
            .bind(c.event_id.as_str())
            .bind(c.attempt),
        };
        query.all::<AttemptRow, _>(&self.pool).await
    }

    async fn enabled_endpoints(&self) -> R<Vec<Endpoint>> {
        sqlx::query("SELECT * FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id")
            .all::<EndpointRow, _>(&self.pool)
            .await
    }

    async fn events_by_sequence(&self, env_id: &EnvId, sequences: &[i64]) -> R<Vec<Event>> {
        if sequences.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT * FROM events WHERE env_id = $1 AND sequence IN ({})",
            placeholders(2, sequences.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(env_id.as_str());
        for sequence in sequences {
            query = query.bind(*sequence);
        }
        query.all::<EventRow, _>(&self.pool).await
    }

    async fn claim_cursors(&self, claims: &[CursorClaim], now: i64, lease_until: i64) -> R<Vec<EndpointId>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let mut held = Vec::new();
        for claim in claims {
            // On PostgreSQL a second node's update waits for the first's and
            // re-checks the conditions: one of them gets the cursor.
            let (to, lease) = match claim.take {
                CursorTake::Lease => (claim.from, Some(lease_until)),
                CursorTake::Skip(to) => (to, None),
            };
            let taken = sqlx::query(
                "UPDATE webhook_endpoints SET event_cursor = $3, cursor_lease_until = $4
                 WHERE id = $1 AND event_cursor = $2 AND disabled_at IS NULL
                 AND (cursor_lease_until IS NULL OR cursor_lease_until <= $5)",
            )
            .bind(claim.endpoint_id.as_str())
            .bind(claim.from)
            .bind(to)
            .bind(lease)
            .bind(now)
            .run(&mut *tx)
            .await?;
            if taken == 1 && lease.is_some() {
                held.push(claim.endpoint_id.clone());
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(held)
    }

    async fn lease_due_messages(&self, now: i64, lease_until: i64, skip: &[EndpointId], limit: u32) -> R<Vec<Message>> {
        // Only placeholders are formatted into the statement. The conditions
        // are repeated outside the subquery: on PostgreSQL a
        // row another node leased meanwhile is re-checked after its lock
        // and skipped, so one message is never leased twice.
        let skipped = if skip.is_empty() {
            String::new()
        } else {
            format!("AND m.endpoint_id NOT IN ({})", placeholders(4, skip.len()))
        };
        let sql = format!(
            "UPDATE webhook_messages SET lease_until = $2
             WHERE (endpoint_id, event_id) IN (
                 SELECT m.endpoint_id, m.event_id FROM webhook_messages m
                 JOIN webhook_endpoints e ON e.id = m.endpoint_id AND e.disabled_at IS NULL
                 WHERE m.next_attempt_at <= $1 AND (m.lease_until IS NULL OR m.lease_until <= $1) {skipped}
                 ORDER BY m.next_attempt_at, m.sequence LIMIT $3)
             AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
             RETURNING endpoint_id, event_id, env_id, sequence, attempts"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(lease_until)
            .bind(i64::from(limit));
        for id in skip {
            query = query.bind(id.as_str());
        }
        if !self.any_due(now).await? {
            return Ok(Vec::new());
        }
        let mut messages = query.all::<MessageRow, _>(&self.pool).await?;
        messages.sort_by_key(|m| m.sequence);
        Ok(messages)
    }

    async fn release_leases(&self, messages: &[Message]) -> R<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        for m in messages {
            sqlx::query("UPDATE webhook_messages SET lease_until = NULL WHERE endpoint_id = $1 AND event_id = $2")
                .bind(m.endpoint_id.as_str())
                .bind(m.event_id.as_str())
                .run(&mut *tx)
                .await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn record_attempts(&self, recorded: &[Recorded], cursor: Option<&CursorMove>) -> R<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        insert_attempts(&mut tx, recorded).await?;
        for r in recorded {
            record_next_step(&mut tx, r).await?;
            record_health(&mut tx, r).await?;
            if let Some(audit) = &r.audit {
                insert_audit(&mut tx, audit).await?;
            }
        }
        if let Some(cursor) = cursor {
            move_cursor(&mut tx, cursor).await?;
        }
        tx.commit().await.map_err(map_err)
    }
}

impl SqlStore {
    /// Whether any message is due: a read, so that idle rounds never wait
    /// for the write lock the lease's update takes.
    async fn any_due(&self, now: i64) -> R<bool> {
        let due: Option<i64> = sqlx::query_scalar("SELECT 1 FROM webhook_messages WHERE next_attempt_at <= $1 LIMIT 1")
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(due.is_some())
    }
}

/// `$first, $first+1, …`, `n` of them.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Moves the cursor forward, and gives back this node's lease (only its
/// own: one that ran out may be another node's now).
async fn move_cursor(c: &mut AnyConnection, m: &CursorMove) -> R<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET event_cursor = CASE WHEN event_cursor < $2 THEN $2 ELSE event_cursor END,
         cursor_lease_until = CASE WHEN cursor_lease_until = $3 THEN NULL ELSE cursor_lease_until END
         WHERE id = $1",
    )
    .bind(m.endpoint_id.as_str())
    .bind(m.to)
    .bind(m.release)
    .run(c)
    .await
    .map(|_| ())
}

/// The attempts' rows, in one statement.
async fn insert_attempts(c: &mut AnyConnection, recorded: &[Recorded]) -> R<()> {
    const COLUMNS: usize = 9;
    if recorded.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..recorded.len())
        .map(|i| format!("({})", placeholders(1 + i * COLUMNS, COLUMNS)))
        .collect();
    let sql = format!(
        "INSERT INTO webhook_attempts (endpoint_id, event_id, event_type, attempt, attempted_at, status_code, error, latency_ms, response_snippet)
         VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for r in recorded {
        let a = &r.attempt;
        query = query
            .bind(a.endpoint_id.as_str())
            .bind(a.event_id.as_str())
            .bind(&a.event_type)
            .bind(a.attempt)
            .bind(a.attempted_at)
            .bind(a.status_code.map(i64::from))
            .bind(a.error.as_deref())
            .bind(a.latency_ms)
            .bind(&a.response_snippet);
    }
    query.run(c).await.map(|_| ())
}

/// The message's next step. A first attempt that succeeded leaves
/// nothing behind; one that failed becomes a queued message.
async fn record_next_step(c: &mut AnyConnection, r: &Recorded) -> R<()> {
    let (a, m) = (&r.attempt, &r.message);
    let (state, next_at) = match r.next {
        NextStep::Delivered if !m.queued => return Ok(()),
        NextStep::Delivered => ("delivered", None),
        NextStep::Retry(at) => ("pending", Some(at)),
        NextStep::GiveUp => ("exhausted", None),
    };
    sqlx::query(
        "INSERT INTO webhook_messages (endpoint_id, event_id, env_id, sequence, attempts, next_attempt_at, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (endpoint_id, event_id) DO UPDATE SET attempts = $5, next_attempt_at = $6, state = $7, lease_until = NULL",
    )
    .bind(a.endpoint_id.as_str())
    .bind(a.event_id.as_str())
    .bind(m.env_id.as_str())
    .bind(m.sequence)
    .bind(a.attempt)
    .bind(next_at)
    .bind(state)
    .bind(a.attempted_at)
    .run(c)
    .await
    .map(|_| ())
}

/// The endpoint's health, when the attempt changed it.
async fn record_health(c: &mut AnyConnection, r: &Recorded) -> R<()> {
    let Some(health) = &r.health else { return Ok(()) };
    let a = &r.attempt;
    let disabled_at = health.disable.map(|_| a.attempted_at);
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = $2,
         disabled_at = COALESCE($3, disabled_at), disabled_reason = COALESCE($4, disabled_reason)
         WHERE id = $1",
    )
    .bind(a.endpoint_id.as_str())
    .bind(health.failing_since)
    .bind(disabled_at)
    .bind(health.disable)
    .run(c)
    .await
    .map(|_| ())
}
