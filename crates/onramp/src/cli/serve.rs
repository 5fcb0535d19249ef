//! `onramp serve`

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use onramp_domain::app::CoreConfig;
use onramp_domain::infra::secret::Secret;
use onramp_domain::tenancy::{EnvKind, PlatformId};
use onramp_domain::usage::service::AlertPolicy;

use super::GlobalArgs;
use super::context::{CliError, CliResult, database_url, hash_cost};
use crate::config::{FileSettings, parse_duration, pick};
use crate::startup::ServerSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Every setting can also come from an `ONRAMP_*` variable or the TOML file
/// (flags win over variables, variables over the file).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "ONRAMP_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Domain under which api.<platform_id>.<domain> and api.staging.<platform_id>.<domain> resolve [default: localhost]
    #[arg(long, env = "ONRAMP_BASE_DOMAIN", value_name = "DOMAIN")]
    pub base_domain: Option<String>,
    /// Create the demo instance and service user, and answer plain localhost as demo/staging
    #[arg(long, env = "ONRAMP_DEMO")]
    pub demo: bool,
    /// Log format [default: pretty]
    #[arg(long, env = "ONRAMP_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Service token (JWT) lifetime, e.g. 15m (max 24h) [default: 15m]
    #[arg(long, env = "ONRAMP_TOKEN_TTL", value_name = "DURATION")]
    pub token_ttl: Option<String>,
    /// Client session lifetime, e.g. 30d [default: 30d]
    #[arg(long, env = "ONRAMP_SESSION_TTL", value_name = "DURATION")]
    pub session_ttl: Option<String>,
    /// Default requests per minute per credential per endpoint [default: 300]
    #[arg(long, env = "ONRAMP_RATE_LIMIT", value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Database connection pool size [default: 8]
    #[arg(long, env = "ONRAMP_DB_MAX_CONNECTIONS", value_name = "N")]
    pub db_max_connections: Option<u32>,
    /// How long a request waits for a database connection before answering 503 [default: 5s]
    #[arg(long, env = "ONRAMP_DB_ACQUIRE_TIMEOUT", value_name = "DURATION")]
    pub db_acquire_timeout: Option<String>,
    /// Longest a single database statement may run (PostgreSQL statement_timeout, SQLite busy timeout) [default: 5s]
    #[arg(long, env = "ONRAMP_DB_STATEMENT_TIMEOUT", value_name = "DURATION")]
    pub db_statement_timeout: Option<String>,
    /// How long shutdown waits for in-flight requests [default: 10s]
    #[arg(long, env = "ONRAMP_SHUTDOWN_TIMEOUT", value_name = "DURATION")]
    pub shutdown_timeout: Option<String>,
    /// How long instance settings, signing keys and service-user status are cached; the longest an operator change takes to apply [default: 1s]
    #[arg(long, env = "ONRAMP_SETTINGS_TTL", value_name = "DURATION")]
    pub settings_ttl: Option<String>,
    /// How long an account read may be served from memory; writes through this server invalidate at once, writes through other nodes show within this time; 0 disables [default: 1s]
    #[arg(long, env = "ONRAMP_ACCOUNT_CACHE_TTL", value_name = "DURATION")]
    pub account_cache_ttl: Option<String>,
    /// How often partner usage counts are written to the database (a crash loses at most this much) [default: 5s]
    #[arg(long, env = "ONRAMP_USAGE_FLUSH_INTERVAL", value_name = "DURATION")]
    pub usage_flush_interval: Option<String>,
    /// URL that receives usage alerts as signed JSON POSTs [default: none]
    #[arg(long, env = "ONRAMP_ALERT_WEBHOOK_URL", value_name = "URL")]
    pub alert_webhook_url: Option<String>,
    /// Shared secret of the alert webhook's HMAC-SHA256 signature (or ONRAMP_ALERT_WEBHOOK_SECRET_FILE)
    #[arg(long, env = "ONRAMP_ALERT_WEBHOOK_SECRET", hide_env_values = true, value_name = "SECRET")]
    pub alert_webhook_secret: Option<String>,
    /// Alert when a key's last 5 minutes exceed this many times its trailing-hour average [default: 5]
    #[arg(long, env = "ONRAMP_ALERT_VOLUME_FACTOR", value_name = "X")]
    pub alert_volume_factor: Option<f64>,
    /// …and at least this many requests [default: 100]
    #[arg(long, env = "ONRAMP_ALERT_VOLUME_MIN", value_name = "N")]
    pub alert_volume_min: Option<i64>,
    /// Alert when more than this share of a key's last-5-minute answers are 401 or 429 [default: 0.5]
    #[arg(long, env = "ONRAMP_ALERT_ERROR_SHARE", value_name = "SHARE")]
    pub alert_error_share: Option<f64>,
    /// …over at least this many requests [default: 50]
    #[arg(long, env = "ONRAMP_ALERT_ERROR_MIN", value_name = "N")]
    pub alert_error_min: Option<i64>,
    /// Bearer token that unlocks Prometheus metrics at /metrics (or ONRAMP_METRICS_TOKEN_FILE) [default: none, /metrics off]
    #[arg(long, env = "ONRAMP_METRICS_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub metrics_token: Option<String>,
    /// Redis URL (redis://host:6379) for rate limits shared by several nodes; without it each node limits on its own [default: none]
    #[arg(long, env = "ONRAMP_REDIS_URL", hide_env_values = true, value_name = "URL")]
    pub redis_url: Option<String>,
}

fn duration(flag: Option<String>, file: Option<String>, default: &str) -> CliResult<Duration> {
    parse_duration(&pick(flag, file, default.to_owned())).map_err(|e| CliError::new("config", e))
}

impl ServeArgs {
    /// Resolves flags, environment, file and defaults into server settings.
    ///
    /// # Errors
    /// A `config` error naming the bad setting.
    pub fn settings(&self, global: &GlobalArgs) -> CliResult<(ServerSettings, LogFormat)> {
        let file = FileSettings::load(global.config.as_deref()).map_err(|e| CliError::new("config", e))?;
        let log_format = match self.log_format {
            Some(f) => f,
            None => match file.log_format.as_deref() {
                None | Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => return Err(CliError::new("config", format!("log_format must be pretty or json, not `{other}`"))),
            },
        };
        let token_ttl = duration(self.token_ttl.clone(), file.token_ttl.clone(), "15m")?;
        if token_ttl < Duration::from_secs(30) || token_ttl > Duration::from_secs(86_400) {
            return Err(CliError::new("config", "token_ttl must be between 30s and 24h"));
        }
        let base_domain = pick(self.base_domain.clone(), file.base_domain.clone(), "localhost".into()).to_ascii_lowercase();
        let core = CoreConfig {
            base_domain,
            service_token_ttl: token_ttl,
            session_ttl: duration(self.session_ttl.clone(), file.session_ttl.clone(), "30d")?,
            hash_cost: hash_cost(global, &file),
            settings_ttl: duration(self.settings_ttl.clone(), file.settings_ttl.clone(), "1s")?,
            account_cache_ttl: duration(self.account_cache_ttl.clone(), file.account_cache_ttl.clone(), "1s")?,
            alerts: self.alert_policy(&file)?,
            local_host_env: self
                .demo
                .then(|| (PlatformId::parse(crate::demo::PLATFORM_ID).expect("valid id"), EnvKind::Staging)),
            ..CoreConfig::default()
        };
        let settings = ServerSettings {
            listen: pick(self.listen, file.listen, "127.0.0.1:8080".parse().expect("valid address")),
            database_url: database_url(global, &file)?,
            db_max_connections: pick(self.db_max_connections, file.db_max_connections, 8).max(1),
            db_acquire_timeout: duration(self.db_acquire_timeout.clone(), file.db_acquire_timeout.clone(), "5s")?,
            db_statement_timeout: Some(duration(
                self.db_statement_timeout.clone(),
                file.db_statement_timeout.clone(),
                "5s",
            )?),
            core,
            default_rate_limit: pick(self.rate_limit, file.rate_limit, 300).max(1),
            shutdown_timeout: duration(self.shutdown_timeout.clone(), file.shutdown_timeout.clone(), "10s")?,
            usage_flush_interval: duration(self.usage_flush_interval.clone(), file.usage_flush_interval.clone(), "5s")?
                .max(Duration::from_millis(100)),
            alert_webhook: self.alert_webhook(&file)?,
            metrics_token: self.metrics_token(&file)?,
            demo_vendor: None,
            redis_url: self.redis_url.clone().or_else(|| file.redis_url.clone()),
        };
        Ok((settings, log_format))
    }
}

impl ServeArgs {
    fn alert_policy(&self, file: &FileSettings) -> CliResult<AlertPolicy> {
        let d = AlertPolicy::default();
        let policy = AlertPolicy {
            volume_factor: pick(self.alert_volume_factor, file.alert_volume_factor, d.volume_factor),
            volume_min: pick(self.alert_volume_min, file.alert_volume_min, d.volume_min),
            error_share: pick(self.alert_error_share, file.alert_error_share, d.error_share),
            error_min: pick(self.alert_error_min, file.alert_error_min, d.error_min),
            ..d
        };
        if !(policy.volume_factor > 0.0 && (0.0..=1.0).contains(&policy.error_share) && policy.volume_min >= 1 && policy.error_min >= 1) {
            return Err(CliError::new(
                "config",
                "alert thresholds: factor > 0, share within 0..1, minimums at least 1",
            ));
        }
        Ok(policy)
    }

    fn metrics_token(&self, file: &FileSettings) -> CliResult<Option<Secret>> {
        let token = match (
            self.metrics_token.clone().or_else(|| file.metrics_token.clone()),
            std::env::var("ONRAMP_METRICS_TOKEN_FILE"),
        ) {
            (Some(t), _) => t,
            (None, Ok(path)) => std::fs::read_to_string(&path)
                .map_err(|e| CliError::new("config", format!("cannot read {path}: {e}")))?
                .trim()
                .to_owned(),
            (None, Err(_)) => return Ok(None),
        };
        if token.len() < 16 {
            return Err(CliError::new("config", "metrics_token must be at least 16 characters"));
        }
        Ok(Some(Secret::new(token)))
    }

    fn alert_webhook(&self, file: &FileSettings) -> CliResult<Option<(String, Secret)>> {
        let Some(url) = self.alert_webhook_url.clone().or_else(|| file.alert_webhook_url.clone()) else {
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(CliError::new("config", "alert_webhook_url must be an http:// or https:// URL"));
        }
        let secret = match (
            self.alert_webhook_secret.clone().or_else(|| file.alert_webhook_secret.clone()),
            std::env::var("ONRAMP_ALERT_WEBHOOK_SECRET_FILE"),
        ) {
            (Some(s), _) => s,
            (None, Ok(path)) => std::fs::read_to_string(&path)
                .map_err(|e| CliError::new("config", format!("cannot read {path}: {e}")))?
                .trim()
                .to_owned(),
            (None, Err(_)) => {
                return Err(CliError::new(
                    "config",
                    "alert_webhook_url needs alert_webhook_secret (or ONRAMP_ALERT_WEBHOOK_SECRET_FILE) to sign deliveries",
                ));
            }
        };
        if secret.len() < 16 {
            return Err(CliError::new("config", "alert_webhook_secret must be at least 16 characters"));
        }
        Ok(Some((url, Secret::new(secret))))
    }
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(mut settings: ServerSettings, demo: bool, data_dir_hint: Option<std::path::PathBuf>) -> CliResult {
    let (store, core) = crate::startup::open_core(&settings)
        .await
        .map_err(|e| CliError::new("unavailable", e))?;
    if demo {
        settings.demo_vendor = crate::demo::ensure(&core, data_dir_hint.as_deref(), settings.listen.port()).await?;
    }
    let running = crate::startup::start_with(settings, store, core)
        .await
        .map_err(|e| CliError::new("listen", e))?;
    tracing::info!(address = %running.addr, "onramp is listening");
    eprintln!("onramp listening on http://{}", running.addr);
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
