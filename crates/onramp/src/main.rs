//! `onramp`: parse the command line, set up logging, run the subcommand.

use std::process::ExitCode;

use onramp::cli::context::{CliResult, Ctx, hash_cost};
use onramp::cli::serve::LogFormat;
use onramp::cli::{
    Cli, Command, audit, backup, copy, debug, instance, key, migrate, operator, partner, scim_token, service_user, signing_key, usage,
    webhook,
};
use onramp::config::warn_unknown_env;
use tracing_subscriber::EnvFilter;

fn init_logging(format: LogFormat, default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Pretty => builder.compact().init(),
    }
}

async fn run(cli: Cli) -> CliResult {
    let global = cli.global;
    match cli.command {
        Command::Serve(args) => {
            // Logging first: settings may warn (a data dir narrowed to 0700).
            init_logging(args.log_format, "info");
            let settings = args.settings(&global)?;
            warn_unknown_env();
            onramp::cli::serve::run(settings, args.demo, Some(global.data_dir)).await
        }
        Command::Copy(args) => {
            init_logging(LogFormat::Pretty, "warn");
            copy::run(global.json, args).await
        }
        Command::Debug(cmd) => debug::run(global.json, hash_cost(&global), cmd),
        command => {
            init_logging(LogFormat::Pretty, "warn");
            warn_unknown_env();
            let ctx = Ctx::open(&global).await?;
            let result = match command {
                Command::Migrate => migrate::run(&ctx).await,
                Command::Instance(cmd) => instance::run(&ctx, cmd).await,
                Command::ServiceUser(cmd) => service_user::run(&ctx, cmd).await,
                Command::Operator(cmd) => operator::run(&ctx, cmd).await,
                Command::ScimToken(cmd) => scim_token::run(&ctx, cmd).await,
                Command::SigningKey(cmd) => signing_key::run(&ctx, cmd).await,
                Command::Audit(cmd) => audit::run(&ctx, cmd).await,
                Command::Partner(cmd) => partner::run(&ctx, cmd).await,
                Command::Key(cmd) => key::run(&ctx, cmd).await,
                Command::Usage(args) => usage::usage(&ctx, args).await,
                Command::Backup(args) => backup::run(&ctx, args).await,
                Command::Alerts(cmd) => usage::alerts(&ctx, cmd).await,
                Command::Webhook(cmd) => webhook::run(&ctx, cmd).await,
                Command::Serve(_) | Command::Debug(_) | Command::Copy(_) => unreachable!("handled above"),
            };
            ctx.store.close().await;
            result
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // The first parse answers --help and usage errors; the second adds the
    // config file and `_FILE` variables (see `onramp::config`).
    let first = onramp::config::command().get_matches();
    let json = first.get_flag("json");
    let result = match onramp::config::resolve(&first, std::env::args_os().collect()) {
        Ok(cli) => run(cli).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                println!("{}", serde_json::json!({ "error": { "code": e.code, "message": e.message } }));
            }
            eprintln!("error: {}", e.message);
            ExitCode::FAILURE
        }
    }
}
