//! The command line: one module per subcommand.

pub mod audit;
pub mod backup;
pub mod context;
pub mod copy;
pub mod debug;
pub mod instance;
pub mod key;
pub mod migrate;
pub mod output;
pub mod partner;
pub mod serve;
pub mod service_user;
pub mod signing_key;
pub mod usage;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Onramp: account provisioning and partner integration server.
///
/// Operator commands work directly on the server's database, print
/// human-readable output, and with --json exactly one JSON document.
#[derive(Debug, Parser)]
#[command(name = "onramp", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory of the embedded SQLite database [default: ./onramp-data]
    #[arg(long, global = true, env = "ONRAMP_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://path); takes precedence over --data-dir
    #[arg(long, global = true, env = "ONRAMP_DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// TOML configuration file (keys as the long flags, in snake_case)
    #[arg(long, global = true, env = "ONRAMP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print exactly one JSON document on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// argon2id memory cost in KiB [default: 19456]
    #[arg(long, global = true, env = "ONRAMP_HASH_MEMORY_KIB", value_name = "KIB")]
    pub hash_memory_kib: Option<u32>,
    /// argon2id iterations [default: 2]
    #[arg(long, global = true, env = "ONRAMP_HASH_ITERATIONS", value_name = "N")]
    pub hash_iterations: Option<u32>,
    /// argon2id parallelism [default: 1]
    #[arg(long, global = true, env = "ONRAMP_HASH_PARALLELISM", value_name = "N")]
    pub hash_parallelism: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server
    Serve(Box<serve::ServeArgs>),
    /// Apply pending database migrations and exit
    Migrate,
    /// Manage platform instances
    #[command(subcommand)]
    Instance(instance::InstanceCommand),
    /// Manage service users
    #[command(subcommand, name = "service-user")]
    ServiceUser(service_user::ServiceUserCommand),
    /// Manage partners (partner provisioning API)
    #[command(subcommand)]
    Partner(partner::PartnerCommand),
    /// Manage partner API keys
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Manage JWT signing keys
    #[command(subcommand, name = "signing-key")]
    SigningKey(signing_key::SigningKeyCommand),
    /// Show a partner's API usage as a table
    Usage(usage::UsageArgs),
    /// Usage alerts
    #[command(subcommand)]
    Alerts(usage::AlertsCommand),
    /// Copy a whole deployment to another database (SQLite ⇄ PostgreSQL)
    Copy(copy::CopyArgs),
    /// Write a consistent copy of the SQLite database while the server runs
    Backup(backup::BackupArgs),
    /// Read the audit log
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Diagnostics for operators and benchmarks
    #[command(subcommand, hide = true)]
    Debug(debug::DebugCommand),
}
