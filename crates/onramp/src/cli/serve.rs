//! `onramp serve`

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use ipnet::IpNet;
use onramp_domain::app::CoreConfig;
use onramp_domain::infra::secret::Secret;
use onramp_domain::retention::RetentionPolicy;
use onramp_domain::tenancy::{EnvKind, PlatformId};
use onramp_domain::usage::service::AlertPolicy;
use onramp_http::middleware::client_addr::parse_proxy;
use secrecy::{ExposeSecret, SecretString};

use super::GlobalArgs;
use super::context::{CliError, CliResult, database_url, hash_cost};
use crate::config::{parse_duration, parse_secret};
use crate::master_key::MasterKeySource;
use crate::serve::ConnectionLimits;
use crate::startup::ServerSettings;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The server's settings (those of every command are in `GlobalArgs`). This
/// is their one declaration: each is also an `ONRAMP_*` variable and a key
/// of the TOML file (see [`crate::config`]), and the README's table is
/// generated from it. Defaults that are not a value are written in the help.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "ONRAMP_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Address of the operator console (its own listener, never the public port); --demo sets 127.0.0.1:8081 [default: none, the console is off]
    #[arg(long, env = "ONRAMP_ADMIN_LISTEN", value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,
    /// How long a console session lasts without a request, 1m to 24h
    #[arg(long, env = "ONRAMP_CONSOLE_IDLE_TIMEOUT", value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub console_idle_timeout: Duration,
    /// How long a partner portal session lasts without a request, 1m to 24h
    #[arg(long, env = "ONRAMP_PORTAL_IDLE_TIMEOUT", value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub portal_idle_timeout: Duration,
    /// Domain under which api.<platform_id>.<domain> and api.staging.<platform_id>.<domain> resolve
    #[arg(long, env = "ONRAMP_BASE_DOMAIN", value_name = "DOMAIN", default_value = "localhost")]
    pub base_domain: String,
    /// Scheme of each environment's issuer and of every URL it advertises (OAuth discovery, SCIM locations): https behind a TLS proxy, http for local development; --demo sets http
    #[arg(long, env = "ONRAMP_PUBLIC_SCHEME", value_name = "SCHEME", default_value = "https", value_parser = ["https", "http"])]
    pub public_scheme: String,
    /// Port of each environment's issuer and advertised URLs; --demo sets the port of --listen [default: none, the scheme's default port]
    #[arg(long, env = "ONRAMP_PUBLIC_PORT", value_name = "PORT")]
    pub public_port: Option<u16>,
    /// Create the demo instance and service user, and answer plain localhost as demo/staging [default: off]
    #[arg(long, env = "ONRAMP_DEMO", value_parser = clap::builder::BoolishValueParser::new())]
    pub demo: bool,
    /// Log format: pretty, or json (one object per line)
    #[arg(long, env = "ONRAMP_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Service token (JWT) lifetime, from 30s to 24h
    #[arg(long, env = "ONRAMP_TOKEN_TTL", value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub token_ttl: Duration,
    /// Client session lifetime
    #[arg(long, env = "ONRAMP_SESSION_TTL", value_name = "DURATION", default_value = "30d", value_parser = parse_duration)]
    pub session_ttl: Duration,
    /// Default requests per minute per credential per endpoint
    #[arg(long, env = "ONRAMP_RATE_LIMIT", value_name = "N", default_value_t = 300)]
    pub rate_limit: u32,
    /// Threads that hash passwords (argon2id) [default: one per core]
    #[arg(long, env = "ONRAMP_HASH_WORKERS", value_name = "N")]
    pub hash_workers: Option<usize>,
    /// Per environment, most password hashes of single requests (logins, sign-ups, password changes) queued or running; past that, such requests get 503 with Retry-After [default: 32 per worker]
    #[arg(long, env = "ONRAMP_HASH_QUEUE", value_name = "N")]
    pub hash_queue: Option<usize>,
    /// Per environment, most batch-import password hashes queued or running; a batch whose passwords do not fit gets 503 with Retry-After
    #[arg(long, env = "ONRAMP_HASH_BATCH_QUEUE", value_name = "N", default_value_t = onramp_domain::infra::hashing::DEFAULT_BATCH_QUEUE)]
    pub hash_batch_queue: usize,
    /// Most password hashes queued or running in all environments together
    #[arg(long, env = "ONRAMP_HASH_QUEUE_TOTAL", value_name = "N", default_value_t = onramp_domain::infra::hashing::DEFAULT_TOTAL_QUEUE)]
    pub hash_queue_total: usize,
    /// Database connection pool size
    #[arg(long, env = "ONRAMP_DB_MAX_CONNECTIONS", value_name = "N", default_value_t = 8)]
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before answering 503
    #[arg(long, env = "ONRAMP_DB_ACQUIRE_TIMEOUT", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub db_acquire_timeout: Duration,
    /// Longest a single database statement may run (PostgreSQL statement_timeout, SQLite busy timeout)
    #[arg(long, env = "ONRAMP_DB_STATEMENT_TIMEOUT", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub db_statement_timeout: Duration,
    /// Time a client has to send a request's headers, counted from when the connection opens or its previous response ends (so also how long an idle keep-alive connection stays open)
    #[arg(long, env = "ONRAMP_HEADER_READ_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// Most connections served at once; more wait in the listen backlog until one closes (keep below the process's open-file limit)
    #[arg(long, env = "ONRAMP_MAX_CONNECTIONS", value_name = "N", default_value_t = 4096)]
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests
    #[arg(long, env = "ONRAMP_SHUTDOWN_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
    /// How long instance settings, signing keys and service-user status are cached; the longest an operator change takes to apply
    #[arg(long, env = "ONRAMP_SETTINGS_TTL", value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub settings_ttl: Duration,
    /// How long an account read may be served from memory; writes through this server invalidate at once, writes through other nodes show within this time; 0 disables
    #[arg(long, env = "ONRAMP_ACCOUNT_CACHE_TTL", value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub account_cache_ttl: Duration,
    /// How often partner usage counts are written to the database (a crash loses at most this much), at least 100ms
    #[arg(long, env = "ONRAMP_USAGE_FLUSH_INTERVAL", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub usage_flush_interval: Duration,
    /// How long per-minute usage counts are kept (charts, anomaly detection, GET /v1/partners/usage)
    #[arg(long, env = "ONRAMP_USAGE_RETENTION", value_name = "DURATION", default_value = "90d", value_parser = parse_duration)]
    pub usage_retention: Duration,
    /// How long usage alerts are kept
    #[arg(long, env = "ONRAMP_ALERT_RETENTION", value_name = "DURATION", default_value = "90d", value_parser = parse_duration)]
    pub alert_retention: Duration,
    /// How long lifecycle events are kept (the event feed; what webhook endpoints can recover)
    #[arg(long, env = "ONRAMP_EVENT_RETENTION", value_name = "DURATION", default_value = "30d", value_parser = parse_duration)]
    pub event_retention: Duration,
    /// How long a webhook receiver has to answer before the attempt counts as failed (timeout) and is retried, 1s to 60s
    #[arg(long, env = "ONRAMP_WEBHOOK_TIMEOUT", value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub webhook_timeout: Duration,
    /// URL that receives usage alerts as signed JSON POSTs [default: none]
    #[arg(long, env = "ONRAMP_ALERT_WEBHOOK_URL", value_name = "URL")]
    pub alert_webhook_url: Option<String>,
    /// Shared secret (at least 16 characters) of the alert webhook's HMAC-SHA256 signature [default: none]
    #[arg(long, env = "ONRAMP_ALERT_WEBHOOK_SECRET", hide_env_values = true, value_name = "SECRET", value_parser = parse_secret)]
    pub alert_webhook_secret: Option<SecretString>,
    /// Alert when a key's last 5 minutes exceed this many times its trailing-hour average
    #[arg(long, env = "ONRAMP_ALERT_VOLUME_FACTOR", value_name = "X", default_value_t = AlertPolicy::default().volume_factor)]
    pub alert_volume_factor: f64,
    /// Fewest requests in those 5 minutes for a volume alert
    #[arg(long, env = "ONRAMP_ALERT_VOLUME_MIN", value_name = "N", default_value_t = AlertPolicy::default().volume_min)]
    pub alert_volume_min: i64,
    /// Alert when more than this share of a key's last-5-minute answers are 401 or 429
    #[arg(long, env = "ONRAMP_ALERT_ERROR_SHARE", value_name = "SHARE", default_value_t = AlertPolicy::default().error_share)]
    pub alert_error_share: f64,
    /// Fewest requests in those 5 minutes for an error-share alert
    #[arg(long, env = "ONRAMP_ALERT_ERROR_MIN", value_name = "N", default_value_t = AlertPolicy::default().error_min)]
    pub alert_error_min: i64,
    /// Bearer token (at least 16 characters) that unlocks Prometheus metrics at /metrics [default: none, /metrics is off]
    #[arg(long, env = "ONRAMP_METRICS_TOKEN", hide_env_values = true, value_name = "TOKEN", value_parser = parse_secret)]
    pub metrics_token: Option<SecretString>,
    /// Redis URL (redis://host:6379) for rate limits and login backoff shared by several nodes [default: none, each node limits on its own]
    #[arg(long, env = "ONRAMP_REDIS_URL", hide_env_values = true, value_name = "URL", value_parser = parse_secret)]
    pub redis_url: Option<SecretString>,
    /// TLS proxies (networks or addresses, comma-separated or repeated) whose X-Forwarded-For or Forwarded header names the client; from anyone else it is ignored [default: none, the peer is the client]
    #[arg(long = "trusted-proxy", env = "ONRAMP_TRUSTED_PROXY", value_name = "CIDR", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxy: Vec<IpNet>,
}

impl ServeArgs {
    /// Checks the settings and turns them into what the server runs with.
    ///
    /// # Errors
    /// A `config` error naming the bad setting.
    pub fn settings(&self, global: &GlobalArgs) -> CliResult<ServerSettings> {
        if !(Duration::from_secs(30)..=Duration::from_secs(86_400)).contains(&self.token_ttl) {
            return Err(CliError::new("config", "token_ttl must be between 30s and 24h"));
        }
        if !(Duration::from_secs(60)..=Duration::from_secs(86_400)).contains(&self.console_idle_timeout) {
            return Err(CliError::new("config", "console_idle_timeout must be between 1m and 24h"));
        }
        if !(Duration::from_secs(60)..=Duration::from_secs(86_400)).contains(&self.portal_idle_timeout) {
            return Err(CliError::new("config", "portal_idle_timeout must be between 1m and 24h"));
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&self.webhook_timeout) {
            return Err(CliError::new("config", "webhook_timeout must be between 1s and 60s"));
        }
        let core = CoreConfig {
            base_domain: self.base_domain.to_ascii_lowercase(),
            // The demo is served on its own plain-http listener, so that is what it advertises.
            public_scheme: if self.demo { "http".into() } else { self.public_scheme.clone() },
            public_port: self.public_port.or(self.demo.then(|| self.listen.port())),
            service_token_ttl: self.token_ttl,
            session_ttl: self.session_ttl,
            hash_cost: hash_cost(global),
            hash_workers: self.hash_workers.map(|n| n.max(1)),
            hash_queue: self.hash_queue.map(|n| n.max(1)),
            hash_batch_queue: Some(self.hash_batch_queue.max(1)),
            hash_queue_total: Some(self.hash_queue_total.max(1)),
            settings_ttl: self.settings_ttl,
            account_cache_ttl: self.account_cache_ttl,
            alerts: self.alert_policy()?,
            retention: RetentionPolicy {
                usage: self.usage_retention.max(Duration::from_secs(3600)),
                alerts: self.alert_retention.max(Duration::from_secs(3600)),
                events: self.event_retention.max(Duration::from_secs(3600)),
            },
            webhook_targets: global.webhook_targets(),
            webhook_timeout: self.webhook_timeout,
            console_idle: self.console_idle_timeout,
            portal_idle: self.portal_idle_timeout,
            local_host_env: self
                .demo
                .then(|| (PlatformId::parse(crate::demo::PLATFORM_ID).expect("valid id"), EnvKind::Staging)),
            ..CoreConfig::default()
        };
        Ok(ServerSettings {
            listen: self.listen,
            admin_listen: self.admin_listen,
            database_url: database_url(global)?,
            master_key: MasterKeySource::new(global.master_key_file.as_deref(), &global.data_dir),
            db_max_connections: self.db_max_connections.max(1),
            db_acquire_timeout: self.db_acquire_timeout,
            db_statement_timeout: Some(self.db_statement_timeout),
            core,
            default_rate_limit: self.rate_limit.max(1),
            shutdown_timeout: self.shutdown_timeout,
            connections: ConnectionLimits {
                header_read_timeout: self.header_read_timeout.max(Duration::from_millis(100)),
                max_connections: self.max_connections.max(1),
            },
            usage_flush_interval: self.usage_flush_interval.max(Duration::from_millis(100)),
            alert_webhook: self.alert_webhook()?,
            webhook_interval: Duration::from_secs(1),
            metrics_token: self.metrics_token()?,
            demo_vendor: None,
            redis_url: self.redis_url.as_ref().map(|url| url.expose_secret().to_owned()),
            trusted_proxies: self.trusted_proxy.clone(),
            wrap_store: None,
        })
    }

    fn alert_policy(&self) -> CliResult<AlertPolicy> {
        let policy = AlertPolicy {
            volume_factor: self.alert_volume_factor,
            volume_min: self.alert_volume_min,
            error_share: self.alert_error_share,
            error_min: self.alert_error_min,
            ..AlertPolicy::default()
        };
        if !(policy.volume_factor > 0.0 && (0.0..=1.0).contains(&policy.error_share) && policy.volume_min >= 1 && policy.error_min >= 1) {
            return Err(CliError::new(
                "config",
                "alert thresholds: factor > 0, share within 0..1, minimums at least 1",
            ));
        }
        Ok(policy)
    }

    fn metrics_token(&self) -> CliResult<Option<Secret>> {
        let Some(token) = &self.metrics_token else { return Ok(None) };
        if token.expose_secret().len() < 16 {
            return Err(CliError::new("config", "metrics_token must be at least 16 characters"));
        }
        Ok(Some(Secret::new(token.expose_secret().to_owned())))
    }

    fn alert_webhook(&self) -> CliResult<Option<(String, Secret)>> {
        let Some(url) = self.alert_webhook_url.clone() else {
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(CliError::new("config", "alert_webhook_url must be an http:// or https:// URL"));
        }
        let Some(secret) = &self.alert_webhook_secret else {
            return Err(CliError::new(
                "config",
                "alert_webhook_url needs alert_webhook_secret (or ONRAMP_ALERT_WEBHOOK_SECRET_FILE) to sign deliveries",
            ));
        };
        if secret.expose_secret().len() < 16 {
            return Err(CliError::new("config", "alert_webhook_secret must be at least 16 characters"));
        }
        Ok(Some((url, Secret::new(secret.expose_secret().to_owned()))))
    }
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(mut settings: ServerSettings, demo: bool, data_dir_hint: Option<std::path::PathBuf>) -> CliResult {
    let opened = crate::startup::open_core(&settings)
        .await
        .map_err(|e| CliError::new("unavailable", e))?;
    if demo {
        settings.admin_listen = settings.admin_listen.or(Some(SocketAddr::from(([127, 0, 0, 1], 8081))));
        settings.demo_vendor = crate::demo::ensure(&opened.core, data_dir_hint.as_deref(), settings.listen.port()).await?;
    }
    let running = crate::startup::start_with(settings, opened)
        .await
        .map_err(|e| CliError::new("listen", e))?;
    tracing::info!(address = %running.addr, "onramp is listening");
    eprintln!("onramp listening on http://{}", running.addr);
    if let Some(admin) = running.admin_addr {
        tracing::info!(address = %admin, "operator console is listening");
        eprintln!("operator console on http://{admin}");
    }
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    running.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
