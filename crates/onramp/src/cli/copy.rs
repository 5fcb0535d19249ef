//! `onramp copy --from <url> --to <url>`: moves a whole deployment between
//! SQLite and PostgreSQL (every table, credential hashes and signing keys).

use std::io::Write;
use std::time::Duration;

use serde_json::json;

use super::context::{CliError, CliResult, open_store};
use super::output::{emit, table};

#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    /// Source database URL (sqlite://path or postgres://user@host/db)
    #[arg(long)]
    pub from: String,
    /// Target database URL; migrated first, and it must be empty unless --force
    #[arg(long)]
    pub to: String,
    /// Copy into a non-empty target, keeping the rows it already has
    #[arg(long)]
    pub force: bool,
}

pub async fn run(json: bool, args: CopyArgs) -> CliResult {
    let source = open_store(&args.from, 2, Duration::from_secs(10)).await?;
    let target = open_store(&args.to, 2, Duration::from_secs(10)).await?;
    let fail = |e: onramp_domain::store::StoreError| CliError::new("copy_failed", e.to_string());
    if !args.force && !target.is_empty().await.map_err(fail)? {
        return Err(CliError::new(
            "target_not_empty",
            "the target already holds data; use --force to copy into it anyway",
        ));
    }
    let progress = |table: &str, done: usize, total: usize| {
        let width = 30;
        let filled = (done * width).checked_div(total).unwrap_or(width);
        eprint!(
            "\r{table:<18} [{}{}] {done}/{total}",
            "#".repeat(filled),
            ".".repeat(width - filled)
        );
        if done == total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    };
    let report = source.copy_into(&target, args.force, &progress).await.map_err(fail)?;
    source.close().await;
    target.close().await;
    let tables: Vec<_> = report
        .iter()
        .map(|t| json!({ "table": t.table, "source_rows": t.source_rows, "target_rows": t.target_rows }))
        .collect();
    let rows: Vec<Vec<String>> = report
        .iter()
        .map(|t| vec![t.table.to_owned(), t.source_rows.to_string(), t.target_rows.to_string()])
        .collect();
    emit(json, &json!({ "status": "ok", "tables": tables }), || {
        format!("copied; row counts verified:\n{}", table(&["TABLE", "SOURCE", "TARGET"], &rows))
    });
    Ok(())
}
