//! `/Users`: accounts as SCIM User resources (RFC 7643 §4.1). `id` is the
//! account id, so a person is the same resource in every API; `userName`
//! is the account's email, mirrored by the primary `emails` entry.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::accounts::Account;
use onramp_domain::clock::rfc3339;
use onramp_domain::ids::AccountId;
use serde_json::{Value, json};

use super::{BASE, MEDIA_TYPE, ScimCaller};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// A User by id.
pub async fn get_user(State(state): State<AppState>, caller: ScimCaller, Path(id): Path<String>) -> ApiResult<Response> {
    let not_found = || ApiError::new(ErrorCode::NotFound, format!("no User with id `{id}`"));
    let id = AccountId::parse("id", &id).map_err(|_| not_found())?;
    let account = match state.core.accounts().account(&caller.tenant, &id).await {
        Ok(account) => account,
        Err(onramp_domain::DomainError::UserNotFound | onramp_domain::DomainError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    Ok(resource(&state.core.tenancy().issuer(&caller.tenant), &account))
}

/// The weak ETag of an account's current version.
fn version(account: &Account) -> String {
    format!("W/\"{}\"", account.updated_at)
}

/// The account as a SCIM User, with `ETag` and the SCIM media type.
fn resource(origin: &str, account: &Account) -> Response {
    let body = user(origin, account);
    let mut response = axum::Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    if let Ok(etag) = HeaderValue::from_str(&version(account)) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// The User resource of an account; `origin` is the environment's API
/// origin (`https://api…`), for `meta.location`.
pub fn user(origin: &str, account: &Account) -> Value {
    let location = format!("{origin}{BASE}/Users/{}", account.id);
    json!({
        "schemas": [USER_SCHEMA],
        "id": account.id,
        "userName": account.email,
        "name": {
            "givenName": account.name.first_name,
            "familyName": account.name.last_name,
        },
        "emails": [{ "value": account.email, "type": "work", "primary": true }],
        "active": account.active,
        "meta": {
            "resourceType": "User",
            "created": rfc3339(account.created_at),
            "lastModified": rfc3339(account.updated_at),
            "location": location,
            "version": version(account),
        },
    })
}
