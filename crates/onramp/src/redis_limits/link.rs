//! The node's link to Redis, with a circuit breaker: after a failed call
//! the node stops calling Redis (callers use their own limits at once) and
//! a background probe pings it every second, closing the breaker when it
//! answers. The same probe keeps `/readyz` truthful on an idle node.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long one call may take before it counts as a failure.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How often the probe checks Redis.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

pub struct RedisLink {
    client: redis::Client,
    connection: Mutex<Option<ConnectionManager>>,
    /// The breaker is closed: the last call or probe reached Redis.
    up: AtomicBool,
}

impl RedisLink {
    /// A link that is down until the first [`RedisLink::probe`].
    ///
    /// # Errors
    /// A message for a malformed URL.
    pub fn new(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        Ok(Self {
            client,
            connection: Mutex::new(None),
            up: AtomicBool::new(false),
        })
    }

    /// Whether the breaker is closed (the last call or probe reached Redis).
    pub fn healthy(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    fn connection(&self) -> Option<ConnectionManager> {
        self.connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Connects if need be and pings Redis; the breaker follows the answer.
    pub async fn probe(&self) -> bool {
        let conn = match self.connection() {
            Some(conn) => Some(conn),
            None => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CALL_TIMEOUT))
                    .set_response_timeout(Some(CALL_TIMEOUT))
                    .set_number_of_retries(1);
                let connect = ConnectionManager::new_with_config(self.client.clone(), config);
                match tokio::time::timeout(CALL_TIMEOUT * 4, connect).await {
                    Ok(Ok(conn)) => {
                        *self.connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(conn.clone());
                        Some(conn)
                    }
                    _ => None,
                }
            }
        };
        let answered = match conn {
            Some(mut conn) => {
                let cmd = redis::cmd("PING");
                let ping = cmd.query_async::<String>(&mut conn);
                matches!(tokio::time::timeout(CALL_TIMEOUT, ping).await, Ok(Ok(_)))
            }
            None => false,
        };
        self.set_up(answered);
        answered
    }

    /// Probes every [`PROBE_EVERY`], forever (the server aborts the task).
    pub async fn watch(self: std::sync::Arc<Self>) {
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            self.probe().await;
        }
    }

    /// Runs `call` unless the breaker is open; a failure or timeout opens it.
    ///
    /// # Errors
    /// A message: the breaker is open, the call failed or timed out.
    pub async fn call<T, F, Fut>(&self, call: F) -> Result<T, String>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let conn = match self.connection() {
            Some(conn) if self.healthy() => conn,
            _ => return Err("Redis is unreachable; probing it in the background".into()),
        };
        let outcome = match tokio::time::timeout(CALL_TIMEOUT, call(conn)).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "Redis call timed out".to_owned(),
        };
        self.set_up(false);
        Err(outcome)
    }

    fn set_up(&self, up: bool) {
        let was = self.up.swap(up, Ordering::Relaxed);
        metrics::gauge!("onramp_redis_up").set(if up { 1.0 } else { 0.0 });
        match (was, up) {
            (true, false) => tracing::warn!("Redis unreachable: using this node's own limits until it answers again"),
            (false, true) => tracing::info!("Redis reachable: limits are shared across nodes"),
            _ => {}
        }
    }
}
