//! Webhook endpoints over HTTP and the CLI: management by service users
//! (the environment's own) and partners (their own), secrets shown once and
//! stored sealed, the target policy, and the operator commands.

use std::net::IpAddr;
use std::sync::Arc;

use onramp::startup::ServerSettings;
use onramp_domain::webhooks::target::{Resolver, SystemResolver};
use serde_json::Value;

use crate::helpers::*;

mod cli;
mod crash;
pub(crate) mod delivery;
mod endpoints;
mod partners;
mod targets;

/// A public address for hosts that must pass the policy (no DNS needed).
const PUBLIC_IP: &str = "93.184.215.14";
/// A URL that passes the policy in every environment.
const PUBLIC_URL: &str = "https://hooks.example.com/onramp";

/// Answers a few names without DNS; everything else (`localhost`) goes to
/// the system's resolver, as on a real server.
#[derive(Debug)]
struct TestResolver;

#[async_trait::async_trait]
impl Resolver for TestResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        let ips = |list: &[&str]| list.iter().map(|ip| ip.parse().expect("an address")).collect();
        match host {
            "hooks.example.com" | "other.example.com" => Ok(ips(&[PUBLIC_IP])),
            // One private address among public ones is enough to refuse.
            "internal.example.com" => Ok(ips(&[PUBLIC_IP, "10.0.0.7"])),
            "nowhere.example.com" => Err(std::io::Error::other("NXDOMAIN")),
            _ => SystemResolver.resolve(host, port).await,
        }
    }
}

/// The server tweak of these tests: the test resolver, the default policy.
fn test_resolver(settings: &mut ServerSettings) {
    settings.core.webhook_targets.resolver = Arc::new(TestResolver);
}

/// The server tweak of `--webhook-allow-private-targets`.
pub(crate) fn allowing_private_targets(settings: &mut ServerSettings) {
    test_resolver(settings);
    settings.core.webhook_targets.allow_private = true;
}

/// The sorted keys of a JSON object.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// The key bytes of a `whsec_` secret, asserting its shape.
#[track_caller]
fn secret_key(secret: &Value) -> Vec<u8> {
    use base64::Engine as _;
    let text = secret.as_str().expect("a secret");
    let encoded = text.strip_prefix("whsec_").unwrap_or_else(|| panic!("{text} lacks whsec_"));
    let key = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64");
    assert_eq!(key.len(), 32, "{text}");
    key
}

/// The audit events of webhook endpoints so far, oldest first.
async fn endpoint_audit(server: &TestServer) -> Vec<onramp_domain::audit::AuditEvent> {
    let filter = onramp_domain::audit::AuditFilter {
        limit: 500,
        ..Default::default()
    };
    let mut events = server.core.audit().events(&filter).await.unwrap();
    events.retain(|e| e.action.starts_with("webhook_endpoint."));
    events.reverse();
    events
}

/// Every event of the staging feed of `acme`.
async fn feed(service: &Api) -> Vec<Value> {
    let r = service.get("/v1/events?limit=200").await;
    r.expect(200);
    r.json["data"].as_array().expect("data").clone()
}
