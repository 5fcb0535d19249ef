//! `onramp backup <file>`: a consistent online copy of the SQLite database.

use std::path::PathBuf;

use serde_json::json;

use super::context::{CliError, CliResult, Ctx};
use super::output::emit;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy (must not exist yet)
    pub file: PathBuf,
}

pub async fn run(ctx: &Ctx, args: BackupArgs) -> CliResult {
    ctx.store
        .backup_to(&args.file)
        .await
        .map_err(|e| CliError::new("backup_failed", e.to_string()))?;
    let bytes = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let doc = json!({ "status": "ok", "file": args.file.display().to_string(), "bytes": bytes });
    emit(ctx.json, &doc, || {
        format!(
            "backup written to {} ({bytes} bytes); restore by serving it with --database-url sqlite://<file>",
            args.file.display()
        )
    });
    Ok(())
}
