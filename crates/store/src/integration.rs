//! Row mapping for vendor apps, grants and authorization codes.

use onramp_domain::integration::{AuthCode, Grant, VendorApp};
use onramp_domain::store::StoreError;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::map_err;

type R<T> = Result<T, StoreError>;

fn json_list(row: &AnyRow, col: &str) -> R<Vec<String>> {
    let text: String = row.try_get(col).map_err(map_err)?;
    serde_json::from_str(&text).map_err(|e| StoreError::other(format!("column {col}: {e}")))
}

pub fn vendor_app(row: &AnyRow) -> R<VendorApp> {
    Ok(VendorApp {
        id: row.try_get("id").map_err(map_err)?,
        env_id: row.try_get("env_id").map_err(map_err)?,
        account_id: row.try_get("account_id").map_err(map_err)?,
        name: row.try_get("name").map_err(map_err)?,
        origins: json_list(row, "origins")?,
        key_id: row.try_get("key_id").map_err(map_err)?,
        key_hash: row.try_get("key_hash").map_err(map_err)?,
        key_created_at: row.try_get("key_created_at").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

pub fn grant(row: &AnyRow) -> R<Grant> {
    Ok(Grant {
        env_id: row.try_get("env_id").map_err(map_err)?,
        account_id: row.try_get("account_id").map_err(map_err)?,
        app_id: row.try_get("app_id").map_err(map_err)?,
        scopes: json_list(row, "scopes")?,
        granted_at: row.try_get("granted_at").map_err(map_err)?,
    })
}

pub fn auth_code(row: &AnyRow) -> R<AuthCode> {
    Ok(AuthCode {
        code_hash: row.try_get("code_hash").map_err(map_err)?,
        env_id: row.try_get("env_id").map_err(map_err)?,
        app_id: row.try_get("app_id").map_err(map_err)?,
        account_id: row.try_get("account_id").map_err(map_err)?,
        code_challenge: row.try_get("code_challenge").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        expires_at: row.try_get("expires_at").map_err(map_err)?,
    })
}
