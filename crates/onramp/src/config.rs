//! Settings: defaults, then an optional TOML file, then `ONRAMP_*`
//! environment variables, then flags (clap reads the last two).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Every `ONRAMP_*` variable the server reads; others earn a warning.
pub const KNOWN_ENV: &[&str] = &[
    "ONRAMP_CONFIG",
    "ONRAMP_DATA_DIR",
    "ONRAMP_DATABASE_URL",
    "ONRAMP_DATABASE_URL_FILE",
    "ONRAMP_LISTEN",
    "ONRAMP_BASE_DOMAIN",
    "ONRAMP_DEMO",
    "ONRAMP_LOG_FORMAT",
    "ONRAMP_HASH_MEMORY_KIB",
    "ONRAMP_HASH_ITERATIONS",
    "ONRAMP_HASH_PARALLELISM",
    "ONRAMP_TOKEN_TTL",
    "ONRAMP_SESSION_TTL",
    "ONRAMP_RATE_LIMIT",
    "ONRAMP_DB_MAX_CONNECTIONS",
    "ONRAMP_DB_ACQUIRE_TIMEOUT",
    "ONRAMP_DB_STATEMENT_TIMEOUT",
    "ONRAMP_SHUTDOWN_TIMEOUT",
    "ONRAMP_SETTINGS_TTL",
    "ONRAMP_ACCOUNT_CACHE_TTL",
    "ONRAMP_USAGE_FLUSH_INTERVAL",
    "ONRAMP_ALERT_WEBHOOK_URL",
    "ONRAMP_ALERT_WEBHOOK_SECRET",
    "ONRAMP_ALERT_WEBHOOK_SECRET_FILE",
    "ONRAMP_ALERT_VOLUME_FACTOR",
    "ONRAMP_ALERT_VOLUME_MIN",
    "ONRAMP_ALERT_ERROR_SHARE",
    "ONRAMP_ALERT_ERROR_MIN",
    "ONRAMP_METRICS_TOKEN",
    "ONRAMP_METRICS_TOKEN_FILE",
    "ONRAMP_REDIS_URL",
];

/// The optional TOML file: the same settings as the flags, in snake_case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<SocketAddr>,
    pub base_domain: Option<String>,
    pub log_format: Option<String>,
    pub hash_memory_kib: Option<u32>,
    pub hash_iterations: Option<u32>,
    pub hash_parallelism: Option<u32>,
    pub token_ttl: Option<String>,
    pub session_ttl: Option<String>,
    pub rate_limit: Option<u32>,
    pub db_max_connections: Option<u32>,
    pub db_acquire_timeout: Option<String>,
    pub db_statement_timeout: Option<String>,
    pub shutdown_timeout: Option<String>,
    pub settings_ttl: Option<String>,
    pub account_cache_ttl: Option<String>,
    pub usage_flush_interval: Option<String>,
    pub alert_webhook_url: Option<String>,
    pub alert_webhook_secret: Option<String>,
    pub alert_volume_factor: Option<f64>,
    pub alert_volume_min: Option<i64>,
    pub alert_error_share: Option<f64>,
    pub alert_error_min: Option<i64>,
    pub metrics_token: Option<String>,
    pub redis_url: Option<String>,
}

impl FileSettings {
    /// Reads the TOML file, if one is named.
    ///
    /// # Errors
    /// A message naming the file and what is wrong with it.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let Some(path) = path else { return Ok(Self::default()) };
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("invalid config file {}: {e}", path.display()))
    }
}

/// Parses `90`, `90s`, `15m`, `2h` or `30d`.
///
/// # Errors
/// A message describing the accepted forms.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration like 90s, 15m, 2h or 30d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("`{raw}` has an unknown unit; use s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

/// Warns about `ONRAMP_*` variables nobody reads (likely typos).
pub fn warn_unknown_env() {
    for (name, _) in std::env::vars() {
        if name.starts_with("ONRAMP_") && !KNOWN_ENV.contains(&name.as_str()) && !name.starts_with("ONRAMP_TEST_") {
            tracing::warn!(variable = %name, "unknown ONRAMP_ environment variable is ignored");
        }
    }
}

/// Picks the first value that is set: flag/env, file, default.
pub fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("30d").unwrap(), Duration::from_secs(2_592_000));
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn file_rejects_unknown_keys() {
        assert!(toml::from_str::<FileSettings>("listen = \"127.0.0.1:1\"\nbogus = 1").is_err());
        let ok: FileSettings = toml::from_str("listen = \"127.0.0.1:9000\"\ntoken_ttl = \"5m\"").unwrap();
        assert_eq!(ok.listen.unwrap().port(), 9000);
    }
}
