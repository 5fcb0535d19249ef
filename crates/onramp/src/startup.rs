//! Starting the server as a library call, so tests start it exactly as
//! `onramp serve` does: bind (port 0 works), report the address, serve until
//! told to stop, then drain in-flight requests and close the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use onramp_domain::app::{Core, CoreConfig};
use onramp_domain::infra::secret::Secret;
use onramp_domain::store::Store;
use onramp_http::AppState;
use onramp_http::rate_limit::RateLimits;
use onramp_store::{SqlStore, StoreOptions};
use tokio::sync::watch;

use crate::master_key::{MasterKeySource, unlock_store};
use crate::serve::ConnectionLimits;
use tokio::task::JoinHandle;

/// Wraps the store the core runs on, e.g. in a decorator that observes or
/// delays calls (tests force interleavings of concurrent requests this way).
pub type StoreWrapper = Arc<dyn Fn(Arc<dyn Store>) -> Arc<dyn Store> + Send + Sync>;

/// Everything `serve` needs, already resolved from flags, env and file.
#[derive(Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Where the operator console listens; `None` keeps it off.
    pub admin_listen: Option<SocketAddr>,
    pub database_url: String,
    /// Where the master key is (its file, or the data dir's `master.key`).
    pub master_key: MasterKeySource,
    pub db_max_connections: u32,
    pub db_acquire_timeout: Duration,
    /// Longest a single database statement may run.
    pub db_statement_timeout: Option<Duration>,
    pub core: CoreConfig,
    pub default_rate_limit: u32,
    pub shutdown_timeout: Duration,
    /// Header-read timeout and connection cap.
    pub connections: ConnectionLimits,
    /// How often usage counts are written and anomalies checked.
    pub usage_flush_interval: Duration,
    /// Where alerts are posted, and the signing secret.
    pub alert_webhook: Option<(String, Secret)>,
    /// How often webhook delivery looks for new events and due retries.
    pub webhook_interval: Duration,
    /// Bearer token of `GET /metrics`; without one the endpoint is off.
    pub metrics_token: Option<Secret>,
    /// The demo shop of `serve --demo`.
    pub demo_vendor: Option<onramp_web::DemoVendor>,
    /// Redis for rate limits shared by several nodes.
    pub redis_url: Option<String>,
    /// Proxies whose forwarded client addresses are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Applied to the store before the core is built; for tests and
    /// embedding, never set from configuration.
    pub wrap_store: Option<StoreWrapper>,
}

// By hand, because the database and Redis URLs may carry passwords.
impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSettings")
            .field("listen", &self.listen)
            .field("admin_listen", &self.admin_listen)
            .field("database_url", &"[redacted]")
            .field("master_key", &self.master_key)
            .field("db_max_connections", &self.db_max_connections)
            .field("db_acquire_timeout", &self.db_acquire_timeout)
            .field("db_statement_timeout", &self.db_statement_timeout)
            .field("core", &self.core)
            .field("default_rate_limit", &self.default_rate_limit)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("connections", &self.connections)
            .field("usage_flush_interval", &self.usage_flush_interval)
            .field("alert_webhook", &self.alert_webhook)
            .field("webhook_interval", &self.webhook_interval)
            .field("metrics_token", &self.metrics_token)
            .field("demo_vendor", &self.demo_vendor)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "[redacted]"))
            .field("trusted_proxies", &self.trusted_proxies)
            .field("wrap_store", &self.wrap_store.as_ref().map(|_| "Fn"))
            .finish()
    }
}

/// The process-wide Prometheus recorder (installed once, shared by servers).
fn prometheus() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
            .set_buckets(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed (not in this binary).
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The hashing queue's state as metrics, read when `/metrics` is rendered.
fn publish_hash_stats(stats: onramp_domain::infra::hash_queue::HashStats) {
    metrics::gauge!("onramp_hash_jobs_waiting").set(stats.waiting as f64);
    metrics::gauge!("onramp_hash_jobs_running").set(stats.running as f64);
    metrics::counter!("onramp_hash_jobs_completed_total").absolute(stats.completed);
    metrics::counter!("onramp_hash_jobs_cancelled_total").absolute(stats.cancelled);
    metrics::counter!("onramp_hash_jobs_refused_total").absolute(stats.refused);
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    /// Where the console listens, when it is on.
    pub admin_addr: Option<SocketAddr>,
    pub core: Arc<Core>,
    /// The database, for tests that inspect or arrange rows directly.
    pub store: SqlStore,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, waits for in-flight requests (bounded by the
    /// shutdown timeout), then closes the database.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Opens the database, unlocks it with the master key, and builds the core
/// (without serving), e.g. for demo setup.
///
/// # Errors
/// A message saying what could not be opened, or that the master key is
/// missing or not the database's.
pub async fn open_core(settings: &ServerSettings) -> Result<Opened, String> {
    let options = StoreOptions {
        url: settings.database_url.clone(),
        max_connections: settings.db_max_connections,
        acquire_timeout: settings.db_acquire_timeout,
        statement_timeout: settings.db_statement_timeout,
    };
    let store = SqlStore::open(&options).await.map_err(|e| e.to_string())?;
    let unlocked = unlock_store(&settings.master_key, &store, settings.core.clock.now_ms()).await?;
    crate::webhook::install_crypto_provider();
    // One Redis link (and circuit breaker) serves both the rate limiter and the login throttle.
    let redis = match &settings.redis_url {
        Some(url) => Some(Arc::new(crate::redis_limits::RedisLink::new(url)?)),
        None => None,
    };
    let mut core_store: Arc<dyn Store> = Arc::new(store.clone());
    if let Some(wrap) = &settings.wrap_store {
        core_store = wrap(core_store);
    }
    let mut builder = Core::builder(core_store, settings.core.clone(), &unlocked)
        .webhook_sender(Arc::new(crate::webhook_sender::HttpSender::new(settings.core.webhook_timeout)));
    if let Some(redis) = &redis {
        builder = builder.shared_throttle(Arc::new(crate::redis_limits::RedisThrottle::new(Arc::clone(redis))));
    }
    if let Some((url, secret)) = &settings.alert_webhook {
        builder = builder.notifier(Arc::new(crate::webhook::WebhookNotifier::new(url.clone(), secret.clone())?));
    }
    let core = Arc::new(builder.build().map_err(|e| e.to_string())?);
    // Derived from the master key, so every node of a deployment accepts the
    // forms another node served, and a restart keeps open forms valid.
    let csrf_key = unlocked.master_key().derive("csrf");
    Ok(Opened {
        store,
        core,
        redis,
        csrf_key,
    })
}

/// An open database, the core over it, and the shared Redis client if any.
pub struct Opened {
    pub store: SqlStore,
    pub core: Arc<Core>,
    redis: Option<Arc<crate::redis_limits::RedisLink>>,
    /// The key of the pages' CSRF tokens.
    csrf_key: [u8; 32],
}

/// Binds the listener and serves in the background.
///
/// # Errors
/// A message when the database cannot be opened or the address bound.
pub async fn start(settings: ServerSettings) -> Result<Running, String> {
    let opened = open_core(&settings).await?;
    start_with(settings, opened).await
}

/// Like [`start`], with a store and core already open.
///
/// # Errors
/// A message when the address cannot be bound.
pub async fn start_with(settings: ServerSettings, opened: Opened) -> Result<Running, String> {
    let Opened {
        store,
        core,
        redis,
        csrf_key,
    } = opened;
    let store_handle = store.clone();
    let mut limits = RateLimits::new(settings.default_rate_limit);
    let mut redis_probe = None;
    if let Some(redis) = redis {
        // Readiness reports a real check from the start, then one a second.
        if !redis.probe().await {
            tracing::warn!("Redis unreachable at start: using this node's own limits until it answers");
        }
        redis_probe = Some(tokio::spawn(Arc::clone(&redis).watch()));
        limits = limits.with_shared(Arc::new(crate::redis_limits::RedisLimiter::new(redis)));
    }
    let limits = Arc::new(limits);
    let metrics = settings.metrics_token.clone().map(|token| {
        let handle = prometheus();
        let core = Arc::clone(&core);
        Arc::new(onramp_http::routes::metrics::MetricsExport {
            render: Box::new(move || {
                publish_hash_stats(core.hasher().stats());
                handle.render()
            }),
            token,
        })
    });
    let state = AppState {
        core: Arc::clone(&core),
        limits: Arc::clone(&limits),
        proxies: Arc::new(onramp_http::middleware::client_addr::TrustedProxies::new(
            settings.trusted_proxies.clone(),
        )),
        metrics,
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, mut stopped) = watch::channel(false);
    let sweeper = tokio::spawn(housekeeping(Arc::clone(&core), limits));
    let meter = tokio::spawn(usage_monitor(Arc::clone(&core), settings.usage_flush_interval));
    spawn_webhook_delivery(Arc::clone(&core), settings.webhook_interval, stopped.clone())?;
    let flush_core = Arc::clone(&core);
    let web_state = onramp_web::WebState {
        core: Arc::clone(&core),
        demo: settings.demo_vendor.clone(),
        csrf_key,
    };
    let console = match settings.admin_listen {
        Some(admin) => Some(
            bind_console(
                admin,
                onramp_http::observed(onramp_web::console::router(web_state.clone()), state.clone()),
            )
            .await?,
        ),
        None => None,
    };
    let admin_addr = console.as_ref().map(|(addr, _)| *addr);
    let pages = onramp_web::router(web_state);
    let app = onramp_http::app(state.clone()).merge(onramp_http::observed(pages, state));
    let (grace, connections) = (settings.shutdown_timeout, settings.connections);
    let task = tokio::spawn(async move {
        let console_task = console.map(|(_, (listener, app))| {
            let mut stopped = stopped.clone();
            let stop = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            tokio::spawn(crate::serve::serve(listener, app, connections, stop, grace))
        });
        let stop = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        crate::serve::serve(listener, app, connections, stop, grace).await;
        if let Some(console) = console_task {
            let _ = console.await;
        }
        sweeper.abort();
        meter.abort();
        if let Some(probe) = redis_probe {
            probe.abort();
        }
        if let Err(e) = flush_core.usage().flush_usage().await {
            tracing::warn!(error = %e, "final usage flush failed");
        }
        store.close().await;
        tracing::info!("database closed");
    });
    Ok(Running {
        addr,
        admin_addr,
        core,
        store: store_handle,
        stop,
        task,
    })
}

/// Binds the console's own listener.
async fn bind_console(addr: SocketAddr, app: axum::Router) -> Result<(SocketAddr, (tokio::net::TcpListener, axum::Router)), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} (--admin-listen): {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    Ok((bound, (listener, app)))
}

/// Runs webhook delivery on a thread of its own at the lowest CPU priority
/// (niceness 19): when requests keep both cores busy, deliveries wait
/// (their messages are in the database) instead of slowing the requests
/// down, and catch up as soon as there is room. It ends when the server
/// stops (or its stop sender is dropped).
fn spawn_webhook_delivery(core: Arc<Core>, interval: Duration, mut stopped: watch::Receiver<bool>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("onramp-webhooks")
        .build()
        .map_err(|e| format!("cannot start the webhook delivery runtime: {e}"))?;
    std::thread::Builder::new()
        .name("onramp-webhooks".into())
        .spawn(move || {
            if let Err(e) = thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min) {
                tracing::warn!(error = ?e, "webhook delivery runs at normal priority (could not lower it)");
            }
            runtime.block_on(async move {
                tokio::select! {
                    () = webhook_delivery(core, interval) => {}
                    _ = stopped.wait_for(|s| *s) => {}
                }
            });
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start the webhook delivery thread: {e}"))
}

/// Delivers webhooks: a round every `interval`, sooner while there is work
/// (see `Delivery::wait_after`).
async fn webhook_delivery(core: Arc<Core>, interval: Duration) {
    let Some(delivery) = core.delivery() else { return };
    loop {
        match delivery.run_once().await {
            Ok(leased) => delivery.wait_after(leased, interval).await,
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery round failed");
                tokio::time::sleep(interval).await;
            }
        }
    }
}

/// Writes usage counts and checks for anomalies every `interval`.
async fn usage_monitor(core: Arc<Core>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match core.usage().flush_usage().await {
            Ok(0) => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "usage flush failed; counts kept for the next attempt");
                continue;
            }
        }
        if let Err(e) = core.usage().detect_anomalies().await {
            tracing::warn!(error = %e, "anomaly detection failed");
        }
    }
}

/// Periodic clean-up: idle rate-limit state and expired failed-login records
/// every minute; every ten, expired sessions, sign-in links, codes and
/// idempotency keys, usage counts and alerts past their retention, idle
/// portal sessions and expired portal invitations.
async fn housekeeping(core: Arc<Core>, limits: Arc<RateLimits>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    for round in 0u64.. {
        tick.tick().await;
        limits.sweep();
        core.login_throttle().sweep();
        if round % 10 == 0 {
            match core.retention().purge().await {
                Ok(purged) if purged.total() > 0 => tracing::info!(?purged, "purged expired and old rows"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge of expired rows failed"),
            }
            match core.portal().purge().await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "purged idle portal sessions and expired invitations"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge of portal sessions failed"),
            }
        }
    }
}
