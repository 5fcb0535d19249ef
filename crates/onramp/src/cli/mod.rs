//! The command line: one module per subcommand.

pub mod audit;
pub mod backup;
pub mod client_secret;
pub mod context;
pub mod copy;
pub mod debug;
pub mod instance;
pub mod key;
pub mod migrate;
pub mod operator;
pub mod output;
pub mod partner;
pub mod scim_token;
pub mod serve;
pub mod service_user;
pub mod signing_key;
pub mod usage;
pub mod webhook;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use onramp_domain::infra::hashing::HashCost;
use secrecy::SecretString;

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

/// Options every subcommand accepts. The settings among them are declared
/// here once, like the server's in `ServeArgs` (see [`crate::config`]).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory of the embedded SQLite database
    #[arg(long, global = true, env = "ONRAMP_DATA_DIR", value_name = "DIR", default_value = "./onramp-data")]
    pub data_dir: PathBuf,
    /// Database URL (sqlite://path, or postgres://user@host/db for PostgreSQL); takes precedence over --data-dir [default: none, SQLite in the data dir]
    #[arg(long, global = true, env = "ONRAMP_DATABASE_URL", hide_env_values = true, value_name = "URL", value_parser = crate::config::parse_secret)]
    pub database_url: Option<SecretString>,
    /// File holding the master key (32 bytes, base64) that seals signing keys and stored responses; required with PostgreSQL, the same file on every node [default: master.key in the data dir, generated on first start; SQLite only]
    #[arg(long, global = true, env = "ONRAMP_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// TOML configuration file (keys as the long flags, in snake_case) [default: none]
    #[arg(long, global = true, env = "ONRAMP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print exactly one JSON document on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// argon2id memory cost in KiB
    #[arg(long, global = true, env = "ONRAMP_HASH_MEMORY_KIB", value_name = "KIB", default_value_t = HashCost::default().memory_kib)]
    pub hash_memory_kib: u32,
    /// argon2id iterations
    #[arg(long, global = true, env = "ONRAMP_HASH_ITERATIONS", value_name = "N", default_value_t = HashCost::default().iterations)]
    pub hash_iterations: u32,
    /// argon2id parallelism
    #[arg(long, global = true, env = "ONRAMP_HASH_PARALLELISM", value_name = "N", default_value_t = HashCost::default().parallelism)]
    pub hash_parallelism: u32,
    /// Let webhook endpoints target loopback, private, link-local and other non-public addresses (receivers on this machine or network: tests, demos); never on a server that takes endpoints from partners it does not trust [default: off, public internet addresses only]
    #[arg(long, global = true, env = "ONRAMP_WEBHOOK_ALLOW_PRIVATE_TARGETS", value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private_targets: bool,
}

impl GlobalArgs {
    /// The target policy of webhook endpoints these settings give.
    pub fn webhook_targets(&self) -> onramp_domain::webhooks::target::TargetPolicy {
        onramp_domain::webhooks::target::TargetPolicy {
            allow_private: self.webhook_allow_private_targets,
            ..Default::default()
        }
    }
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
    /// Manage operators: the people who sign in to the console (--admin-listen)
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
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
    /// Manage webhook endpoints (where lifecycle events are sent)
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Manage SCIM tokens (what Okta or Entra provision accounts with)
    #[command(subcommand, name = "scim-token")]
    ScimToken(scim_token::ScimTokenCommand),
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
