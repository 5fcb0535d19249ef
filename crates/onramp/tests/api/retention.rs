//! The purge: expired sessions, sign-in links, authorization codes and
//! idempotency keys go; events (30 days), usage counts and alerts (90 days)
//! go after their retention.

use std::time::Duration;

use onramp_domain::clock::Clock as _;
use reqwest::Method;

use crate::helpers::*;

const DAY: Duration = Duration::from_secs(24 * 3600);
const TABLES: [&str; 8] = [
    "events",
    "sessions",
    "login_tokens",
    "auth_codes",
    "idempotency_keys",
    "usage_minutes",
    "usage_hours",
    "alerts",
];

/// Rows per table, read straight from the database.
async fn counts(database_url: &str) -> Vec<(&'static str, i64)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    let mut out = Vec::new();
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&pool)
            .await
            .expect("count");
        out.push((table, n));
    }
    pool.close().await;
    out
}

fn count(counts: &[(&str, i64)], table: &str) -> i64 {
    counts.iter().find(|(t, _)| *t == table).map(|(_, n)| *n).expect("table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_rows_go_at_once_and_usage_and_alerts_after_their_retention() {
    let w = PartnerWorld::new().await;
    let db = w.server.settings.database_url.clone();
    // One row of each kind: a session, a sign-in link (and its usage), an
    // idempotency key; a code and an alert written directly.
    w.service.signup("ann@example.com").await;
    send(
        w.partner
            .request(Method::POST, "/v1/partners/create")
            .header("idempotency-key", "order-4711")
            .json(&partner_signup_body("bob@example.com")),
    )
    .await
    .expect(201);
    let now = w.server.clock.now_ms();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db).await.unwrap();
    sqlx::query(
        "INSERT INTO auth_codes (code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at)
         VALUES ('h', 'e', 'a', 'u', 'c', $1, $2)",
    )
    .bind(now)
    .bind(now + 60_000)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO alerts (id, env_id, partner_id, key_id, kind, detail, created_at, delivery, attempts)
         VALUES ('al', 'e', 'p', 'k', 'volume_spike', '{}', $1, 'not_configured', 0)",
    )
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    eventually("usage flushed", || {
        let db = db.clone();
        async move { (count(&counts(&db).await, "usage_minutes") > 0).then_some(()) }
    })
    .await;
    let before = counts(&db).await;
    assert!(before.iter().all(|(_, n)| *n > 0), "{before:?}");

    // Nothing has expired yet.
    assert_eq!(w.server.core.retention().purge().await.unwrap().total(), 0);
    assert_eq!(counts(&db).await, before);

    // 31 days on: sessions (30 days), links (15 minutes), codes (60 s),
    // idempotency keys (24 hours) and events (30 days) are gone; usage and
    // alerts are kept.
    w.server.clock.advance(31 * DAY);
    w.server.core.retention().purge().await.unwrap();
    let after = counts(&db).await;
    for table in ["sessions", "login_tokens", "auth_codes", "idempotency_keys", "events"] {
        assert_eq!(count(&after, table), 0, "{table}: {after:?}");
    }
    for table in ["usage_minutes", "usage_hours", "alerts"] {
        assert_eq!(count(&after, table), count(&before, table), "{table}: {after:?}");
    }
    // Past the 90-day retention, they go too.
    w.server.clock.advance(60 * DAY);
    let purged = w.server.core.retention().purge().await.unwrap();
    assert!(
        purged.usage_minutes > 0 && purged.usage_hours > 0 && purged.alerts == 1,
        "{purged:?}"
    );
    assert!(counts(&db).await.iter().all(|(_, n)| *n == 0));
}
