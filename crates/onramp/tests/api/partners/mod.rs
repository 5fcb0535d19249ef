//! The partner provisioning API (`x-api-key`, camelCase): creating accounts
//! with one-time sign-in links, managing the partner's own accounts, key
//! authentication, approval, scopes, idempotency, rotation, the `partner` and
//! `key` CLI commands, and audit events.

use std::time::Duration;

use onramp_domain::audit::Actor;
use onramp_domain::audit::AuditFilter;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::EnvKind;
use onramp_domain::tenancy::service::InstanceChanges;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

mod access;
mod accounts;
mod create;
mod keys;
mod operations;

const APP_LINK: &str = "https://app.acme.example/tokenauth.html?token=";
const DEFAULT_REDIRECT: &str = "&redirect=%2Fadmin%2Fpurchase-plan";
const CREATE_PATHS: [&str; 2] = ["/v1/partners/create", "/v1/partners/accounts"];

/// Checks a sign-in link URL of the shape `{before}<token>{after}`; returns the token.
#[track_caller]
fn link_token(url: &str, before: &str, after: &str) -> String {
    assert!(url.starts_with(before), "{url} should start with {before}");
    let rest = &url[before.len()..];
    assert!(rest.ends_with(after), "{url} should end with {after}");
    let token = &rest[..rest.len() - after.len()];
    let random = token
        .strip_prefix("onr_link_")
        .unwrap_or_else(|| panic!("token {token:?} in {url} should start with onr_link_"));
    assert!(random.len() >= 32, "a long random token: {token}");
    assert!(random.bytes().all(|b| b.is_ascii_alphanumeric()), "a URL-safe token: {token}");
    token.to_owned()
}

/// Checks the `data` of a link response (exactly accountId, completePurchaseUrl,
/// expiresAt, the link expiring in about `ttl_secs`); returns the token.
#[track_caller]
fn check_link_data(data: &Value, before: &str, after: &str, ttl_secs: i64) -> String {
    let keys: Vec<&str> = data.as_object().expect("data object").keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["accountId", "completePurchaseUrl", "expiresAt"], "{data}");
    let id = data["accountId"].as_str().expect("accountId");
    uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("accountId {id} is not a UUID: {e}"));
    let expires = parse_rfc3339(data["expiresAt"].as_str().expect("expiresAt")).unix_timestamp();
    let expected = now_secs() + ttl_secs;
    assert!(
        (expected - 10..=expected + 2).contains(&expires),
        "expiresAt {} should be about {ttl_secs} s from now",
        data["expiresAt"]
    );
    link_token(data["completePurchaseUrl"].as_str().expect("completePurchaseUrl"), before, after)
}

#[track_caller]
fn account_id(data: &Value) -> String {
    data["accountId"].as_str().expect("accountId").to_owned()
}

#[track_caller]
fn assert_api_key_challenge(r: &Resp) {
    r.problem(401, "unauthenticated");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("ApiKey"),
        "WWW-Authenticate should name ApiKey: {challenge:?}"
    );
}

/// Waits until the settings cache has picked up a feature change.
async fn settings_reloaded(w: &PartnerWorld) {
    tokio::time::sleep(w.server.settings.core.settings_ttl + Duration::from_millis(150)).await;
}

// ------------------------------------------------------------ rotation

/// Seconds since the Unix epoch of an RFC 3339 timestamp.
fn unix_secs(v: &Value) -> i64 {
    parse_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"))).unix_timestamp()
}

// ------------------------------------------------------------ CLI

#[track_caller]
fn cli_fails_with(run: &CliRun, code: &str) {
    assert!(!run.success, "should have failed: {}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], code, "{doc}");
}
