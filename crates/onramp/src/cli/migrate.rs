//! `onramp migrate`

use serde_json::json;

use super::context::{CliError, CliResult, Ctx};
use super::output::emit;

pub async fn run(ctx: &Ctx) -> CliResult {
    let versions = ctx
        .store
        .migrate()
        .await
        .map_err(|e| CliError::new("migration_failed", e.to_string()))?;
    emit(ctx.json, &json!({ "status": "ok", "migrations": versions }), || {
        format!("database is up to date ({} migrations applied)", versions.len())
    });
    Ok(())
}
